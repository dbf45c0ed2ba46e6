/**
 * `GET /api/stream`: server-sent events for the dashboard: `rates` and `live` once a second,
 * `alert` as alerts are raised or grow, and `health` at each sample of the host. Sent with the bearer token in the Authorization header (fetch with a
 * streamed body), never in the URL, where proxies and logs would keep it. A stream whose client
 * reads too slowly is closed rather than buffered without limit.
 */

import { z } from 'zod';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';

/** Bytes waiting in a stream's socket before the stream is closed as too slow. */
const MAX_BUFFERED_BYTES = 1 << 20;
const HEARTBEAT_MS = 15_000;

export function registerStreamRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/stream',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Live rates (each second) and alerts as server-sent events',
        tags: ['live'],
        querystring: z.object({}).strict(),
      },
    },
    (request, reply) => {
      const feed = deps.feed;
      if (!feed) throw new FlowTrackError(ErrorCode.NOT_FOUND, 'this server has no live feed');
      const raw = reply.raw;
      let unsubscribe: (() => void) | null = null;
      const end = (): void => {
        unsubscribe?.();
        clearInterval(heartbeat);
        if (!raw.writableEnded) raw.end();
      };
      const send = (text: string): void => {
        if (raw.writableLength > MAX_BUFFERED_BYTES) {
          end();
          return;
        }
        raw.write(text);
      };
      unsubscribe = feed.subscribe((event) => {
        send(
          `event: ${event.type}\ndata: ${JSON.stringify(event.type === 'alert' ? event.alert : event)}\n\n`,
        );
      });
      if (!unsubscribe)
        throw new FlowTrackError(ErrorCode.RATE_LIMITED, 'too many open streams: try again later');
      reply.hijack();
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
        connection: 'keep-alive',
      });
      raw.write(': FlowTrack live feed\n\n');
      const heartbeat = setInterval(() => {
        send(': heartbeat\n\n');
      }, HEARTBEAT_MS);
      request.raw.on('close', end);
    },
  );
}
