/**
 * Runs the detectors over the packet stream: hands each packet and each ended flow to every
 * detector and ticks them on packet time. Pure: no I/O, no clock.
 */

import type { EndReason, FlowTable } from '../flows/flow-table.js';
import type { Detector, PacketEvent } from './detector.js';

const TICK_MICROS = 1_000_000;

export class DetectionEngine {
  private nextTick = -Infinity;

  constructor(readonly detectors: readonly Detector[]) {}

  onPacket(event: PacketEvent): void {
    if (event.ts >= this.nextTick) this.advance(event.ts);
    for (const d of this.detectors) d.onPacket(event);
  }

  /** Ticks the detectors when `now` has reached the next second (also with no packet: a quiet link). */
  advance(now: number): void {
    if (now < this.nextTick) return;
    // A capture may jump hours at once: one tick at the new time, not one per second skipped.
    if (this.nextTick !== -Infinity) for (const d of this.detectors) d.onTick?.(now);
    this.nextTick = now - (now % TICK_MICROS) + TICK_MICROS;
  }

  onFlowEnd(flows: FlowTable, slot: number, reason: EndReason): void {
    for (const d of this.detectors) d.onFlowEnd?.(flows, slot, reason);
  }

  finish(now: number): void {
    for (const d of this.detectors) d.finish?.(now);
  }
}
