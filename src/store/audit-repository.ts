/**
 * The audit log: who did what to what, from where, with what outcome, and the state before and
 * after. Append-only: nothing here updates or deletes an event (only retention removes old ones).
 * Never store a secret in `before`/`after` (password hashes, tokens): the caller strips them.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { checkInteger, readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import type { AuditEventsTable, Database } from './schema.js';

export type AuditOutcome = AuditEventsTable['outcome'];

export interface AuditEvent {
  id: number;
  /** Epoch milliseconds. */
  tsMs: number;
  /** A user name, or e.g. "system" for what the server did by itself. */
  actor: string;
  actorIp: string | null;
  /** What was done, e.g. "user.create", "block.add", "login". */
  action: string;
  target: string | null;
  before: unknown;
  after: unknown;
  outcome: AuditOutcome;
}

export type NewAuditEvent = Omit<AuditEvent, 'id' | 'before' | 'after' | 'actorIp' | 'target'> &
  Partial<Pick<AuditEvent, 'before' | 'after' | 'actorIp' | 'target'>>;

export interface AuditFilter extends PageRequest {
  actor?: string;
  action?: string;
  outcome?: string;
  /** Epoch milliseconds, inclusive. */
  fromMs?: number;
  toMs?: number;
}

const OUTCOMES: readonly AuditOutcome[] = ['ok', 'denied', 'failed'];

export class AuditRepository {
  constructor(private readonly db: Kysely<Database>) {}

  /** Appends the event and returns its id. */
  async append(event: NewAuditEvent): Promise<number> {
    if (!OUTCOMES.includes(event.outcome)) {
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, `outcome must be one of ${OUTCOMES.join(', ')}`);
    }
    const row = await this.db
      .insertInto('audit_events')
      .values({
        ts_ms: event.tsMs,
        actor: event.actor,
        actor_ip: event.actorIp ?? null,
        action: event.action,
        target: event.target ?? null,
        before: toJson(event.before),
        after: toJson(event.after),
        outcome: event.outcome,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** Events matching `filter`, newest first. */
  async list(filter: AuditFilter = {}): Promise<Page<AuditEvent>> {
    const { limit, offset, after } = readPageRequest(filter);
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filter.actor !== undefined) query = query.where('actor', '=', filter.actor);
    if (filter.action !== undefined) query = query.where('action', '=', filter.action);
    if (filter.outcome !== undefined) query = query.where('outcome', '=', filter.outcome as AuditOutcome);
    if (filter.fromMs !== undefined)
      query = query.where('ts_ms', '>=', checkInteger('fromMs', filter.fromMs, 0));
    if (filter.toMs !== undefined) query = query.where('ts_ms', '<=', checkInteger('toMs', filter.toMs, 0));
    if (after) {
      const [tsMs, id] = after;
      if (typeof id !== 'number') {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          'the page cursor is not one of the audit log: start again',
        );
      }
      query = query.where((eb) =>
        eb.or([eb('ts_ms', '<', tsMs), eb.and([eb('ts_ms', '=', tsMs), eb('id', '<', id)])]),
      );
    }
    const rows = await query
      .orderBy('ts_ms', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    return toPage(rows, limit, (row) => [row.ts_ms, row.id], auditEventOf);
  }
}

function toJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

function auditEventOf(row: Selectable<AuditEventsTable>): AuditEvent {
  return {
    id: row.id,
    tsMs: row.ts_ms,
    actor: row.actor,
    actorIp: row.actor_ip,
    action: row.action,
    target: row.target,
    before: row.before === null ? null : (JSON.parse(row.before) as unknown),
    after: row.after === null ? null : (JSON.parse(row.after) as unknown),
    outcome: row.outcome,
  };
}
