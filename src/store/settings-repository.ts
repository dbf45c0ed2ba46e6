/**
 * Settings an admin changes at run time (thresholds, retention, notification targets), kept as
 * JSON by key with who changed them and when. Validating a value is the caller's job (one schema
 * per setting, in config/); this file only keeps what it is given. Changes are audited by the
 * caller, in audit_events.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Database, SettingsTable } from './schema.js';

export interface SettingRecord {
  key: string;
  value: unknown;
  /** Epoch milliseconds. */
  updatedAt: number;
  updatedBy: string;
}

export class SettingsRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async get(key: string): Promise<SettingRecord | null> {
    const row = await this.db.selectFrom('settings').selectAll().where('key', '=', key).executeTakeFirst();
    return row ? settingOf(row) : null;
  }

  /** Every setting, by key. */
  async list(): Promise<SettingRecord[]> {
    const rows = await this.db.selectFrom('settings').selectAll().orderBy('key').execute();
    return rows.map(settingOf);
  }

  /** Creates or replaces the setting; `value` must survive JSON (no undefined, functions, BigInt). */
  async set(key: string, value: unknown, by: string, now: number): Promise<SettingRecord> {
    // JSON.stringify gives undefined (not a string) for undefined and functions.
    let json: unknown;
    try {
      json = JSON.stringify(value);
    } catch (err) {
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, `setting ${key}: the value cannot be kept as JSON`, {
        cause: err,
      });
    }
    if (typeof json !== 'string') {
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, `setting ${key}: the value cannot be kept as JSON`);
    }
    await this.db
      .insertInto('settings')
      .values({ key, value: json, updated_at: now, updated_by: by })
      .onConflict((oc) =>
        oc.column('key').doUpdateSet((eb) => ({
          value: eb.ref('excluded.value'),
          updated_at: eb.ref('excluded.updated_at'),
          updated_by: eb.ref('excluded.updated_by'),
        })),
      )
      .execute();
    return { key, value: JSON.parse(json) as unknown, updatedAt: now, updatedBy: by };
  }

  /** Removes the setting (its default applies again); true when there was one. */
  async delete(key: string): Promise<boolean> {
    const result = await this.db.deleteFrom('settings').where('key', '=', key).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}

function settingOf(row: Selectable<SettingsTable>): SettingRecord {
  return {
    key: row.key,
    value: JSON.parse(row.value) as unknown,
    updatedAt: row.updated_at,
    updatedBy: row.updated_by,
  };
}
