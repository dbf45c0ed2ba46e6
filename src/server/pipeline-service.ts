/**
 * The service's side of the packet pipeline: chooses what drives it (live capture on the
 * configured interfaces, or a replayed file), starts the pipeline worker, writes what it reports
 * to the store, the live feed and the server log, and answers the API's questions about capture
 * (CaptureView). Capture that cannot start (no tcpdump, no permission) is said in one line and
 * the rest of the service goes on.
 */

import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { CaptureView } from '../api/routes/capture-routes.js';
import { defaultCaptureInterface } from '../capture/network-interfaces.js';
import type { ServiceConfig } from '../config/service-config.js';
import { evidenceFileName, type EvidenceOptions } from '../live/evidence-recorder.js';
import { LivePipeline } from '../live/live-pipeline.js';
import type { LiveSecond } from '../live/live-stats.js';
import type { CaptureStatus, PipelineConfig, WorkerMessage } from '../live/pipeline-messages.js';
import type { FlowProcess, FlowRow } from '../store/flow-repository.js';
import type { IngestWriter } from '../store/store-writer.js';
import { describeError } from '../util/errors.js';
import type { LiveFeed } from './live-feed.js';

const MiB = 1024 * 1024;
/**
 * Rows the store writer may have queued before more flows are taken only after a flush (a replay
 * and a shutdown wait for that; live capture does not).
 */
const QUEUE_LIMIT = 20_000;

export interface PipelineServiceOptions {
  config: ServiceConfig;
  /** Replay this file instead of capturing live. */
  replay?: { file: string; speed: number | 'max' };
  /** The store writer of the moment (a restore replaces it). */
  writer: () => IngestWriter;
  /** Each alert before it is stored and shown: severity overrides and suppression rules. */
  prepareAlert?: (alert: Alert) => Alert;
  /** Each live alert as it is raised and updated (the blocking policy, notifications). */
  onAlert?: (alert: Alert) => void;
  /** The process on this host behind a flow, when the system monitor saw its socket. */
  processOf?: (flow: FlowRow) => FlowProcess | null;
  /** True for an alert about FlowTrack's own doing (its port scans): dropped, not stored or shown. */
  isOwnAlert?: (alert: Alert) => boolean;
  /** Each flow as it is stored (its IPFIX export). */
  onFlow?: (flow: FlowRow) => void;
  /** Put before each run's alert ids (a sensor's name, so that its ids differ from other sensors'). */
  alertIdPrefix?: string;
  feed: LiveFeed;
  logger: Logger;
  print: (line: string) => void;
  now: () => number;
}

export class PipelineService implements CaptureView {
  private pipeline: LivePipeline | null = null;
  private lastSecond: LiveSecond | null = null;
  private captureStatus: CaptureStatus[] = [];
  /** Ids of alerts about FlowTrack's own scans (bounded: cleared at 10,000). */
  private readonly ownAlerts = new Set<string>();
  private readonly evidenceDir: string;

  constructor(private readonly options: PipelineServiceOptions) {
    this.evidenceDir = join(options.config.dataDir, 'evidence');
  }

  mode = (): 'live' | 'replay' | 'off' => {
    if (this.options.replay) return 'replay';
    return this.options.config.capture.enabled ? 'live' : 'off';
  };

  interfaces = (): CaptureStatus[] => this.captureStatus;

  live = (): LiveSecond | null => this.lastSecond;

  evidencePath = (alertId: string): string | null => {
    const file = evidenceFileName(alertId);
    return file === null ? null : join(this.evidenceDir, file);
  };

  /** Starts the worker (nothing when capture is off and there is no replay). */
  start(): void {
    const { config, replay, print } = this.options;
    const capture = config.capture;
    if (!replay && !capture.enabled) return;
    const interfaces = capture.interfaces.length > 0 ? [...capture.interfaces] : [defaultCaptureInterface()];
    const e = capture.evidence;
    const evidence: EvidenceOptions | null = e.enabled
      ? {
          dir: this.evidenceDir,
          ringBytes: e.ringMB * MiB,
          snapBytes: e.snapBytes,
          beforeSeconds: e.beforeSeconds,
          quietSeconds: e.quietSeconds,
          maxBytesPerAlert: e.maxMBPerAlert * MiB,
          maxRecordings: 16,
          maxTotalBytes: e.maxTotalMB * MiB,
        }
      : null;
    const pipelineConfig: PipelineConfig = {
      source: replay
        ? { kind: 'replay', file: replay.file, speed: replay.speed }
        : {
            kind: 'live',
            interfaces,
            filter: capture.bpf,
            snapLength: capture.snaplen,
            promiscuous: capture.promiscuous,
            bufferKiB: capture.bufferKiB,
            immediate: capture.immediate,
          },
      flows: {
        idleTimeoutMicros: capture.flowTimeouts.idleSeconds * 1_000_000,
        closedTimeoutMicros: capture.flowTimeouts.closedSeconds * 1_000_000,
        activeTimeoutMicros: capture.flowTimeouts.activeSeconds * 1_000_000,
      },
      detection: structuredClone(config.detection),
      // Each run's alert ids are its own: a restart must not overwrite the last run's alerts.
      alertIdPrefix: `${this.options.alertIdPrefix ?? ''}${this.options.now().toString(36)}-`,
      evidence,
    };
    this.pipeline = new LivePipeline(pipelineConfig, (m) => this.onMessage(m));
    if (replay) print(`flowtrack: replaying ${replay.file} (speed ${String(replay.speed)})`);
    else
      print(
        `flowtrack: capturing on ${interfaces.join(', ')}${capture.bpf ? ` (filter: ${capture.bpf})` : ''}`,
      );
  }

  /** Stops capture or replay and hands every flow and alert still in the pipeline to the writer. */
  async stop(): Promise<void> {
    await this.pipeline?.stop();
    this.pipeline = null;
  }

  private onMessage(m: WorkerMessage): void {
    const { feed, logger, print } = this.options;
    const writer = this.options.writer();
    switch (m.type) {
      case 'flows':
        for (const flow of m.flows) {
          // A replayed capture's flows are history: today's sockets say nothing about them.
          if (!this.options.replay && this.options.processOf) flow.process = this.options.processOf(flow);
          writer.enqueueFlow(flow);
          feed.countFlow(flow);
          this.options.onFlow?.(flow);
        }
        this.takeFlows(writer, m.flows.length);
        break;
      case 'alert':
        // Once taken for FlowTrack's own, every later update of that alert is too.
        if (this.ownAlerts.has(m.alert.id)) break;
        if (this.options.isOwnAlert?.(m.alert)) {
          if (this.ownAlerts.size >= 10_000) this.ownAlerts.clear();
          this.ownAlerts.add(m.alert.id);
          logger.info(
            { alert: m.alert.id, type: m.alert.type, src: m.alert.src, dst: m.alert.dst },
            "alert left out: it is about FlowTrack's own port scan",
          );
          break;
        }
        {
          const alert = this.options.prepareAlert?.(m.alert) ?? m.alert;
          writer.enqueueAlert(alert);
          feed.publishAlert(alert);
          // Live alerts only: a replayed capture's attackers are history, not hosts to block now.
          if (!this.options.replay) this.options.onAlert?.(alert);
        }
        break;
      case 'second':
        this.lastSecond = m.live;
        this.captureStatus = m.capture;
        feed.publishLive(m.live, m.capture);
        break;
      case 'capture': {
        const e = m.event;
        if (e.type === 'failed') {
          logger.error({ interface: e.interface }, e.message);
          print(
            `flowtrack: no live capture on ${e.interface}: ${e.message}; the rest of the service runs on`,
          );
        } else if (e.type === 'died') {
          logger.warn({ interface: e.interface, restartInMs: e.restartInMs }, `capture stopped: ${e.reason}`);
        } else if (e.type === 'gap') {
          logger.warn(
            { interface: e.interface, fromMs: e.fromMs, toMs: e.toMs },
            'capture resumed after a gap',
          );
        } else {
          logger.info({ interface: e.interface, linkType: e.linkType }, 'capture running');
        }
        break;
      }
      case 'evidence':
        if (m.file.done) logger.info({ ...m.file }, 'evidence file complete');
        break;
      case 'done': {
        const s = m.summary;
        logger.info({ ...s }, 'pipeline stopped');
        const replay = this.options.replay;
        // Said once the store has it all: a script may read the API as soon as it sees this line.
        if (replay) {
          void writer
            .flush()
            .catch((err: unknown) => logger.error({ err: describeError(err) }, 'store write failed'))
            .finally(() =>
              print(
                `flowtrack: replayed ${replay.file}: ${s.packets} packets, ${s.flows} flows, ${s.alerts} alerts` +
                  (s.readError === null ? '' : ` (stopped early: ${s.readError})`),
              ),
            );
        }
        break;
      }
      case 'failed':
        logger.error({ err: m.message }, 'pipeline failed');
        print(`flowtrack: the packet pipeline failed: ${m.message}`);
        break;
    }
  }

  /** Lets the pipeline send more once the writer is not too far behind. */
  private takeFlows(writer: IngestWriter, flows: number): void {
    const pipeline = this.pipeline;
    if (!pipeline) return;
    if (writer.queued <= QUEUE_LIMIT) {
      pipeline.stored(flows);
      return;
    }
    writer
      .flush()
      .catch((err: unknown) => this.options.logger.error({ err: describeError(err) }, 'store write failed'))
      .finally(() => pipeline.stored(flows));
  }
}
