/**
 * What the service's thread and the pipeline worker say to each other. Plain data only (it is
 * copied between threads): no class instances, no functions.
 */

import type { Alert } from '../alerts/alert.js';
import type {
  CaptureCounters,
  CaptureEvent,
  CaptureState,
  TcpdumpCaptureOptions,
} from '../capture/tcpdump-capture.js';
import type { DetectionSettings } from '../detect/detector-registry.js';
import type { FlowTableOptions } from '../flows/flow-table.js';
import type { FlowRow } from '../store/flow-repository.js';
import type { EvidenceFile, EvidenceOptions } from './evidence-recorder.js';
import type { LiveSecond } from './live-stats.js';

/** One tcpdump per interface, each with these options (the clock and restart delays stay the worker's). */
export interface LiveSourceConfig extends Omit<
  TcpdumpCaptureOptions,
  'interface' | 'now' | 'restartDelayMs' | 'maxRestartDelayMs'
> {
  kind: 'live';
  interfaces: string[];
}

export interface ReplaySourceConfig {
  kind: 'replay';
  file: string;
  /** Times real time (2 = twice as fast), or 'max' for as fast as the store keeps up. */
  speed: number | 'max';
}

export interface PipelineConfig {
  source: LiveSourceConfig | ReplaySourceConfig;
  flows?: Partial<FlowTableOptions>;
  detection?: DetectionSettings;
  /** Put in every alert id, so that a restarted service never reuses one. */
  alertIdPrefix: string;
  /** null: no evidence files. */
  evidence: EvidenceOptions | null;
}

/** One interface's capture as the API shows it. */
export interface CaptureStatus {
  interface: string;
  state: CaptureState;
  pid: number | null;
  counters: CaptureCounters;
  failure: string | null;
}

/** What the pipeline did in all, when it stops. */
export interface PipelineSummary {
  packets: number;
  flows: number;
  alerts: number;
  /** Why a replayed file could not be read to its end, if it could not. */
  readError: string | null;
}

export type WorkerMessage =
  | { type: 'flows'; flows: FlowRow[] }
  | { type: 'alert'; alert: Alert }
  | { type: 'second'; live: LiveSecond; capture: CaptureStatus[] }
  | { type: 'capture'; event: CaptureEvent }
  | { type: 'evidence'; file: EvidenceFile }
  | { type: 'done'; summary: PipelineSummary }
  | { type: 'failed'; message: string };

/**
 * `stored`: the service has taken `flows` more flows off the worker's hands (a replay sends no
 * more than a window ahead of it, so that a file read at full speed never overruns the store).
 */
export type ControlMessage = { type: 'stored'; flows: number } | { type: 'stop' };
