/**
 * Suppression rules: mute the alerts of a type, from a source network, to a destination network,
 * or any mix of them, until a time, with a reason. A muted alert is still stored (nothing is
 * lost) but marked, not notified and hidden from the default list. Removing a rule marks it
 * removed: the record of who muted what, and why, stays. Matching is the alert center's job.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Database, SuppressionRulesTable } from './schema.js';

export interface SuppressionRule {
  id: number;
  /** null: any type. */
  type: string | null;
  /** An address or CIDR network; null: any. */
  src: string | null;
  dst: string | null;
  reason: string;
  createdBy: string;
  /** Epoch milliseconds. */
  createdAt: number;
  expiresAt: number;
  removedBy: string | null;
  removedAt: number | null;
}

export type NewSuppressionRule = Pick<SuppressionRule, 'type' | 'src' | 'dst' | 'reason' | 'expiresAt'>;

export class SuppressionRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(rule: NewSuppressionRule, by: string, now: number): Promise<SuppressionRule> {
    const row = await this.db
      .insertInto('suppression_rules')
      .values({
        alert_type: rule.type,
        src: rule.src,
        dst: rule.dst,
        reason: rule.reason,
        created_by: by,
        created_at: now,
        expires_at: rule.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return ruleOf(row);
  }

  /** Rules in force at `now` (not removed, not expired). */
  async active(now: number): Promise<SuppressionRule[]> {
    const rows = await this.db
      .selectFrom('suppression_rules')
      .selectAll()
      .where('removed_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('id')
      .execute();
    return rows.map(ruleOf);
  }

  /** Every rule, newest first, the ended ones included (at most `limit`). */
  async list(limit = 500): Promise<SuppressionRule[]> {
    const rows = await this.db
      .selectFrom('suppression_rules')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(ruleOf);
  }

  async findById(id: number): Promise<SuppressionRule | null> {
    const row = await this.db
      .selectFrom('suppression_rules')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? ruleOf(row) : null;
  }

  /** Ends the rule now; NOT_FOUND for an unknown id, CONFLICT when it was removed already. */
  async remove(id: number, by: string, now: number): Promise<SuppressionRule> {
    const current = await this.findById(id);
    if (!current) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no suppression rule with id ${id}`);
    if (current.removedAt !== null) {
      throw new FlowTrackError(ErrorCode.CONFLICT, `suppression rule ${id} was removed already`);
    }
    await this.db
      .updateTable('suppression_rules')
      .set({ removed_by: by, removed_at: now })
      .where('id', '=', id)
      .execute();
    return { ...current, removedBy: by, removedAt: now };
  }
}

function ruleOf(row: Selectable<SuppressionRulesTable>): SuppressionRule {
  return {
    id: row.id,
    type: row.alert_type,
    src: row.src,
    dst: row.dst,
    reason: row.reason,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    removedBy: row.removed_by,
    removedAt: row.removed_at === null ? null : row.removed_at,
  };
}
