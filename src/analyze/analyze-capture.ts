/**
 * `flowtrack analyze` without the terminal: reads a capture, decodes every frame, builds flows
 * and returns the report. Wires capture/ -> decode/ -> flows/ -> TrafficSummaryBuilder; it holds
 * no state between calls and never prints.
 */

import { readCapture, type CaptureReadResult } from '../capture/capture-file.js';
import type { CapturedPacket, ReadStop } from '../capture/capture-parser.js';
import { linkTypeName } from '../capture/link-type.js';
import { DEFAULT_FLOW_OPTIONS, type FlowTableOptions } from '../flows/flow-table.js';
import { readFlowRecord, type FlowRecord } from '../flows/flow-record.js';
import { TrafficSummaryBuilder, type TrafficSummary } from './traffic-summary.js';
import { AlertTracker } from '../alerts/alert-tracker.js';
import type { Alert } from '../alerts/alert.js';
import type { DetectionSettings } from '../detect/detector-registry.js';
import { PacketPipeline } from './packet-pipeline.js';

export interface AnalyzeOptions {
  flows?: Partial<FlowTableOptions>;
  /** Rows in each top list (default 10). */
  top?: number;
  /** Distinct hosts ranked exactly before the talker lists become estimates (default 65536). */
  hostCapacity?: number;
  /** Receives every flow as it ends (for --flows). */
  onFlow?: (flow: FlowRecord) => void;
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
  /** Run the detectors (default true). */
  detect?: boolean;
  /** Detector option overrides (see detector-registry.ts). */
  detection?: DetectionSettings;
  /** Receives each alert when it is raised and each time it grows. */
  onAlert?: (alert: Alert) => void;
  /** Put in every alert id (see AlertTrackerOptions.idPrefix). */
  alertIdPrefix?: string;
  /** Pauses reading while it returns a promise (see ReadCaptureOptions.waitForRoom). */
  waitForRoom?: () => Promise<void> | null;
}

export interface AnalysisReport extends TrafficSummary {
  input: {
    file: string;
    format: CaptureReadResult['format'];
    compressed: boolean;
    linkTypes: string[];
    /** Set when the capture is corrupt or cut short: everything before `offset` was analysed. */
    readError: ReadStop | null;
    /** Records skipped without stopping (e.g. a packet for an undeclared pcapng interface). */
    skippedRecords: number;
  };
  /** Alerts the detectors raised, in the order they started. */
  alerts: Alert[];
  /** Alerts not kept because the run raised more than the tracker keeps. */
  alertsDropped: number;
  settings: {
    maxFlows: number;
    idleTimeoutSeconds: number;
    activeTimeoutSeconds: number;
    closedTimeoutSeconds: number;
  };
  resources: {
    elapsedSeconds: number;
    packetsPerSecond: number;
    peakRssBytes: number;
  };
}

/** Analyses the capture at `path` ("-" for standard input). Throws FlowTrackError when it cannot be read at all. */
export async function analyzeCapture(path: string, options: AnalyzeOptions = {}): Promise<AnalysisReport> {
  const started = process.hrtime.bigint();
  const flowOptions: FlowTableOptions = { ...DEFAULT_FLOW_OPTIONS, ...options.flows };
  const summary = new TrafficSummaryBuilder({
    top: options.top ?? 10,
    hostCapacity: options.hostCapacity ?? 65536,
  });
  const onFlow = options.onFlow;
  const onAlert = options.onAlert;
  const alerts = new AlertTracker(
    options.alertIdPrefix === undefined ? {} : { idPrefix: options.alertIdPrefix },
    onAlert && ((alert) => onAlert(alert)),
  );
  const pipeline = new PacketPipeline({
    flows: flowOptions,
    alerts: options.detect === false ? null : alerts,
    ...(options.detection && { detection: options.detection }),
    onFlowEnd: (t, slot, reason) => {
      summary.addFlow(t, slot, reason);
      if (onFlow) onFlow(readFlowRecord(t, slot, reason));
    },
  });
  const onPacket = (pkt: CapturedPacket): void => {
    pipeline.push(pkt);
    summary.addPacket(pipeline.decoder, pkt.tsMicros, pkt.origLen, pkt.capLen);
  };

  const read = await readCapture(path, onPacket, {
    ...(options.onProgress && { onProgress: options.onProgress }),
    ...(options.waitForRoom && { waitForRoom: options.waitForRoom }),
  });
  // Detectors see the flows that are still open before the flush ends them.
  pipeline.finish();
  const table = pipeline.table;

  const elapsedSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  return {
    input: {
      file: path,
      format: read.format,
      compressed: read.compressed,
      linkTypes: read.linkTypes.map(linkTypeName),
      readError: read.stopped,
      skippedRecords: read.skippedRecords,
    },
    ...summary.build(table.evicted, table.fragmentsJoined),
    alerts: [...alerts.alerts()].sort((a, b) => a.start - b.start),
    alertsDropped: alerts.dropped,
    settings: {
      maxFlows: flowOptions.maxFlows,
      idleTimeoutSeconds: flowOptions.idleTimeoutMicros / 1e6,
      activeTimeoutSeconds: flowOptions.activeTimeoutMicros / 1e6,
      closedTimeoutSeconds: flowOptions.closedTimeoutMicros / 1e6,
    },
    resources: {
      elapsedSeconds,
      packetsPerSecond: elapsedSeconds > 0 ? Math.round(summary.packets / elapsedSeconds) : 0,
      // maxRSS is in kilobytes (getrusage).
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    },
  };
}
