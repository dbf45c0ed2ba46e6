/**
 * The packet path shared by `flowtrack analyze` and the live service: each captured frame is
 * decoded, joins its flow and is shown to the detectors; each flow that ends goes to the detectors
 * and then to `onFlowEnd`. Pure and synchronous: no I/O, no clock; time is the packet's, or what
 * `advance` is given when a live capture falls quiet.
 */

import type { CapturedPacket } from '../capture/capture-parser.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { FlowTable, type FlowEndHandler, type FlowTableOptions } from '../flows/flow-table.js';
import type { AlertTracker } from '../alerts/alert-tracker.js';
import { DetectionEngine } from '../detect/detection-engine.js';
import { createDetectors, type DetectionSettings } from '../detect/detector-registry.js';
import type { PacketEvent } from '../detect/detector.js';

export interface PacketPipelineOptions {
  flows: FlowTableOptions;
  /** Where detectors report; null runs no detector. */
  alerts: AlertTracker | null;
  detection?: DetectionSettings;
  /** Each ended flow, after the detectors saw it (its slot is readable during the call). */
  onFlowEnd: FlowEndHandler;
}

export class PacketPipeline {
  /** The last packet decoded: read it after `push` (e.g. for per-packet statistics). */
  readonly decoder = new PacketDecoder();
  readonly table: FlowTable;
  private readonly engine: DetectionEngine | null;
  private readonly event: PacketEvent;

  constructor(options: PacketPipelineOptions) {
    const alerts = options.alerts;
    this.engine = alerts === null ? null : new DetectionEngine(createDetectors(alerts, options.detection));
    const engine = this.engine;
    const onFlowEnd = options.onFlowEnd;
    this.table = new FlowTable(options.flows, (t, slot, reason) => {
      engine?.onFlowEnd(t, slot, reason);
      onFlowEnd(t, slot, reason);
    });
    this.event = { packet: this.decoder, ts: 0, frameBytes: 0, flows: this.table, slot: -1, newFlow: false };
  }

  /** Decodes `pkt`, adds it to its flow and runs the detectors on it. */
  push(pkt: CapturedPacket): void {
    const decoder = this.decoder;
    decoder.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
    const table = this.table;
    let slot = -1;
    const created = table.flowsCreated;
    if (decoder.ipVersion !== 0) slot = table.add(decoder, pkt.tsMicros, pkt.origLen);
    if (this.engine) {
      const event = this.event;
      event.ts = pkt.tsMicros;
      event.frameBytes = pkt.origLen;
      event.slot = slot;
      event.newFlow = table.flowsCreated !== created;
      this.engine.onPacket(event);
    }
  }

  /**
   * Lets time pass without packets (a quiet live link): flows whose timeout has passed end, and
   * the detectors get their tick. Time never goes back: an earlier `now` does nothing.
   */
  advance(now: number): void {
    if (now <= this.table.now) return;
    this.table.advanceTo(now);
    this.engine?.advance(now);
  }

  /** End of input or shutdown: detectors report what is pending, then every flow still open ends. */
  finish(): void {
    this.engine?.finish(this.table.now);
    this.table.flush();
  }
}
