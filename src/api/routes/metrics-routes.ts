/**
 * `GET /metrics`: the server's figures in Prometheus text format (server/metrics.ts). A scraper
 * cannot sign in, so this route takes no user token: it answers loopback clients (a Prometheus or
 * an agent on this host), and, when `metrics.token` is set, anyone who sends it as a bearer token.
 * Everyone else is refused (403, in the security log), since the figures describe the network.
 */

import { createHash, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { securityRequest } from '../access-control.js';
import type { Api, ApiDeps } from '../api-context.js';

export interface MetricsView {
  render(): Promise<{ contentType: string; body: string }>;
  observeRequest(method: string, route: string, status: number, seconds: number): void;
  /** The bearer token scrapers from other hosts must send; null: loopback only. */
  token: string | null;
}

export function registerMetricsRoutes(app: Api, deps: ApiDeps): void {
  const metrics = deps.metrics;
  if (!metrics) return;
  const wanted = metrics.token === null ? null : digest(metrics.token);
  app.addHook('onResponse', (request, reply, done) => {
    // The route as declared (bounded), never the URL the client sent.
    metrics.observeRequest(
      request.method,
      request.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
    done();
  });
  app.get(
    '/metrics',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Prometheus metrics (loopback, or with the bearer token of metrics.token)',
        tags: ['system'],
        querystring: z.object({}).strict(),
      },
    },
    async (request, reply) => {
      const bearer = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
      const allowed =
        (wanted !== null && bearer !== undefined && timingSafeEqual(digest(bearer), wanted)) ||
        (bearer === undefined && isLoopback(request.ip));
      if (!allowed) {
        deps.securityLog.record({
          ...securityRequest(request),
          kind: 'forbidden',
          role: 'anonymous',
          required: 'metrics',
        });
        throw new FlowTrackError(
          ErrorCode.FORBIDDEN,
          wanted === null
            ? 'metrics are served to this host only: set metrics.token and send it as a bearer token to scrape from elsewhere'
            : 'send the metrics token (metrics.token) as Authorization: Bearer <token>',
        );
      }
      const { contentType, body } = await metrics.render();
      return reply.header('content-type', contentType).header('cache-control', 'no-store').send(body);
    },
  );
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function isLoopback(ip: string): boolean {
  return ip === '::1' || ip.startsWith('127.') || ip.startsWith('::ffff:127.');
}
