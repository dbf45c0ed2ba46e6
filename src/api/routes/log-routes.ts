/**
 * The three logs, read through the API: the server log and the security log (rotated JSON files)
 * and the audit log (the database). Reading them is for admins: they name users and addresses.
 */

import { z } from 'zod';
import { LOG_LEVELS } from '../../logs/log-files.js';
import { MAX_LOG_LIMIT, readLog } from '../../logs/read-log.js';
import { SECURITY_EVENT_KINDS, type SecurityEventKind } from '../../logs/security-log.js';
import type { Api, ApiDeps } from '../api-context.js';
import { defined, pageSchema, timeMs } from './common-schemas.js';

/** The base names of the log files in the log folder. */
export const SERVER_LOG = 'server';
export const SECURITY_LOG = 'security';

const fileLogQuery = {
  from: timeMs.optional(),
  to: timeMs.optional(),
  level: z.enum(LOG_LEVELS).optional(),
  contains: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LOG_LIMIT).optional(),
  cursor: z.string().max(512).optional(),
};

function date(ms: number | undefined): Date | undefined {
  return ms === undefined ? undefined : new Date(ms);
}

export function registerLogRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/logs',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The server log, newest first',
        tags: ['logs'],
        querystring: z.object(fileLogQuery).strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return readLog({
        dir: deps.logDir,
        name: SERVER_LOG,
        ...defined({
          from: date(q.from),
          to: date(q.to),
          level: q.level,
          contains: q.contains,
          limit: q.limit,
          cursor: q.cursor,
        }),
      });
    },
  );

  app.get(
    '/api/logs/security',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The security log (failed logins, bad tokens, refused requests), newest first',
        tags: ['logs'],
        querystring: z
          .object({
            ...fileLogQuery,
            kind: z.enum(SECURITY_EVENT_KINDS as [SecurityEventKind, ...SecurityEventKind[]]).optional(),
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return readLog({
        dir: deps.logDir,
        name: SECURITY_LOG,
        ...defined({
          from: date(q.from),
          to: date(q.to),
          level: q.level,
          kind: q.kind,
          contains: q.contains,
          limit: q.limit,
          cursor: q.cursor,
        }),
      });
    },
  );

  app.get(
    '/api/logs/audit',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The audit log (who did what, when, from where, before and after), newest first',
        tags: ['logs'],
        querystring: z
          .object({
            actor: z.string().min(1).max(64).optional(),
            action: z
              .string()
              .regex(/^[a-z._]{1,64}$/)
              .optional(),
            outcome: z.enum(['ok', 'denied', 'failed']).optional(),
            from: timeMs.optional(),
            to: timeMs.optional(),
            ...pageSchema,
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.audit.list(
        defined({
          actor: q.actor,
          action: q.action,
          outcome: q.outcome,
          fromMs: q.from,
          toMs: q.to,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );
}
