/**
 * The bus settings of the configuration as the bus layer takes them: the NATS servers and the
 * credentials (a user and the password read from its file, an nkey seed file, or a .creds file).
 * The password is read here, once, and never logged.
 */

import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { NatsAuth } from '../bus/nats-connection.js';
import type { ServiceConfig } from '../config/service-config.js';
import { describeError, ErrorCode, FlowTrackError } from '../util/errors.js';

export type BusConfig = ServiceConfig['bus'];

/** The servers of `bus.url`, one per comma. */
export function busServers(bus: BusConfig): string[] {
  return bus.url
    .split(',')
    .map((u) => u.trim())
    .filter((u) => u !== '');
}

/** The credentials the configuration names; at most one kind may be given. */
export function busAuth(bus: BusConfig): NatsAuth {
  const given = [bus.passwordFile, bus.nkeySeedFile, bus.credsFile].filter((f) => f !== undefined);
  if (given.length > 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_CONFIG,
      'bus: give one kind of NATS credentials: user with passwordFile, nkeySeedFile or credsFile',
    );
  }
  if (bus.nkeySeedFile !== undefined) return { kind: 'nkey', seedFile: bus.nkeySeedFile };
  if (bus.credsFile !== undefined) return { kind: 'creds', file: bus.credsFile };
  if (bus.passwordFile !== undefined) {
    if (bus.user === '') {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        'bus.passwordFile is given without bus.user: name the NATS user',
      );
    }
    let password: string;
    try {
      password = readFileSync(bus.passwordFile, 'utf8').trim();
    } catch (err) {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        `bus.passwordFile ${bus.passwordFile} cannot be read (${describeError(err)}): give a file holding the NATS password`,
      );
    }
    return { kind: 'userPassword', user: bus.user, password };
  }
  return { kind: 'none' };
}

/** The sensor's name at the hub: `bus.sensorName`, or the host's name made fit for one. */
export function sensorNameOf(bus: BusConfig): string {
  if (bus.sensorName !== '') return bus.sensorName;
  const name = hostname()
    .replace(/[^A-Za-z0-9_-]/g, '-')
    .slice(0, 64);
  return name === '' || name === 'local' ? 'sensor' : name;
}
