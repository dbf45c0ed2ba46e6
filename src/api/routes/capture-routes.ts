/**
 * Live capture through the API: what each interface's capture is doing (state, packets, drops,
 * restarts) with the last second's live figures, and the evidence pcap of an alert. Viewers see
 * the state; the packets themselves (payloads included) are for analysts, and each download is
 * audited.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { z } from 'zod';
import type { LiveSecond } from '../../live/live-stats.js';
import type { CaptureStatus } from '../../live/pipeline-messages.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { audit } from '../audit.js';
import { alertIdParams } from './common-schemas.js';

export interface CaptureView {
  /** 'live': capturing; 'replay': a capture file drives the pipeline; 'off': neither. */
  mode: () => 'live' | 'replay' | 'off';
  interfaces: () => CaptureStatus[];
  /** The last second's figures, null before the first. */
  live: () => LiveSecond | null;
  /** Where the evidence pcap of `alertId` is (it may not exist), or null for an unusable id. */
  evidencePath: (alertId: string) => string | null;
}

export function registerCaptureRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/capture',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Live capture: each interface (state, packets, kernel drops, restarts) and the last second',
        tags: ['live'],
        querystring: z.object({}).strict(),
      },
    },
    () => {
      const capture = deps.capture;
      if (!capture) return { mode: 'off' as const, interfaces: [], live: null };
      return { mode: capture.mode(), interfaces: capture.interfaces(), live: capture.live() };
    },
  );

  app.get(
    '/api/anomalies/:id/evidence',
    {
      config: { access: 'analyst' },
      schema: {
        summary: "The alert's packets as a pcap file (a few seconds before it began, until it ended)",
        tags: ['alerts'],
        params: alertIdParams,
      },
    },
    async (request, reply) => {
      const id = request.params.id;
      const path = deps.capture?.evidencePath(id) ?? null;
      const size =
        path === null
          ? null
          : await stat(path).then(
              (s) => s.size,
              () => null,
            );
      if (path === null || size === null) {
        throw new FlowTrackError(
          ErrorCode.NOT_FOUND,
          `no packets were kept for alert ${id}: evidence is kept for alerts raised by live capture or a replay, while the evidence folder has room`,
        );
      }
      await audit(deps, request, { action: 'evidence.download', target: id, after: { bytes: size } });
      return reply
        .type('application/vnd.tcpdump.pcap')
        .header('content-disposition', `attachment; filename="${id}.pcap"`)
        .header('content-length', size)
        .send(createReadStream(path));
    },
  );
}
