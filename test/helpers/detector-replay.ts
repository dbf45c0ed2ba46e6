/**
 * Replays hand-built IPv4 packets through a flow table and one detector, wired as
 * analyzeCapture wires them, for detector unit tests.
 */

import { AlertTracker } from '../../src/alerts/alert-tracker.js';
import type { Alert } from '../../src/alerts/alert.js';
import { LinkType } from '../../src/capture/link-type.js';
import { PacketDecoder } from '../../src/decode/packet-decoder.js';
import type { DetectorFactory, PacketEvent } from '../../src/detect/detector.js';
import { FlowTable } from '../../src/flows/flow-table.js';

/** One frame for `replay`: IPv4 bytes (no link layer) at `t` seconds after T0. */
export interface Frame {
  t: number;
  ip: Uint8Array;
}

export const T0 = 1_700_000_000_000_000;

/**
 * Replays `frames` (in time order) through the flow table and one detector as analyzeCapture
 * wires them; returns the alerts and the packet time each was first raised at (seconds after T0).
 */
export function replay(
  factory: DetectorFactory,
  frames: readonly Frame[],
  options: Record<string, number> = {},
): { alerts: readonly Alert[]; raisedAt: number[] } {
  const raisedAt: number[] = [];
  let now = 0;
  const tracker = new AlertTracker({}, (_alert, isNew) => {
    if (isNew) raisedAt.push((now - T0) / 1e6);
  });
  const detector = factory.create({ ...factory.defaults, ...options }, tracker);
  const flows = new FlowTable({}, (t, slot, reason) => detector.onFlowEnd?.(t, slot, reason));
  const packet = new PacketDecoder();
  const event: PacketEvent = { packet, ts: 0, frameBytes: 0, flows, slot: -1, newFlow: false };
  for (const f of frames) {
    now = T0 + Math.round(f.t * 1e6);
    packet.decode(LinkType.RAW, f.ip, 0, f.ip.length);
    event.ts = now;
    event.frameBytes = f.ip.length + 14;
    const created = flows.flowsCreated;
    event.slot = flows.add(packet, now, event.frameBytes);
    event.newFlow = flows.flowsCreated !== created;
    detector.onPacket(event);
  }
  detector.finish?.(now);
  return { alerts: tracker.alerts(), raisedAt };
}

/** `count` pseudo-random IPv4 addresses (xorshift32 from `seed`): spoofed sources, reflectors. */
export function randomAddresses(count: number, seed = 7): number[] {
  let x = seed;
  return Array.from({ length: count }, () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  });
}
