/**
 * The service's own health for viewers: up time, memory, the database (dialect, schema version,
 * size). The host's CPU, memory, disk and network samples join it with the system monitor.
 */

import { z } from 'zod';
import type { Api, ApiDeps } from '../api-context.js';

export function registerSystemRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/system_health',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Health of the FlowTrack service and its database',
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
      };
    },
  );

  // For load balancers and service managers: no token, no details.
  app.get(
    '/api/health',
    { config: { access: 'public', rateLimit: false }, schema: { summary: 'Liveness', tags: ['system'] } },
    () => ({ status: 'ok' }),
  );
}
