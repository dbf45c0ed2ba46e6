/**
 * The store of `flowtrack serve`: opens SQLite (a file path, the default) or PostgreSQL (a
 * postgres:// URL), migrates it to this build's schema and hands out the repositories. Callers
 * see only `Store`; the database library each adapter uses stays inside its adapter file.
 * It must never print a password: `location` and every message carry the masked URL.
 */

import type { Kysely } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { AlertRepository } from './alert-repository.js';
import { AuditRepository } from './audit-repository.js';
import { FlowRepository } from './flow-repository.js';
import { HealthRepository } from './health-repository.js';
import { IncidentRepository } from './incident-repository.js';
import { ChannelRepository, DeliveryRepository } from './notification-repository.js';
import { migrateStore, schemaVersionOf } from './migrate-store.js';
import { openPostgresDialect } from './postgres-dialect.js';
import type { Database } from './schema.js';
import { SettingsRepository } from './settings-repository.js';
import { SuppressionRepository } from './suppression-repository.js';
import { FirewallRuleRepository } from './firewall-rule-repository.js';
import { ScanRepository } from './scan-repository.js';
import { SensorRepository } from './sensor-repository.js';
import { openSqliteDialect } from './sqlite-dialect.js';
import type { DialectName, StoreDialect } from './store-dialect.js';
import { StoreRefreshTokenRepository } from './store-refresh-token-repository.js';
import { UserRepository } from './user-repository.js';

/** Where `flowtrack serve` and `flowtrack db` keep their data unless told otherwise. */
export const DEFAULT_STORE_LOCATION = './flowtrack-data/flowtrack.db';

export interface OpenStoreOptions {
  /** Apply pending migrations on open (default true); `flowtrack db migrate` opens without. */
  migrate?: boolean;
  /** Server clock for the times the store stamps by itself (tests pass a fixed one). */
  now?: () => number;
}

export interface Store {
  readonly dialect: DialectName;
  /** The file path, or the URL with its password masked: safe to print. */
  readonly location: string;
  /** For queries no repository offers yet; prefer adding a repository method. */
  readonly db: Kysely<Database>;
  readonly flows: FlowRepository;
  readonly alerts: AlertRepository;
  readonly users: UserRepository;
  readonly refreshTokens: StoreRefreshTokenRepository;
  readonly audit: AuditRepository;
  readonly settings: SettingsRepository;
  readonly firewallRules: FirewallRuleRepository;
  /** The port scanner's runs and reports. */
  readonly scans: ScanRepository;
  /** The host's health samples and their minute rollups. */
  readonly health: HealthRepository;
  /** Rules that mute alerts for a time. */
  readonly suppressions: SuppressionRepository;
  /** Notification channels, and the queue and log of their deliveries. */
  readonly channels: ChannelRepository;
  readonly deliveries: DeliveryRepository;
  /** Incidents, their links and timelines. */
  readonly incidents: IncidentRepository;
  /** The hub's sensors and exporters, and the sensors' batches of flows. */
  readonly sensors: SensorRepository;
  /** The number of the newest migration applied (0 for an empty database). */
  schemaVersion(): Promise<number>;
  /** The database's size on disk (SQLite page_count * page_size, PostgreSQL pg_database_size). */
  sizeBytes(): Promise<number>;
  /** An estimate of the live rows' bytes that goes down when rows are deleted (see retention.ts). */
  dataBytes(): Promise<number>;
  /** Gives deleted rows' space back where the database does not by itself (SQLite). */
  reclaimSpace(): Promise<void>;
  close(): Promise<void>;
}

/** True when `location` names a PostgreSQL database rather than a SQLite file. */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location);
}

/**
 * Opens the store at `location` and (unless `migrate: false`) brings its schema up to date.
 * Fails with STORE_ERROR and a message that says what to do when it cannot.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (location.trim() === '') {
    throw new FlowTrackError(
      ErrorCode.STORE_ERROR,
      'no database given: pass a SQLite file path or a postgres:// URL (--db)',
    );
  }
  const dialect = isPostgresLocation(location)
    ? await openPostgresDialect(location)
    : openSqliteDialect(location);
  const store = storeOf(dialect, options.now ?? Date.now);
  if (options.migrate ?? true) {
    try {
      await migrateStore(store);
    } catch (err) {
      await store.close().catch(() => undefined);
      throw err;
    }
  }
  return store;
}

function storeOf(dialect: StoreDialect, now: () => number): Store {
  const db = dialect.db;
  let closed: Promise<void> | null = null;
  const store: Store = {
    dialect: dialect.name,
    location: dialect.location,
    db,
    flows: new FlowRepository(db, dialect.name),
    alerts: new AlertRepository(db),
    users: new UserRepository(db, (err) => dialect.isUniqueViolation(err)),
    refreshTokens: new StoreRefreshTokenRepository(db, now),
    audit: new AuditRepository(db),
    settings: new SettingsRepository(db),
    firewallRules: new FirewallRuleRepository(db),
    scans: new ScanRepository(db, (err) => dialect.isUniqueViolation(err)),
    health: new HealthRepository(db),
    suppressions: new SuppressionRepository(db),
    channels: new ChannelRepository(db, (err) => dialect.isUniqueViolation(err)),
    deliveries: new DeliveryRepository(db),
    incidents: new IncidentRepository(db),
    sensors: new SensorRepository(db, dialect.name),
    schemaVersion: () => schemaVersionOf(store),
    sizeBytes: () => dialect.sizeBytes(),
    dataBytes: () => dialect.dataBytes(),
    reclaimSpace: () => dialect.reclaimSpace(),
    // Closing twice (a finally block after a failed start) must not fail the second time.
    close: () => (closed ??= dialect.close()),
  };
  return store;
}
