/**
 * Firewall rules as respond/ enforces them: one table for what an admin sets (block or allow a
 * source, close or open a local port, optionally on one interface) and what the blocking policy
 * sets by itself (author 'policy', with the alert that caused it). A rule is never deleted: lifting
 * or expiring it sets removed_at and removed_by, so a repeat offender's history stays (the policy
 * escalates by it) and the API can show what was in force when.
 *
 * Replaces 0001's firewall_rules (action, family, src, dst, protocol, port: kept but never
 * enforced) and blocks (never written). Rules that mean the same in the new form are carried
 * over: drop or reject from a source is a block, allow from a source an allow, drop or reject to
 * a tcp or udp port from anywhere a closed port. Destination-only rules had no meaning for the
 * host firewall FlowTrack manages and are not carried over, nor are a source's rules for one port
 * (a block now takes the whole source), nor sources respond/ refuses (a prefix with bits set past
 * its length, /0, a zone): the old API took them, and one such rule would stop the firewall, and
 * the server with it, at start. Never edit this file once released.
 */

import { isIP } from 'node:net';
import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../store-dialect.js';
import type { StoreMigration } from './store-migration.js';

async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  const s = db.schema;
  const id =
    dialect === 'sqlite'
      ? s.createTable('firewall_rules_v2').addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
      : s
          .createTable('firewall_rules_v2')
          .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity());
  await id
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('source', 'text')
    .addColumn('protocol', 'text')
    .addColumn('port', 'integer')
    .addColumn('interface', 'text')
    .addColumn('comment', 'text')
    .addColumn('alert_id', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint')
    .addColumn('removed_at', 'bigint')
    .addColumn('removed_by', 'text')
    .execute();
  await sql`
    INSERT INTO firewall_rules_v2 (kind, source, protocol, port, comment, created_by, created_at, expires_at)
    SELECT CASE WHEN action = 'allow' THEN 'allow' WHEN src IS NULL THEN 'close' ELSE 'block' END,
           src, CASE WHEN src IS NULL THEN protocol END, CASE WHEN src IS NULL THEN port END,
           comment, created_by, created_at, expires_at
    FROM firewall_rules
    WHERE dst IS NULL
      AND ((src IS NOT NULL AND port IS NULL)
        OR (src IS NULL AND action <> 'allow' AND protocol IN ('tcp', 'udp') AND port IS NOT NULL))
    ORDER BY id`.execute(db);
  const sources = await sql<{ id: number | string; source: string }>`
    SELECT id, source FROM firewall_rules_v2 WHERE source IS NOT NULL`.execute(db);
  const unreadable = sources.rows.filter((r) => !isEnforceableSource(r.source)).map((r) => r.id);
  if (unreadable.length > 0) {
    await sql`DELETE FROM firewall_rules_v2 WHERE id IN (${sql.join(unreadable)})`.execute(db);
  }
  await s.dropTable('firewall_rules').execute();
  await s.dropTable('blocks').execute();
  await s.alterTable('firewall_rules_v2').renameTo('firewall_rules').execute();
  // What is in force (the reconciler's and the expiry's query), and a source's history.
  await s.createIndex('firewall_rules_removed_idx').on('firewall_rules').columns(['removed_at']).execute();
  await s
    .createIndex('firewall_rules_source_idx')
    .on('firewall_rules')
    .columns(['source', 'created_at'])
    .execute();
}

/**
 * True when `text` is an address or prefix as respond/ reads it at the time of this migration:
 * no zone, a length from 1, no bits set past it. Kept here, not imported: a migration must not
 * change when respond/ does.
 */
function isEnforceableSource(text: string): boolean {
  const [addr = '', len, ...rest] = text.split('/');
  const family = isIP(addr);
  if (family === 0 || rest.length > 0 || addr.includes('%')) return false;
  if (len === undefined) return true;
  const max = family === 4 ? 32 : 128;
  const bits = Number(len);
  if (!/^\d{1,3}$/.test(len) || bits < 1 || bits > max) return false;
  return (addressBits(addr, family) & ((1n << BigInt(max - bits)) - 1n)) === 0n;
}

/** The address as a number (IPv6 in any spelling, an IPv4 tail too). */
function addressBits(addr: string, family: number): bigint {
  if (family === 4) return addr.split('.').reduce((n, octet) => (n << 8n) | BigInt(octet), 0n);
  const groups = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [Number.parseInt(g, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail = ''] = addr.split('::');
  const left = groups(head);
  const right = groups(tail);
  const all = [...left, ...Array<number>(8 - left.length - right.length).fill(0), ...right];
  return all.reduce((n, group) => (n << 16n) | BigInt(group), 0n);
}

export const firewallRulesMigration: StoreMigration = { up };
