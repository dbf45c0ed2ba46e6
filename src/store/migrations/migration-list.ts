/**
 * Every migration in order, listed by hand: the build copies no folders into dist/, so nothing
 * scans the file system for them. Names sort in the order they apply and never change; the
 * schema version is the number at the start of the last one applied.
 */

import { initialMigration } from './0001-initial.js';
import { apiQueryIndexesMigration } from './0002-api-query-indexes.js';
import { rollupTotalsMigration } from './0003-rollup-totals.js';
import { firewallRulesMigration } from './0004-firewall-rules.js';
import { portRollupsMigration } from './0005-port-rollups.js';
import { scansMigration } from './0006-scans.js';
import { hostHealthMigration } from './0007-host-health.js';
import { alertLifecycleMigration } from './0008-alert-lifecycle.js';
import { sensorsMigration } from './0009-sensors.js';
import type { StoreMigration } from './store-migration.js';

export const MIGRATIONS: Readonly<Record<string, StoreMigration>> = {
  '0001-initial': initialMigration,
  '0002-api-query-indexes': apiQueryIndexesMigration,
  '0003-rollup-totals': rollupTotalsMigration,
  '0004-firewall-rules': firewallRulesMigration,
  '0005-port-rollups': portRollupsMigration,
  '0006-scans': scansMigration,
  '0007-host-health': hostHealthMigration,
  '0008-alert-lifecycle': alertLifecycleMigration,
  '0009-sensors': sensorsMigration,
};

/** The schema version a migration leaves: the number its name starts with ("0001-initial" is 1). */
export function versionOfMigration(name: string): number {
  return Number.parseInt(name, 10);
}

/** The schema version this build writes: the number of its newest migration. */
export const LATEST_SCHEMA_VERSION = Math.max(0, ...Object.keys(MIGRATIONS).map(versionOfMigration));
