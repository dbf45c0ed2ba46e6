/**
 * Firewall rules, as the database keeps them: the truth that respond/ makes the kernel enforce.
 * A rule blocks or allows a source (an address or prefix), or closes or opens a local port,
 * optionally on one interface, until it expires or is lifted. Nothing is deleted: a lifted or
 * expired rule keeps its row with removed_at and removed_by, which is the history the blocking
 * policy escalates by. Values are checked by respond/ before they get here.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Database, FirewallRulesTable } from './schema.js';

export const RULE_KINDS = ['block', 'allow', 'close', 'open'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export interface FirewallRule {
  id: number;
  kind: RuleKind;
  /** block, allow: an address or prefix. */
  source: string | null;
  /** close, open: the local port. */
  protocol: 'tcp' | 'udp' | null;
  port: number | null;
  /** Only packets arriving on this interface; null: any. */
  interface: string | null;
  comment: string | null;
  /** The alert that caused an automatic block. */
  alertId: string | null;
  /** A user name, or 'policy' for the automatic blocking policy. */
  createdBy: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds when the rule ends by itself; null: never. */
  expiresAt: number | null;
  /** Epoch milliseconds when it was lifted or expired; null while in force. */
  removedAt: number | null;
  /** Who lifted it, or 'expired'. */
  removedBy: string | null;
}

export type NewFirewallRule = Omit<FirewallRule, 'id' | 'removedAt' | 'removedBy'>;

/** What an admin may change in a rule in force. */
export interface RuleChange {
  comment?: string | null;
  expiresAt?: number | null;
}

export class FirewallRuleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Rules in force at `now` (not lifted, not expired), oldest first. */
  async active(now: number): Promise<FirewallRule[]> {
    const rows = await this.db
      .selectFrom('firewall_rules')
      .selectAll()
      .where('removed_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
      .orderBy('id')
      .execute();
    return rows.map(ruleOf);
  }

  /** The newest rules, in force or not, newest first. */
  async history(limit: number): Promise<FirewallRule[]> {
    const rows = await this.db
      .selectFrom('firewall_rules')
      .selectAll()
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map(ruleOf);
  }

  async findById(id: number): Promise<FirewallRule | null> {
    const row = await this.db
      .selectFrom('firewall_rules')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? ruleOf(row) : null;
  }

  async create(rule: NewFirewallRule): Promise<FirewallRule> {
    const row = await this.db
      .insertInto('firewall_rules')
      .values({
        kind: rule.kind,
        source: rule.source,
        protocol: rule.protocol,
        port: rule.port,
        interface: rule.interface,
        comment: rule.comment,
        alert_id: rule.alertId,
        created_by: rule.createdBy,
        created_at: rule.createdAt,
        expires_at: rule.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return ruleOf(row);
  }

  /** Changes a rule in force; returns it before and after. */
  async update(id: number, change: RuleChange): Promise<{ before: FirewallRule; after: FirewallRule }> {
    const before = await this.inForce(id);
    const row = await this.db
      .updateTable('firewall_rules')
      .set({
        ...(change.comment !== undefined && { comment: change.comment }),
        ...(change.expiresAt !== undefined && { expires_at: change.expiresAt }),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { before, after: ruleOf(row) };
  }

  /** Lifts a rule in force at `at` on behalf of `by`; returns it before and after. */
  async remove(id: number, at: number, by: string): Promise<{ before: FirewallRule; after: FirewallRule }> {
    const before = await this.inForce(id);
    const row = await this.db
      .updateTable('firewall_rules')
      .set({ removed_at: at, removed_by: by })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    return { before, after: ruleOf(row) };
  }

  /** Marks the rules whose time is up at `now` as expired (at their expiry) and returns them. */
  async expireDue(now: number): Promise<FirewallRule[]> {
    const due = this.db
      .selectFrom('firewall_rules')
      .select('id')
      .where('removed_at', 'is', null)
      .where('expires_at', '<=', now);
    const ids = (await due.execute()).map((r) => r.id);
    if (ids.length === 0) return [];
    const rows = await this.db
      .updateTable('firewall_rules')
      .set((eb) => ({ removed_at: eb.ref('expires_at'), removed_by: 'expired' }))
      .where('id', 'in', ids)
      .where('removed_at', 'is', null)
      .returningAll()
      .execute();
    return rows.map(ruleOf).sort((a, b) => a.id - b.id);
  }

  /** How many rules `createdBy` made since `since` (epoch ms), for `source` when given. */
  async countCreated(createdBy: string, since: number, source?: string): Promise<number> {
    let query = this.db
      .selectFrom('firewall_rules')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('created_by', '=', createdBy)
      .where('created_at', '>=', since);
    if (source !== undefined) query = query.where('source', '=', source);
    const row = await query.executeTakeFirstOrThrow();
    return Number(row.n);
  }

  private async inForce(id: number): Promise<FirewallRule> {
    const rule = await this.findById(id);
    if (!rule) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no firewall rule ${id}`);
    if (rule.removedAt !== null) {
      throw new FlowTrackError(
        ErrorCode.CONFLICT,
        `firewall rule ${id} is no longer in force (${rule.removedBy === 'expired' ? 'it expired' : `lifted by ${rule.removedBy ?? 'someone'}`})`,
      );
    }
    return rule;
  }
}

function ruleOf(row: Selectable<FirewallRulesTable>): FirewallRule {
  return {
    id: row.id,
    kind: row.kind as RuleKind,
    source: row.source,
    protocol: row.protocol as 'tcp' | 'udp' | null,
    port: row.port,
    interface: row.interface,
    comment: row.comment,
    alertId: row.alert_id,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    removedAt: row.removed_at,
    removedBy: row.removed_by,
  };
}
