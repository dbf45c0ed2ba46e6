/**
 * The TCP verdicts a scan worker hands its parent, as columns of typed arrays that are moved, not
 * copied, between threads: 65,535 objects cloned across threads cost the parent's core as much
 * as the scan. Plain data; no I/O.
 */

import type { PortResult, PortState, ScanTarget } from './scan-types.js';

/**
 * A batch of verdicts as columns: the i-th verdict is targets[target[i]], port[i], the state and
 * reason of index state[i] in VERDICTS (or, at 255, reasons[i]), round trip rtt[i] (NaN: none).
 * Typed arrays are moved, not copied, to the parent: 65,535 objects cloned across threads cost
 * the parent's core as much as the scan.
 */
export interface VerdictBatch {
  target: Uint32Array<ArrayBuffer>;
  port: Uint16Array<ArrayBuffer>;
  state: Uint8Array<ArrayBuffer>;
  rtt: Float64Array<ArrayBuffer>;
  /** Reasons of the verdicts not in VERDICTS, by index. */
  other: Record<number, { state: PortState; reason: string }>;
}

/** The usual verdicts, by code. */
export const VERDICTS: readonly { state: PortState; reason: string }[] = [
  { state: 'closed', reason: 'conn-refused' },
  { state: 'open', reason: 'syn-ack' },
  { state: 'filtered', reason: 'no-response' },
  { state: 'filtered', reason: 'host-unreachable' },
];

/** Verdicts per batch. */
export const BATCH = 4096;

export function newBatch(): VerdictBatch {
  return {
    target: new Uint32Array(BATCH),
    port: new Uint16Array(BATCH),
    state: new Uint8Array(BATCH),
    rtt: new Float64Array(BATCH),
    other: {},
  };
}

/** The verdicts of a batch as results again, in the parent. */
export function resultsOf(batch: VerdictBatch, targets: readonly ScanTarget[]): PortResult[] {
  const out: PortResult[] = [];
  for (let i = 0; i < batch.port.length; i++) {
    const verdict = batch.state[i] === 255 ? batch.other[i] : VERDICTS[batch.state[i]!];
    const rtt = batch.rtt[i]!;
    out.push({
      address: targets[batch.target[i]!]!.address,
      protocol: 'tcp',
      port: batch.port[i]!,
      state: verdict?.state ?? 'filtered',
      reason: verdict?.reason ?? 'unknown',
      ...(Number.isNaN(rtt) ? {} : { rttMs: rtt }),
    });
  }
  return out;
}
