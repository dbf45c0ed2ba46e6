/**
 * Alerts (the original design's "anomalies"): viewers list, filter and open them, analysts
 * acknowledge and resolve them. A change by an analyst is audited and never undone by the
 * pipeline's updates.
 */

import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../alerts/alert.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { audit } from '../audit.js';
import { address, alertIdParams, defined, pageSchema, timeMs, toMicros } from './common-schemas.js';

const STATUSES = ['open', 'acknowledged', 'resolved'] as const;

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
            newest: z.coerce.number().int().min(1).max(100).default(5),
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.alerts.summary(
        defined({ status: q.status, fromUs: toMicros(q.from), toUs: toMicros(q.to) }),
        q.newest,
      );
    },
  );

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
      return alert;
    },
  );

  for (const action of ['acknowledge', 'resolve'] as const) {
    app.post(
      `/api/anomalies/:id/${action}`,
      {
        config: { access: 'analyst' },
        schema: {
          summary: `${action === 'acknowledge' ? 'Acknowledge' : 'Resolve'} an alert`,
          tags: ['alerts'],
          params: alertIdParams,
        },
      },
      async (request) => {
        const before = await deps.store.alerts.findById(request.params.id);
        const by = userOf(request).username;
        const after =
          action === 'acknowledge'
            ? await deps.store.alerts.acknowledge(request.params.id, by, deps.now())
            : await deps.store.alerts.resolve(request.params.id, by, deps.now());
        await audit(deps, request, {
          action: `alert.${action}`,
          target: request.params.id,
          before: before && { status: before.status },
          after: { status: after.status },
        });
        return after;
      },
    );
  }
}
