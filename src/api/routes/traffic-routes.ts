/**
 * Traffic and flows for viewers: `/api/traffic` (rates over a time range from the per-minute
 * rollups, the top talkers and the top service ports), `/api/flows` (search, filter and sort,
 * paginated), `/api/flows/graph` (who talks to whom) and `/api/hosts/:address` (one host's peers
 * and ports).
 * Every filter is checked by its schema here and reaches the database only as a query
 * parameter; a sort is a name from the store's fixed list.
 */

import { z } from 'zod';
import {
  FLOW_SORTS,
  MAX_GRAPH_EDGES,
  MAX_GRAPH_HOSTS,
  MAX_HOST_TOP,
  MAX_TALKERS,
  SORT_ORDERS,
  type TrafficBucket,
} from '../../store/flow-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { address, defined, pageSchema, protocol, sensorName, timeMs, toMicros } from './common-schemas.js';

export function registerTrafficRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/traffic',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Packet, byte and flow rates over time, the top talkers and the top ports (topPorts: the TCP and UDP service ports, each flow counted in the minute of its last packet), for a time range; with split=protocol also the series of each protocol (byProtocol)',
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
            split: z.enum(['protocol'], { error: 'expected protocol (or leave split out)' }).optional(),
          })
          .strict()
          .refine((q) => q.split === undefined || q.protocol === undefined, {
            message: 'split=protocol gives every protocol: leave out protocol, or split',
          }),
      },
    },
    async (request) => {
      const q = request.query;
      const to = q.to ?? deps.now();
      const from = q.from ?? to - 3_600_000;
      const fromUs = from * 1000;
      const toUs = to * 1000;
      const toApi = (series: TrafficBucket[]) =>
        series.map((b) => ({ ...b, start: Math.floor(b.startUs / 1000) }));
      const [series, byProtocol, topTalkers, topPorts] = await Promise.all([
        deps.store.flows.traffic(
          fromUs,
          toUs,
          q.bucketSeconds,
          defined({ host: q.host, protocol: q.protocol }),
        ),
        q.split === undefined
          ? undefined
          : deps.store.flows.trafficByProtocol(fromUs, toUs, q.bucketSeconds, defined({ host: q.host })),
        deps.store.flows.topTalkers(fromUs, toUs, q.top, q.by),
        deps.store.flows.topPorts(fromUs, toUs, q.top, q.by),
      ]);
      return {
        from,
        to,
        bucketSeconds: q.bucketSeconds,
        series: toApi(series),
        ...(byProtocol && {
          byProtocol: Object.fromEntries(Object.entries(byProtocol).map(([p, its]) => [p, toApi(its)])),
        }),
        topTalkers,
        topPorts,
      };
    },
  );

  app.get(
    '/api/flows',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Flows, newest first or sorted by bytes, packets or duration, filtered and paginated',
        tags: ['traffic'],
        querystring: z
          .object({
            ...flowMatch,
            sort: z
              .enum(FLOW_SORTS, { error: `expected one of ${FLOW_SORTS.join(', ')} (time when left out)` })
              .default('time'),
            order: z
              .enum(SORT_ORDERS, { error: 'expected desc or asc (desc when left out)' })
              .default('desc'),
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
          sensor: q.sensor,
          minBytes: q.minBytes,
          sort: q.sort,
          order: q.order,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );

  app.get(
    '/api/flows/graph',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'Who talks to whom: the hosts with the most bytes in the matching flows (last hour by default) and the largest pairs among them',
        tags: ['traffic'],
        querystring: z
          .object({
            ...flowMatch,
            hosts: z.coerce.number().int().min(1).max(MAX_GRAPH_HOSTS).default(25),
            limit: z.coerce.number().int().min(1).max(MAX_GRAPH_EDGES).default(100),
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      const { from, to } = rangeOf(q, deps.now());
      const graph = await deps.store.flows.flowGraph({
        ...defined({
          address: q.address,
          port: q.port,
          protocol: q.protocol,
          state: q.state,
          sensor: q.sensor,
          minBytes: q.minBytes,
        }),
        fromUs: from * 1000,
        toUs: to * 1000,
        hosts: q.hosts,
        edges: q.limit,
      });
      return { from, to, ...graph };
    },
  );

  app.get(
    '/api/hosts/:address',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "One host's traffic totals, top peers and top ports over a time range (last hour by default)",
        tags: ['traffic'],
        params: z.object({ address }).strict(),
        querystring: z
          .object({
            from: timeMs.optional(),
            to: timeMs.optional(),
            top: z.coerce.number().int().min(1).max(MAX_HOST_TOP).default(10),
          })
          .strict(),
      },
    },
    async (request) => {
      const { from, to } = rangeOf(request.query, deps.now());
      const summary = await deps.store.flows.hostSummary(
        request.params.address,
        from * 1000,
        to * 1000,
        request.query.top,
      );
      return { address: request.params.address, from, to, ...summary };
    },
  );
}

/** The flow filters the list and the graph share. */
const flowMatch = {
  from: timeMs.optional(),
  to: timeMs.optional(),
  address: address.optional(),
  port: z.coerce.number().int().min(0).max(65535).optional(),
  protocol: protocol.optional(),
  state: z
    .string()
    .regex(/^[a-z-]{1,24}$/, 'a flow state such as established, closed-fin, rejected')
    .optional(),
  minBytes: z.coerce.number().int().min(0).optional(),
  sensor: sensorName.optional(),
};

/** A time range in epoch ms: up to `to` (now by default), from an hour before it by default. */
function rangeOf(
  q: { from?: number | undefined; to?: number | undefined },
  now: number,
): { from: number; to: number } {
  const to = q.to ?? now;
  const from = q.from ?? to - 3_600_000;
  if (to <= from) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `to (${to}) must be after from (${from}), both epoch milliseconds`,
    );
  }
  return { from, to };
}
