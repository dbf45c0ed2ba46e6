/**
 * Port scans from the API: analysts and admins start and cancel scans (audited, at most 10 a
 * minute from one address, only within the networks the configuration allows: scan/scan-service.ts
 * checks and queues them); viewers list them and read a scan's report, its findings and what
 * changed since the previous run. Closing a finding is a firewall `close` rule (admin) made by the
 * dashboard through /api/firewall/rules.
 */

import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SCAN_STATUSES } from '../../store/scan-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { userOf } from '../access-control.js';
import type { Api, ApiDeps } from '../api-context.js';
import { defined, pageSchema } from './common-schemas.js';

const scanId = z.object({ id: z.uuid('a scan id (a UUID)') }).strict();

const scanBody = z
  .object({
    targets: z
      .array(z.string().min(1).max(255))
      .min(1, 'give at least one target: an address, a prefix, a range or a host name')
      .max(64),
    /** `-p` syntax: 22,80,443  1-1024  -  T:22,U:53. */
    ports: z.string().min(1).max(2000).optional(),
    tcp: z.boolean().optional(),
    udp: z.boolean().optional(),
    engine: z.enum(['flowtrack', 'nmap']).optional(),
    discovery: z.boolean().optional(),
    identify: z.boolean().optional(),
  })
  .strict();

/** Starts allowed per minute from one address: each can send up to a million probes. */
const STARTS_PER_MINUTE = 10;

export function registerScanRoutes(app: Api, deps: ApiDeps): void {
  const actor = (request: FastifyRequest) => ({ name: userOf(request).username, ip: request.ip });
  const service = () => {
    if (!deps.scans) throw new FlowTrackError(ErrorCode.NOT_FOUND, 'this server runs no scanner');
    return deps.scans;
  };

  app.post(
    '/api/scans',
    {
      config: { access: 'analyst', rateLimit: { max: STARTS_PER_MINUTE } },
      schema: {
        summary:
          'Start a port scan (queued; 403 when a target is outside scan.allowedNetworks, 429 when 10 wait already)',
        tags: ['scans'],
        body: scanBody,
      },
    },
    async (request, reply) => {
      const record = await service().submit(request.body, actor(request));
      return reply.code(202).send(record);
    },
  );

  app.get(
    '/api/scans',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Scans, newest first, without their reports',
        tags: ['scans'],
        querystring: z
          .object({
            status: z.enum(SCAN_STATUSES).optional(),
            schedule: z.string().max(64).optional(),
            ...pageSchema,
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      // Reports can be large: the list has the counts, GET /api/scans/{id} the report.
      return deps.store.scans.listScans({
        ...defined({ status: q.status, schedule: q.schedule, limit: q.limit, cursor: q.cursor }),
        withReports: false,
      });
    },
  );

  app.get(
    '/api/scans/:id',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          'One scan with its report: hosts, ports, services, findings, and what changed since the previous run',
        tags: ['scans'],
        params: scanId,
      },
    },
    async (request) => {
      const scan = await deps.store.scans.findById(request.params.id);
      if (!scan) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no scan ${request.params.id}`);
      return scan;
    },
  );

  app.post(
    '/api/scans/:id/cancel',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Cancel a queued or running scan (409 when it has ended)',
        tags: ['scans'],
        params: scanId,
      },
    },
    async (request) => {
      const { id } = request.params;
      if (!(await deps.store.scans.findById(id)))
        throw new FlowTrackError(ErrorCode.NOT_FOUND, `no scan ${id}`);
      if (!(await service().cancel(id, actor(request)))) {
        throw new FlowTrackError(ErrorCode.CONFLICT, `scan ${id} has already ended`);
      }
      return { id, cancelled: true };
    },
  );
}
