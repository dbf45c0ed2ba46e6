/**
 * Incidents: what an analyst reports and follows by hand (title, description, severity, the
 * hosts affected, a status from open to closed), the alerts, flows, evidence captures, blocks and
 * scans linked to it, and its own timeline entries (created, status changes, edits, comments,
 * links). Every change writes its timeline entry in the same transaction; the routes audit it.
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import type { Database, IncidentEventsTable, IncidentLinksTable, IncidentsTable } from './schema.js';

export type IncidentStatus = IncidentsTable['status'];
export const INCIDENT_STATUSES: readonly IncidentStatus[] = ['open', 'investigating', 'contained', 'closed'];
export type IncidentLinkKind = IncidentLinksTable['kind'];
export const INCIDENT_LINK_KINDS: readonly IncidentLinkKind[] = ['alert', 'flow', 'pcap', 'block', 'scan'];

export interface Incident {
  id: number;
  title: string;
  description: string;
  severity: string;
  status: IncidentStatus;
  hosts: string[];
  assignee: string | null;
  createdBy: string;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  closedAt: number | null;
}

export interface IncidentLink {
  id: number;
  incidentId: number;
  kind: IncidentLinkKind;
  ref: string;
  note: string | null;
  addedBy: string;
  addedAt: number;
}

export interface IncidentEvent {
  id: number;
  incidentId: number;
  tsMs: number;
  actor: string;
  /** created, status, edited, commented, linked, unlinked. */
  kind: string;
  text: string | null;
  detail: unknown;
}

export type NewIncident = Pick<Incident, 'title' | 'description' | 'severity' | 'hosts'> &
  Partial<Pick<Incident, 'assignee'>>;
export type IncidentChanges = Partial<
  Pick<Incident, 'title' | 'description' | 'severity' | 'hosts' | 'assignee' | 'status'>
>;

export interface IncidentFilter extends PageRequest {
  status?: IncidentStatus;
  severity?: string;
  /** Incidents not closed (status is not 'closed'). */
  active?: boolean;
}

export class IncidentRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async create(input: NewIncident, by: string, now: number): Promise<Incident> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('incidents')
        .values({
          title: input.title,
          description: input.description,
          severity: input.severity,
          status: 'open',
          hosts: JSON.stringify(input.hosts),
          assignee: input.assignee ?? null,
          created_by: by,
          created_at: now,
          updated_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const incident = incidentOf(row);
      await addEvent(trx, incident.id, now, by, 'created', input.title, null);
      return incident;
    });
  }

  async findById(id: number): Promise<Incident | null> {
    const row = await this.db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? incidentOf(row) : null;
  }

  /** Incidents matching `filter`, the most recently changed first. */
  async list(filter: IncidentFilter = {}): Promise<Page<Incident>> {
    const { limit, offset, after } = readPageRequest(filter);
    let query = this.db.selectFrom('incidents').selectAll();
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.severity !== undefined) query = query.where('severity', '=', filter.severity);
    if (filter.active === true) query = query.where('status', '!=', 'closed');
    if (after) {
      const [updatedAt, id] = after;
      if (typeof id !== 'number') {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          'the page cursor is not one of the incident list: start again',
        );
      }
      query = query.where((eb) =>
        eb.or([
          eb('updated_at', '<', updatedAt),
          eb.and([eb('updated_at', '=', updatedAt), eb('id', '<', id)]),
        ]),
      );
    }
    const rows = await query
      .orderBy('updated_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    return toPage(rows, limit, (row) => [row.updated_at, row.id], incidentOf);
  }

  /**
   * Applies `changes`: a status change is its own timeline entry ("open → investigating"), the
   * other fields one "edited" entry naming them. Closing sets closedAt, reopening clears it.
   * Returns the incident before and after (the same object twice when nothing changed).
   */
  async update(
    id: number,
    changes: IncidentChanges,
    by: string,
    now: number,
  ): Promise<{ before: Incident; after: Incident }> {
    return this.db.transaction().execute(async (trx) => {
      const before = await requireIncident(trx, id);
      const edited: Record<string, { from: unknown; to: unknown }> = {};
      for (const field of ['title', 'description', 'severity', 'hosts', 'assignee'] as const) {
        const to = changes[field];
        if (to !== undefined && JSON.stringify(to) !== JSON.stringify(before[field])) {
          edited[field] = { from: before[field], to };
        }
      }
      const status = changes.status !== undefined && changes.status !== before.status ? changes.status : null;
      if (status === null && Object.keys(edited).length === 0) return { before, after: before };
      await trx
        .updateTable('incidents')
        .set({
          ...(changes.title !== undefined && { title: changes.title }),
          ...(changes.description !== undefined && { description: changes.description }),
          ...(changes.severity !== undefined && { severity: changes.severity }),
          ...(changes.hosts !== undefined && { hosts: JSON.stringify(changes.hosts) }),
          ...(changes.assignee !== undefined && { assignee: changes.assignee }),
          ...(status !== null && { status, closed_at: status === 'closed' ? now : null }),
          updated_at: now,
        })
        .where('id', '=', id)
        .execute();
      if (status !== null)
        await addEvent(trx, id, now, by, 'status', `${before.status} → ${status}`, {
          from: before.status,
          to: status,
        });
      if (Object.keys(edited).length > 0) {
        await addEvent(trx, id, now, by, 'edited', `changed ${Object.keys(edited).join(', ')}`, edited);
      }
      return { before, after: await requireIncident(trx, id) };
    });
  }

  async comment(id: number, text: string, by: string, now: number): Promise<IncidentEvent> {
    return this.db.transaction().execute(async (trx) => {
      await requireIncident(trx, id);
      await trx.updateTable('incidents').set({ updated_at: now }).where('id', '=', id).execute();
      return addEvent(trx, id, now, by, 'commented', text, null);
    });
  }

  /** Links evidence to the incident; CONFLICT when it is linked already. */
  async link(
    id: number,
    link: Pick<IncidentLink, 'kind' | 'ref' | 'note'>,
    by: string,
    now: number,
  ): Promise<IncidentLink> {
    return this.db.transaction().execute(async (trx) => {
      await requireIncident(trx, id);
      const existing = await trx
        .selectFrom('incident_links')
        .select('id')
        .where('incident_id', '=', id)
        .where('kind', '=', link.kind)
        .where('ref', '=', link.ref)
        .executeTakeFirst();
      if (existing) {
        throw new FlowTrackError(
          ErrorCode.CONFLICT,
          `${link.kind} ${link.ref} is linked to incident ${id} already`,
        );
      }
      const row = await trx
        .insertInto('incident_links')
        .values({
          incident_id: id,
          kind: link.kind,
          ref: link.ref,
          note: link.note,
          added_by: by,
          added_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await trx.updateTable('incidents').set({ updated_at: now }).where('id', '=', id).execute();
      await addEvent(trx, id, now, by, 'linked', `${link.kind} ${link.ref}`, {
        kind: link.kind,
        ref: link.ref,
      });
      return linkOf(row);
    });
  }

  /** Removes a link; NOT_FOUND when the incident has no such link. */
  async unlink(id: number, linkId: number, by: string, now: number): Promise<IncidentLink> {
    return this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('incident_links')
        .selectAll()
        .where('id', '=', linkId)
        .where('incident_id', '=', id)
        .executeTakeFirst();
      if (!row) throw new FlowTrackError(ErrorCode.NOT_FOUND, `incident ${id} has no link ${linkId}`);
      await trx.deleteFrom('incident_links').where('id', '=', linkId).execute();
      await trx.updateTable('incidents').set({ updated_at: now }).where('id', '=', id).execute();
      const link = linkOf(row);
      await addEvent(trx, id, now, by, 'unlinked', `${link.kind} ${link.ref}`, {
        kind: link.kind,
        ref: link.ref,
      });
      return link;
    });
  }

  async links(id: number): Promise<IncidentLink[]> {
    const rows = await this.db
      .selectFrom('incident_links')
      .selectAll()
      .where('incident_id', '=', id)
      .orderBy('id')
      .execute();
    return rows.map(linkOf);
  }

  async events(id: number): Promise<IncidentEvent[]> {
    const rows = await this.db
      .selectFrom('incident_events')
      .selectAll()
      .where('incident_id', '=', id)
      .orderBy('id')
      .limit(10_000)
      .execute();
    return rows.map(eventOf);
  }

  /** Incidents that link `ref` of `kind` (an alert's page shows them). */
  async linking(kind: IncidentLinkKind, ref: string): Promise<Incident[]> {
    const rows = await this.db
      .selectFrom('incidents')
      .selectAll('incidents')
      .innerJoin('incident_links', 'incident_links.incident_id', 'incidents.id')
      .where('incident_links.kind', '=', kind)
      .where('incident_links.ref', '=', ref)
      .orderBy('incidents.id')
      .execute();
    return rows.map(incidentOf);
  }
}

async function requireIncident(db: Kysely<Database>, id: number): Promise<Incident> {
  const row = await db.selectFrom('incidents').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no incident with id ${id}`);
  return incidentOf(row);
}

async function addEvent(
  db: Kysely<Database>,
  incidentId: number,
  now: number,
  actor: string,
  kind: string,
  text: string | null,
  detail: unknown,
): Promise<IncidentEvent> {
  const row = await db
    .insertInto('incident_events')
    .values({
      incident_id: incidentId,
      ts_ms: now,
      actor,
      kind,
      text,
      detail: detail === null || detail === undefined ? null : JSON.stringify(detail),
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return eventOf(row);
}

function incidentOf(row: Selectable<IncidentsTable>): Incident {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    severity: row.severity,
    status: row.status,
    hosts: JSON.parse(row.hosts) as string[],
    assignee: row.assignee,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    closedAt: row.closed_at === null ? null : row.closed_at,
  };
}

function linkOf(row: Selectable<IncidentLinksTable>): IncidentLink {
  return {
    id: row.id,
    incidentId: row.incident_id,
    kind: row.kind,
    ref: row.ref,
    note: row.note,
    addedBy: row.added_by,
    addedAt: row.added_at,
  };
}

function eventOf(row: Selectable<IncidentEventsTable>): IncidentEvent {
  return {
    id: row.id,
    incidentId: row.incident_id,
    tsMs: row.ts_ms,
    actor: row.actor,
    kind: row.kind,
    text: row.text,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as unknown),
  };
}
