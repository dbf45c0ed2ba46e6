/**
 * The one interface every detector implements, and what it is given. Detectors run on packet
 * time (never a clock of their own), keep bounded state (see key-table.ts) and report through the
 * AlertTracker, which merges the reports of one ongoing attack into one alert.
 */

import type { AlertTracker } from '../alerts/alert-tracker.js';
import type { PacketDecoder } from '../decode/packet-decoder.js';
import type { EndReason, FlowTable } from '../flows/flow-table.js';

/** One decoded packet as detectors see it. The engine reuses a single instance. */
export interface PacketEvent {
  packet: PacketDecoder;
  /** Packet time, microseconds since the epoch. */
  ts: number;
  frameBytes: number;
  flows: FlowTable;
  /** The packet's flow slot in `flows`; -1 when the packet is not IP. */
  slot: number;
  /** True when this packet created its flow. */
  newFlow: boolean;
}

export interface Detector {
  readonly name: string;
  /** Every packet, on the packet path: must not allocate per packet. */
  onPacket(event: PacketEvent): void;
  /** A flow ended (its slot is readable during the call). */
  onFlowEnd?(flows: FlowTable, slot: number, reason: EndReason): void;
  /** About once per second of packet time, before the first packet past that second. */
  onTick?(now: number): void;
  /** End of input or shutdown: report what is pending. */
  finish?(now: number): void;
}

/** Numeric options of a detector, each with a default; set from the command line or config. */
export type DetectorOptions = Record<string, number>;

/** How a detector is listed, configured and built. */
export interface DetectorFactory<O extends DetectorOptions = DetectorOptions> {
  /** Name used in configuration: `NAME.option=value`. */
  readonly name: string;
  readonly description: string;
  /** Every option with its default and what it means. */
  readonly defaults: O;
  readonly help: Record<keyof O & string, string>;
  create(options: O, alerts: AlertTracker): Detector;
}
