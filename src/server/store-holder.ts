/**
 * The server's store behind one fixed object, so that a restore can close the database, replace
 * it and open the restored one while every part of the server keeps its reference. Each property
 * reads the current store at the moment it is used; nothing may keep a repository of its own.
 */

import type { Store } from '../store/store.js';

export class StoreHolder implements Store {
  constructor(private current: Store) {}

  /** Puts `next` in place of the current store (which the caller has closed). */
  replace(next: Store): void {
    this.current = next;
  }

  get dialect() {
    return this.current.dialect;
  }
  get location() {
    return this.current.location;
  }
  get db() {
    return this.current.db;
  }
  get flows() {
    return this.current.flows;
  }
  get alerts() {
    return this.current.alerts;
  }
  get users() {
    return this.current.users;
  }
  get refreshTokens() {
    return this.current.refreshTokens;
  }
  get audit() {
    return this.current.audit;
  }
  get scans() {
    return this.current.scans;
  }
  get health() {
    return this.current.health;
  }
  get suppressions() {
    return this.current.suppressions;
  }
  get channels() {
    return this.current.channels;
  }
  get deliveries() {
    return this.current.deliveries;
  }
  get incidents() {
    return this.current.incidents;
  }
  get settings() {
    return this.current.settings;
  }
  get firewallRules() {
    return this.current.firewallRules;
  }
  get sensors() {
    return this.current.sensors;
  }
  schemaVersion(): Promise<number> {
    return this.current.schemaVersion();
  }
  sizeBytes(): Promise<number> {
    return this.current.sizeBytes();
  }
  dataBytes(): Promise<number> {
    return this.current.dataBytes();
  }
  reclaimSpace(): Promise<void> {
    return this.current.reclaimSpace();
  }
  close(): Promise<void> {
    return this.current.close();
  }
}
