/**
 * Alerts (the original design's "anomalies") through their life: viewers list, filter, group and
 * open them; analysts acknowledge, resolve, reopen, assign and comment, one alert or a group at a
 * time. Every change is in the alert's history and in the audit log, and is never undone by the
 * pipeline's updates.
 */

import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../alerts/alert.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { audit } from '../audit.js';
import {
  address,
  alertIdParams,
  defined,
  pageSchema,
  sensorName,
  timeMs,
  toMicros,
} from './common-schemas.js';

const STATUSES = ['open', 'acknowledged', 'resolved'] as const;
const username = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'a user name');
const groupKey = z
  .string()
  .max(80)
  .regex(/^(src|dst|type):[0-9A-Za-z_.:]{1,64}$/, 'a group such as src:192.0.2.1 (from the groups list)');
const booleanQuery = z.enum(['true', 'false']).transform((v) => v === 'true');
const comment = z.string().trim().min(1).max(4000);
// No body at all arrives as null.
const optionalComment = z.object({ comment: comment.optional() }).strict().nullish();

export function registerAlertRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/anomalies',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Alerts, newest first, filtered by type, severity, status, time and address',
        tags: ['alerts'],
        querystring: z
          .object({
            type: z.enum(ALERT_TYPES).optional(),
            severity: z.enum(SEVERITIES).optional(),
            status: z.enum(STATUSES).optional(),
            from: timeMs.optional(),
            to: timeMs.optional(),
            src: address.optional(),
            dst: address.optional(),
            assignee: username.optional(),
            group: groupKey.optional(),
            suppressed: booleanQuery.optional(),
            sensor: sensorName.optional(),
            ...pageSchema,
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.alerts.listAlerts(
        defined({
          type: q.type,
          severity: q.severity,
          status: q.status,
          fromUs: toMicros(q.from),
          toUs: toMicros(q.to),
          src: q.src,
          dst: q.dst,
          assignee: q.assignee,
          group: q.group,
          suppressed: q.suppressed,
          sensor: q.sensor,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );

  app.get(
    '/api/anomalies/summary',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'How many alerts match, by severity, and the newest few (an overview, not a list)',
        tags: ['alerts'],
        querystring: z
          .object({
            status: z.enum(STATUSES).optional(),
            from: timeMs.optional(),
            to: timeMs.optional(),
            suppressed: booleanQuery.optional(),
            sensor: sensorName.optional(),
            newest: z.coerce.number().int().min(1).max(100).default(5),
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.alerts.summary(
        defined({
          status: q.status,
          fromUs: toMicros(q.from),
          toUs: toMicros(q.to),
          suppressed: q.suppressed,
          sensor: q.sensor,
        }),
        q.newest,
      );
    },
  );

  app.get(
    '/api/anomalies/groups',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Related alerts grouped by attacker (or victim of a many-source attack), newest first',
        tags: ['alerts'],
        querystring: z
          .object({
            status: z.enum(STATUSES).optional(),
            from: timeMs.optional(),
            to: timeMs.optional(),
            suppressed: booleanQuery.optional(),
            sensor: sensorName.optional(),
            limit: z.coerce.number().int().min(1).max(1000).default(100),
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      const groups = await deps.store.alerts.groups(
        defined({
          status: q.status,
          fromUs: toMicros(q.from),
          toUs: toMicros(q.to),
          suppressed: q.suppressed,
          sensor: q.sensor,
        }),
        q.limit,
      );
      return { groups };
    },
  );

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post(
      `/api/anomalies/groups/${action}`,
      {
        config: { access: 'analyst' },
        schema: {
          summary: `${action === 'acknowledge' ? 'Acknowledge every open' : 'Resolve every open or acknowledged'} alert of a group`,
          tags: ['alerts'],
          body: z
            .object({ group: groupKey, comment: comment.optional(), sensor: sensorName.optional() })
            .strict(),
        },
      },
      async (request) => {
        const by = userOf(request).username;
        const { group, comment: text, sensor } = request.body;
        const ids = await deps.store.alerts.idsInGroup(
          group,
          action === 'acknowledge' ? ['open'] : ['open', 'acknowledged'],
          sensor,
        );
        const changed: string[] = [];
        for (const id of ids) {
          const after =
            action === 'acknowledge'
              ? await deps.store.alerts.acknowledge(id, by, deps.now(), text)
              : await deps.store.alerts.resolve(id, by, deps.now(), text);
          changed.push(after.id);
        }
        await audit(deps, request, {
          action: `alert.group.${action}`,
          target: group,
          after: {
            ...(sensor !== undefined && { sensor }),
            changed: changed.length,
            ids: changed.slice(0, 100),
            ...(text !== undefined && { comment: text }),
          },
        });
        return { changed };
      },
    );
  }

  app.get(
    '/api/anomalies/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'One alert: its figures, evidence (thresholds, sample flows, top sources) and status',
        tags: ['alerts'],
        params: alertIdParams,
      },
    },
    async (request) => {
      const alert = await deps.store.alerts.findById(request.params.id);
      if (!alert) {
        throw new FlowTrackError(
          ErrorCode.NOT_FOUND,
          `no alert with id ${request.params.id}: check the id; alerts older than the retention period are deleted`,
        );
      }
      const [history, incidents] = await Promise.all([
        deps.store.alerts.events(alert.id),
        deps.store.incidents.linking('alert', alert.id),
      ]);
      return {
        ...alert,
        history,
        incidents: incidents.map((i) => ({ id: i.id, title: i.title, status: i.status })),
      };
    },
  );

  for (const action of ['acknowledge', 'resolve', 'reopen'] as const) {
    app.post(
      `/api/anomalies/:id/${action}`,
      {
        config: { access: 'analyst' },
        schema: {
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} an alert, with an optional comment`,
          tags: ['alerts'],
          params: alertIdParams,
          body: optionalComment,
        },
      },
      async (request) => {
        const id = request.params.id;
        const text = request.body?.comment;
        const by = userOf(request).username;
        const before = await deps.store.alerts.findById(id);
        const alerts = deps.store.alerts;
        const after =
          action === 'acknowledge'
            ? await alerts.acknowledge(id, by, deps.now(), text)
            : action === 'resolve'
              ? await alerts.resolve(id, by, deps.now(), text)
              : await alerts.reopen(id, by, deps.now(), text);
        await audit(deps, request, {
          action: `alert.${action}`,
          target: id,
          before: before && { status: before.status },
          after: { status: after.status, ...(text !== undefined && { comment: text }) },
        });
        return after;
      },
    );
  }

  app.post(
    '/api/anomalies/:id/assign',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Assign an alert to a user, or to nobody (null)',
        tags: ['alerts'],
        params: alertIdParams,
        body: z.object({ assignee: username.nullable() }).strict(),
      },
    },
    async (request) => {
      const { assignee } = request.body;
      if (assignee !== null && !(await deps.store.users.findByUsername(assignee))) {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          `no user named ${assignee}: assign the alert to an existing user`,
        );
      }
      const before = await deps.store.alerts.findById(request.params.id);
      const after = await deps.store.alerts.assign(
        request.params.id,
        assignee,
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'alert.assign',
        target: request.params.id,
        before: before && { assignee: before.assignee },
        after: { assignee: after.assignee },
      });
      return after;
    },
  );

  app.post(
    '/api/anomalies/:id/comments',
    {
      config: { access: 'analyst' },
      schema: {
        summary: "Add a comment to an alert's history",
        tags: ['alerts'],
        params: alertIdParams,
        body: z.object({ text: comment }).strict(),
      },
    },
    async (request) => {
      const after = await deps.store.alerts.comment(
        request.params.id,
        request.body.text,
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'alert.comment',
        target: request.params.id,
        after: { comment: request.body.text },
      });
      return after;
    },
  );
}
