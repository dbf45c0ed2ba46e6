/**
 * The live pipeline, as run inside the pipeline worker: packets from tcpdump (one per interface)
 * or from a replayed capture go through the evidence ring, the packet pipeline (decode, flows,
 * detectors) and the live view's counters; ended flows, alerts, each second's figures and the
 * capture's health go out as messages. It holds no database and no socket: the service's thread
 * stores and serves what it is told.
 *
 * Live capture never waits: if the service falls behind, its store writer counts what it drops.
 * A replay keeps the file's pace at `speed` and never runs more than STORE_WINDOW flows ahead of
 * what the service has taken (its 'stored' messages); so does every shutdown, whose flows (all
 * those still open) must all be stored, however many.
 */

import { readCapture } from '../capture/capture-file.js';
import type { CapturedPacket } from '../capture/capture-parser.js';
import { TcpdumpCapture, type CaptureEvent } from '../capture/tcpdump-capture.js';
import { AlertTracker } from '../alerts/alert-tracker.js';
import { PacketPipeline } from '../analyze/packet-pipeline.js';
import { DEFAULT_FLOW_OPTIONS } from '../flows/flow-table.js';
import { readFlowRecord } from '../flows/flow-record.js';
import { flowRowOf, type FlowRow } from '../store/flow-repository.js';
import { describeError } from '../util/errors.js';
import { EvidenceRecorder } from './evidence-recorder.js';
import { LiveStats } from './live-stats.js';
import type {
  CaptureStatus,
  PipelineConfig,
  ReplaySourceConfig,
  WorkerMessage,
} from './pipeline-messages.js';

/** Flows sent in one message at most, and how often a partial batch goes out. */
const FLOW_BATCH = 1000;
const FLOW_BATCH_MS = 200;
/**
 * Flows sent but not yet taken by the service, at most, during a replay and a shutdown (see
 * ControlMessage 'stored').
 */
const STORE_WINDOW = 20_000;
/** Replays read in small chunks when paced, so that the pace holds within a chunk's time. */
const PACED_CHUNK_BYTES = 16 * 1024;
/**
 * A replay that is behind its pace (or at full speed) still lets timers run this often: a stop,
 * the second's statistics and the batch timer would otherwise wait for the end of the file
 * (readCapture only yields to I/O, every few MiB).
 */
const TIMER_TURN_MS = 50;

/** Thrown into a replay's read to end it early (stop asked); not an error. */
class Stopped extends Error {}

export class PipelineRunner {
  private readonly pipeline: PacketPipeline;
  private readonly alerts: AlertTracker;
  private readonly evidence: EvidenceRecorder | null;
  private readonly stats: LiveStats;
  private readonly captures: TcpdumpCapture[] = [];
  private flows: FlowRow[] = [];
  /** Batches waiting for room in the window, and flows sent but not yet taken. */
  private readonly outbox: FlowRow[][] = [];
  private inFlight = 0;
  private window: number;
  private outboxEmptied: (() => void) | null = null;
  private flowCount = 0;
  private alertCount = 0;
  private packets = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private stopped: () => void = () => undefined;
  /** Kernel drops already reported, per interface: an alert is raised when they grow. */
  private readonly dropsSeen = new Map<string, number>();

  constructor(
    private readonly config: PipelineConfig,
    private readonly post: (message: WorkerMessage) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.evidence =
      config.evidence === null
        ? null
        : new EvidenceRecorder(config.evidence, (file) => this.post({ type: 'evidence', file }));
    this.alerts = new AlertTracker({ idPrefix: config.alertIdPrefix, keep: false }, (alert, isNew) => {
      if (isNew) this.alertCount++;
      this.evidence?.onAlert(alert, isNew);
      this.post({ type: 'alert', alert });
    });
    this.pipeline = new PacketPipeline({
      flows: { ...DEFAULT_FLOW_OPTIONS, ...config.flows },
      alerts: this.alerts,
      ...(config.detection && { detection: config.detection }),
      onFlowEnd: (table, slot, reason) => {
        this.flowCount++;
        this.flows.push(flowRowOf(readFlowRecord(table, slot, reason)));
        if (this.flows.length >= FLOW_BATCH) this.sendFlows();
      },
    });
    this.stats = new LiveStats(now(), 0);
    // Live capture never waits for the store: the service counts what it cannot keep.
    this.window = config.source.kind === 'replay' ? STORE_WINDOW : Infinity;
  }

  /** Runs until the replay ends or `stop()` is called; posts 'done' last. */
  async run(): Promise<void> {
    this.timers.push(setInterval(() => this.sendFlows(), FLOW_BATCH_MS));
    this.timers.push(setInterval(() => this.everySecond(), 1000));
    let readError: string | null = null;
    try {
      const source = this.config.source;
      if (source.kind === 'replay') readError = await this.replay(source);
      else await this.capture();
    } finally {
      for (const t of this.timers) clearInterval(t);
      this.pipeline.finish();
      this.evidence?.close();
      this.sendFlows();
      await this.outboxDrained();
      this.everySecond();
      this.post({
        type: 'done',
        summary: { packets: this.packets, flows: this.flowCount, alerts: this.alertCount, readError },
      });
    }
  }

  /** The service took `flows` flows: send what waited for room. */
  stored(flows: number): void {
    this.inFlight = Math.max(0, this.inFlight - flows);
    this.pump();
  }

  /** Ends capture (tcpdump flushes first) or the replay; `run()` then finishes. */
  async stop(): Promise<void> {
    this.stopping = true;
    // The open flows all end now, maybe hundreds of thousands: they go as the store takes them.
    this.window = STORE_WINDOW;
    await Promise.all(this.captures.map((c) => c.stop()));
    this.stopped();
  }

  private onPacket = (pkt: CapturedPacket): void => {
    this.packets++;
    const evidence = this.evidence;
    evidence?.keep(pkt);
    this.pipeline.push(pkt);
    this.stats.addPacket(this.pipeline.decoder, pkt.origLen);
    evidence?.afterPacket(pkt, this.pipeline.decoder);
  };

  private async capture(): Promise<void> {
    const source = this.config.source;
    if (source.kind !== 'live') return;
    const { interfaces, ...options } = source;
    for (const name of interfaces) {
      this.captures.push(
        new TcpdumpCapture({ ...options, interface: name, now: this.now }, this.onPacket, (event) =>
          this.onCaptureEvent(event),
        ),
      );
    }
    const done = new Promise<void>((resolve) => (this.stopped = resolve));
    for (const c of this.captures) c.start();
    if (this.stopping) return;
    await done;
  }

  private async replay(source: ReplaySourceConfig): Promise<string | null> {
    const paced = source.speed !== 'max';
    const speed = source.speed === 'max' ? 1 : source.speed;
    let firstPacket = -1;
    let lastPacket = 0;
    const started = this.now();
    let lastTurn = started;
    const turn = (ms: number): Promise<void> => {
      lastTurn = this.now();
      return new Promise((resolve) => setTimeout(resolve, ms));
    };
    try {
      const result = await readCapture(
        source.file,
        (pkt) => {
          if (firstPacket < 0) firstPacket = pkt.tsMicros;
          lastPacket = pkt.tsMicros;
          this.onPacket(pkt);
        },
        {
          ...(paced && { chunkBytes: PACED_CHUNK_BYTES }),
          waitForRoom: () => {
            if (this.stopping) return Promise.reject(new Stopped());
            if (this.outbox.length > 0) return this.outboxDrained();
            const now = this.now();
            if (paced && firstPacket >= 0) {
              const wait = started + (lastPacket - firstPacket) / 1000 / speed - now;
              if (wait > 1) return turn(Math.min(wait, 1000));
            }
            return now - lastTurn >= TIMER_TURN_MS ? turn(0) : null;
          },
        },
      );
      return result.stopped ? `${result.stopped.reason} (at byte ${result.stopped.offset})` : null;
    } catch (err) {
      // readCapture wraps what it did not throw itself: the stop may come back as the cause.
      if (err instanceof Stopped || (err instanceof Error && err.cause instanceof Stopped)) return null;
      const message = describeError(err);
      this.post({ type: 'failed', message });
      return message;
    }
  }

  private onCaptureEvent(event: CaptureEvent): void {
    this.post({ type: 'capture', event });
    if (event.type === 'gap') {
      const seconds = ((event.toMs - event.fromMs) / 1000).toFixed(1);
      this.alerts.report({
        type: 'capture_gap',
        severity: 'medium',
        src: null,
        dst: null,
        at: event.toMs * 1000,
        startedAt: event.fromMs * 1000,
        counters: { gapSeconds: Number(seconds) },
        summary: `no capture on ${event.interface} for ${seconds} s: tcpdump died and was started again`,
        thresholds: [],
      });
    }
  }

  private everySecond(): void {
    const now = this.now();
    if (this.config.source.kind === 'live') {
      // A quiet link still moves time on: idle flows end, detectors tick.
      this.pipeline.advance(now * 1000);
      this.evidence?.advance(now * 1000);
      for (const c of this.captures) c.requestStats();
      this.checkDrops(now);
    }
    this.post({
      type: 'second',
      live: this.stats.take(now, this.pipeline.table.flowsCreated),
      capture: this.captureStatus(),
    });
  }

  private checkDrops(now: number): void {
    for (const c of this.captures) {
      const { kernelDropped, interfaceDropped, received } = c.counters;
      const dropped = kernelDropped + interfaceDropped;
      const seen = this.dropsSeen.get(c.interfaceName) ?? 0;
      if (dropped <= seen) continue;
      this.dropsSeen.set(c.interfaceName, dropped);
      this.alerts.report({
        type: 'capture_loss',
        severity: 'high',
        src: null,
        dst: null,
        at: now * 1000,
        counters: { kernelDropped, interfaceDropped, received },
        summary: `capture on ${c.interfaceName} is losing packets: ${dropped} dropped of ${received + dropped} (the kernel's buffer or the interface could not keep up)`,
        thresholds: [{ metric: 'dropped', value: dropped, threshold: 0 }],
      });
    }
  }

  private captureStatus(): CaptureStatus[] {
    return this.captures.map((c) => ({
      interface: c.interfaceName,
      state: c.state,
      pid: c.pid,
      counters: { ...c.counters },
      failure: c.failure,
    }));
  }

  private sendFlows(): void {
    if (this.flows.length === 0) return;
    this.outbox.push(this.flows);
    this.flows = [];
    this.pump();
  }

  /** Sends the waiting batches the window has room for (always one when nothing is in flight). */
  private pump(): void {
    while (this.outbox.length > 0) {
      const batch = this.outbox[0]!;
      if (this.inFlight > 0 && this.inFlight + batch.length > this.window) return;
      this.outbox.shift();
      if (this.window !== Infinity) this.inFlight += batch.length;
      this.post({ type: 'flows', flows: batch });
    }
    this.outboxEmptied?.();
    this.outboxEmptied = null;
  }

  private outboxDrained(): Promise<void> {
    if (this.outbox.length === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.outboxEmptied;
      this.outboxEmptied = () => {
        previous?.();
        resolve();
      };
    });
  }
}
