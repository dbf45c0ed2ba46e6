/**
 * Health for viewers: `/api/system_health` (the service, its database and writer, and the host's
 * newest sample with the resource rules raised now), `/api/system_health/history` (a chart's
 * points over a time range, or one interface's traffic), and for analysts `/api/system/sockets`
 * (listening sockets and connections with their processes, as `ss -tunap`; analysts only, since
 * command lines can hold what a viewer should not read).
 */

import { z } from 'zod';
import type { HostSample } from '../../system/host-sample.js';
import type { SocketSnapshot } from '../../system/socket-types.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { timeMs } from './common-schemas.js';

/** What the routes need of the system monitor. */
export interface SystemView {
  latest(): HostSample | null;
  sockets(): SocketSnapshot | null;
  /** The resource rules raised now, as `metric` or `metric:subject`. */
  raised(): string[];
  /** The probe's interval. */
  intervalMs: number;
  /** How long samples are kept at full resolution. */
  fullResolutionMs: number;
}

/** Points a chart may ask for at most. */
const MAX_POINTS = 2000;

export function registerSystemRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/system_health',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Health of the FlowTrack service, its database and its host (the newest sample)',
        tags: ['system'],
        querystring: z.object({}).strict(),
      },
    },
    async () => {
      const memory = process.memoryUsage();
      const [schemaVersion, sizeBytes] = await Promise.all([
        deps.store.schemaVersion(),
        deps.store.sizeBytes(),
      ]);
      return {
        status: 'ok',
        uptimeSeconds: Math.round(process.uptime()),
        process: {
          rssBytes: memory.rss,
          heapUsedBytes: memory.heapUsed,
          pid: process.pid,
          node: process.version,
        },
        database: { dialect: deps.store.dialect, schemaVersion, sizeBytes },
        ingest: deps.ingest?.() ?? null,
        host: deps.system?.latest() ?? null,
        resourceAlerts: deps.system?.raised() ?? [],
        intervalSeconds: deps.system ? deps.system.intervalMs / 1000 : null,
      };
    },
  );

  app.get(
    '/api/system_health/history',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "The host's health over a time range (default the last hour): CPU, memory, swap, load, the fullest disk, network and disk rates; from full-resolution samples while they cover the range, else from minute rollups. With interface, that interface's receive and send rates instead",
        tags: ['system'],
        querystring: z
          .object({
            from: timeMs.optional(),
            to: timeMs.optional(),
            points: z.coerce.number().int().min(1).max(MAX_POINTS).default(300),
            interface: z
              .string()
              .regex(/^[A-Za-z0-9_.:@-]{1,64}$/, 'an interface name such as eth0')
              .optional(),
          })
          .strict(),
      },
    },
    async (request) => {
      const system = deps.system;
      if (!system)
        throw new FlowTrackError(
          ErrorCode.NOT_FOUND,
          'this server does not watch its host (system.enabled is off)',
        );
      const q = request.query;
      const now = deps.now();
      const to = q.to ?? now;
      const from = q.from ?? to - 3_600_000;
      if (from > to) throw new FlowTrackError(ErrorCode.BAD_REQUEST, `from (${from}) is after to (${to})`);
      const range = {
        fromMs: from,
        toMs: to,
        maxPoints: q.points,
        samplesSinceMs: now - system.fullResolutionMs,
        sampleIntervalMs: system.intervalMs,
      };
      if (q.interface !== undefined) {
        return {
          from,
          to,
          interface: q.interface,
          ...(await deps.store.health.interfaceSeries(range, q.interface)),
        };
      }
      return { from, to, ...(await deps.store.health.series(range)) };
    },
  );

  app.get(
    '/api/system/sockets',
    {
      config: { access: 'analyst' },
      schema: {
        summary:
          'Listening sockets and connections of this host with the processes that own them (as ss -tunap)',
        tags: ['system'],
        querystring: z.object({}).strict(),
      },
    },
    () => {
      const snapshot = deps.system?.sockets() ?? null;
      if (!snapshot) {
        throw new FlowTrackError(
          ErrorCode.NOT_FOUND,
          'this server does not read its sockets (system.enabled or system.processes is off)',
        );
      }
      return snapshot;
    },
  );

  // For load balancers and service managers: no token, no details.
  app.get(
    '/api/health',
    { config: { access: 'public', rateLimit: false }, schema: { summary: 'Liveness', tags: ['system'] } },
    () => ({ status: 'ok' }),
  );
}
