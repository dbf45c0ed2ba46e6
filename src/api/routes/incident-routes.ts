/**
 * Incidents: viewers read them and export their report; analysts report them, change their
 * status and fields, comment, and link alerts, flows, evidence captures, blocks and scans. Every
 * change is in the incident's timeline and in the audit log. A link must point at something that
 * exists when it is made.
 */

import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { SEVERITIES } from '../../alerts/alert.js';
import { incidentDetail } from '../../incidents/incident-detail.js';
import { renderIncidentReport } from '../../incidents/incident-report.js';
import type { IncidentDetail } from '../../incidents/incident-types.js';
import {
  INCIDENT_LINK_KINDS,
  INCIDENT_STATUSES,
  type IncidentLinkKind,
} from '../../store/incident-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { audit } from '../audit.js';
import { address, defined, idParams, pageSchema } from './common-schemas.js';

const title = z.string().trim().min(1).max(200);
const description = z.string().max(20_000);
const hosts = z.array(address).max(100);
const assignee = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'a user name')
  .nullable();
const linkBody = z
  .object({
    kind: z.enum(INCIDENT_LINK_KINDS as [IncidentLinkKind, ...IncidentLinkKind[]]),
    ref: z.string().trim().min(1).max(128),
    note: z.string().trim().max(500).optional(),
  })
  .strict();
const statuses = INCIDENT_STATUSES as [
  (typeof INCIDENT_STATUSES)[number],
  ...(typeof INCIDENT_STATUSES)[number][],
];

export function registerIncidentRoutes(app: Api, deps: ApiDeps): void {
  const detail = async (id: number): Promise<IncidentDetail> => {
    const found = await incidentDetail(deps.store, id);
    if (!found) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no incident with id ${id}`);
    return found;
  };
  const checkAssignee = async (name: string | null | undefined): Promise<void> => {
    if (name !== null && name !== undefined && !(await deps.store.users.findByUsername(name))) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `no user named ${name}: assign the incident to an existing user`,
      );
    }
  };
  /** BAD_REQUEST unless what the link points at is stored. */
  const checkTarget = async (kind: IncidentLinkKind, ref: string): Promise<void> => {
    const numeric = /^\d{1,15}$/.test(ref) ? Number(ref) : null;
    const found =
      kind === 'alert' || kind === 'pcap'
        ? (await deps.store.alerts.findById(ref)) !== null &&
          (kind === 'alert' || hasFile(deps.capture?.evidencePath(ref) ?? null))
        : kind === 'flow'
          ? numeric !== null && (await deps.store.flows.findById(numeric)) !== null
          : kind === 'block'
            ? numeric !== null && (await deps.store.firewallRules.findById(numeric)) !== null
            : (await deps.store.scans.findById(ref)) !== null;
    if (!found) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `no ${kind === 'pcap' ? 'alert with an evidence capture' : kind === 'block' ? 'firewall rule' : kind} ${ref}: check the ${kind === 'flow' || kind === 'block' ? 'id' : 'reference'}`,
      );
    }
  };

  app.get(
    '/api/incidents',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Incidents, most recently changed first',
        tags: ['incidents'],
        querystring: z
          .object({
            status: z.enum(statuses).optional(),
            severity: z.enum(SEVERITIES).optional(),
            active: z
              .enum(['true', 'false'])
              .transform((v) => v === 'true')
              .optional(),
            ...pageSchema,
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.incidents.list(
        defined({
          status: q.status,
          severity: q.severity,
          active: q.active,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );

  app.post(
    '/api/incidents',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Report an incident, optionally with its first links',
        tags: ['incidents'],
        body: z
          .object({
            title,
            description: description.default(''),
            severity: z.enum(SEVERITIES),
            hosts: hosts.default([]),
            assignee: assignee.optional(),
            links: z.array(linkBody).max(100).default([]),
          })
          .strict(),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const by = userOf(request).username;
      await checkAssignee(b.assignee);
      for (const link of b.links) await checkTarget(link.kind, link.ref);
      const incident = await deps.store.incidents.create(
        {
          title: b.title,
          description: b.description,
          severity: b.severity,
          hosts: b.hosts,
          assignee: b.assignee ?? null,
        },
        by,
        deps.now(),
      );
      await audit(deps, request, { action: 'incident.create', target: String(incident.id), after: incident });
      for (const link of b.links) {
        const made = await deps.store.incidents.link(
          incident.id,
          { ...link, note: link.note ?? null },
          by,
          deps.now(),
        );
        await audit(deps, request, { action: 'incident.link', target: String(incident.id), after: made });
      }
      return reply.code(201).send(await detail(incident.id));
    },
  );

  app.get(
    '/api/incidents/:id',
    {
      config: { access: 'viewer' },
      schema: { summary: 'An incident with its links and timeline', tags: ['incidents'], params: idParams },
    },
    async (request) => detail(request.params.id),
  );

  app.patch(
    '/api/incidents/:id',
    {
      config: { access: 'analyst' },
      schema: {
        summary: "Change an incident's status, title, description, severity, hosts or assignee",
        tags: ['incidents'],
        params: idParams,
        body: z
          .object({
            title: title.optional(),
            description: description.optional(),
            severity: z.enum(SEVERITIES).optional(),
            hosts: hosts.optional(),
            assignee: assignee.optional(),
            status: z.enum(statuses).optional(),
          })
          .strict(),
      },
    },
    async (request) => {
      await checkAssignee(request.body.assignee);
      const { before, after } = await deps.store.incidents.update(
        request.params.id,
        defined(request.body),
        userOf(request).username,
        deps.now(),
      );
      if (before !== after) {
        await audit(deps, request, {
          action: before.status === after.status ? 'incident.update' : 'incident.status',
          target: String(after.id),
          before,
          after,
        });
      }
      return detail(after.id);
    },
  );

  app.post(
    '/api/incidents/:id/comments',
    {
      config: { access: 'analyst' },
      schema: {
        summary: "Add a comment to an incident's timeline",
        tags: ['incidents'],
        params: idParams,
        body: z.object({ text: z.string().trim().min(1).max(4000) }).strict(),
      },
    },
    async (request) => {
      const event = await deps.store.incidents.comment(
        request.params.id,
        request.body.text,
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'incident.comment',
        target: String(request.params.id),
        after: { comment: event.text },
      });
      return detail(request.params.id);
    },
  );

  app.post(
    '/api/incidents/:id/links',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Link an alert, flow, evidence capture, firewall rule or scan to an incident',
        tags: ['incidents'],
        params: idParams,
        body: linkBody,
      },
    },
    async (request) => {
      const b = request.body;
      await checkTarget(b.kind, b.ref);
      const link = await deps.store.incidents.link(
        request.params.id,
        { kind: b.kind, ref: b.ref, note: b.note ?? null },
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, { action: 'incident.link', target: String(request.params.id), after: link });
      return detail(request.params.id);
    },
  );

  app.delete(
    '/api/incidents/:id/links/:linkId',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Remove a link from an incident',
        tags: ['incidents'],
        params: z.object({ id: idParams.shape.id, linkId: idParams.shape.id }).strict(),
      },
    },
    async (request) => {
      const link = await deps.store.incidents.unlink(
        request.params.id,
        request.params.linkId,
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'incident.unlink',
        target: String(request.params.id),
        before: link,
      });
      return detail(request.params.id);
    },
  );

  app.get(
    '/api/incidents/:id/report',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The incident as a self-contained HTML report (print it to PDF from a browser)',
        tags: ['incidents'],
        params: idParams,
      },
    },
    async (request, reply) => {
      const found = await detail(request.params.id);
      const alertIds = found.links.filter((l) => l.kind === 'alert').map((l) => l.ref);
      const alerts = await deps.store.alerts.findByIds(alertIds);
      const by = userOf(request).username;
      const html = renderIncidentReport(found, {
        generatedAt: deps.now(),
        generatedBy: by,
        host: hostname(),
        alerts: alertIds.flatMap((id) => alerts.find((a) => a.id === id) ?? []),
      });
      await audit(deps, request, {
        action: 'incident.export',
        target: String(found.incident.id),
        after: { format: 'html', bytes: Buffer.byteLength(html) },
      });
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-disposition', `attachment; filename="incident-${found.incident.id}.html"`)
        .send(html);
    },
  );
}

function hasFile(path: string | null): boolean {
  return path !== null && existsSync(path);
}
