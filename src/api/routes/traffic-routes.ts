/**
 * Traffic and flows for viewers: `/api/traffic` (rates over a time range from the per-minute
 * rollups, and the top talkers) and `/api/flows` (search and filter, paginated). Every filter is
 * checked by its schema here and reaches the database only as a query parameter.
 */

import { z } from 'zod';
import { MAX_TALKERS } from '../../store/flow-repository.js';
import type { Api, ApiDeps } from '../api-context.js';
import { address, defined, pageSchema, protocol, timeMs, toMicros } from './common-schemas.js';

export function registerTrafficRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/traffic',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Packet, byte and flow rates over time, and the top talkers, for a time range',
        tags: ['traffic'],
        querystring: z
          .object({
            from: timeMs.optional(),
            to: timeMs.optional(),
            bucketSeconds: z.coerce.number().int().min(60).max(86_400).default(60),
            top: z.coerce.number().int().min(1).max(MAX_TALKERS).default(10),
            by: z.enum(['bytes', 'packets']).default('bytes'),
            host: address.optional(),
            protocol: protocol.optional(),
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      const to = q.to ?? deps.now();
      const from = q.from ?? to - 3_600_000;
      const fromUs = from * 1000;
      const toUs = to * 1000;
      const [series, topTalkers] = await Promise.all([
        deps.store.flows.traffic(
          fromUs,
          toUs,
          q.bucketSeconds,
          defined({ host: q.host, protocol: q.protocol }),
        ),
        deps.store.flows.topTalkers(fromUs, toUs, q.top, q.by),
      ]);
      return {
        from,
        to,
        bucketSeconds: q.bucketSeconds,
        series: series.map((b) => ({ ...b, start: Math.floor(b.startUs / 1000) })),
        topTalkers,
      };
    },
  );

  app.get(
    '/api/flows',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Flows, newest first, filtered and paginated',
        tags: ['traffic'],
        querystring: z
          .object({
            from: timeMs.optional(),
            to: timeMs.optional(),
            address: address.optional(),
            port: z.coerce.number().int().min(0).max(65535).optional(),
            protocol: protocol.optional(),
            state: z
              .string()
              .regex(/^[a-z-]{1,24}$/)
              .optional(),
            minBytes: z.coerce.number().int().min(0).optional(),
            ...pageSchema,
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.flows.queryFlows(
        defined({
          fromUs: toMicros(q.from),
          toUs: toMicros(q.to),
          address: q.address,
          port: q.port,
          protocol: q.protocol,
          state: q.state,
          minBytes: q.minBytes,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );
}
