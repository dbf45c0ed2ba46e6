/**
 * Firewall rules an admin keeps through the API: what to allow, drop or reject, by source,
 * destination, protocol and port, optionally until a time. This file only keeps them; respond/
 * turns them into nftables rules, and the API validates and audits every change.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Database, FirewallRulesTable } from './schema.js';

export type RuleAction = 'allow' | 'drop' | 'reject';

export interface FirewallRule {
  id: number;
  action: RuleAction;
  /** 'ip' (IPv4), 'ip6' or 'inet' (both). */
  family: string;
  /** Address or CIDR prefix; null matches any. */
  src: string | null;
  dst: string | null;
  /** 'tcp', 'udp', 'icmp', 'icmpv6' or null for any. */
  protocol: string | null;
  port: number | null;
  comment: string | null;
  createdBy: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds after which the rule no longer applies; null: never. */
  expiresAt: number | null;
}

export type NewFirewallRule = Omit<FirewallRule, 'id'>;

export class FirewallRuleRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Rules in force at `now` (not expired), oldest first; every rule when `now` is null. */
  async list(now: number | null): Promise<FirewallRule[]> {
    let query = this.db.selectFrom('firewall_rules').selectAll();
    if (now !== null)
      query = query.where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
    const rows = await query.orderBy('id').execute();
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
        action: rule.action,
        family: rule.family,
        src: rule.src,
        dst: rule.dst,
        protocol: rule.protocol,
        port: rule.port,
        comment: rule.comment,
        created_by: rule.createdBy,
        created_at: rule.createdAt,
        expires_at: rule.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return ruleOf(row);
  }

  /** Deletes the rule and returns it as it was. */
  async delete(id: number): Promise<FirewallRule> {
    const before = await this.findById(id);
    if (!before) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no firewall rule ${id}`);
    await this.db.deleteFrom('firewall_rules').where('id', '=', id).execute();
    return before;
  }
}

function ruleOf(row: Selectable<FirewallRulesTable>): FirewallRule {
  return {
    id: row.id,
    action: row.action as RuleAction,
    family: row.family,
    src: row.src,
    dst: row.dst,
    protocol: row.protocol,
    port: row.port,
    comment: row.comment,
    createdBy: row.created_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
