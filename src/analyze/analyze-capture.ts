/**
 * `flowtrack analyze` without the terminal: reads a capture, decodes every frame, builds flows
 * and returns the report. Wires capture/ -> decode/ -> flows/ -> TrafficSummaryBuilder; it holds
 * no state between calls and never prints.
 */

import { readCapture, type CaptureReadResult } from '../capture/capture-file.js';
import type { CapturedPacket, ReadStop } from '../capture/capture-parser.js';
import { linkTypeName } from '../capture/link-type.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { DEFAULT_FLOW_OPTIONS, FlowTable, type FlowTableOptions } from '../flows/flow-table.js';
import { readFlowRecord, type FlowRecord } from '../flows/flow-record.js';
import { TrafficSummaryBuilder, type TrafficSummary } from './traffic-summary.js';

export interface AnalyzeOptions {
  flows?: Partial<FlowTableOptions>;
  /** Rows in each top list (default 10). */
  top?: number;
  /** Distinct hosts ranked exactly before the talker lists become estimates (default 65536). */
  hostCapacity?: number;
  /** Receives every flow as it ends (for --flows). */
  onFlow?: (flow: FlowRecord) => void;
  onProgress?: (bytesRead: number, totalBytes: number | null) => void;
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
  const table = new FlowTable(flowOptions, (t, slot, reason) => {
    summary.addFlow(t, slot, reason);
    if (onFlow) onFlow(readFlowRecord(t, slot, reason));
  });
  const decoder = new PacketDecoder();

  const onPacket = (pkt: CapturedPacket): void => {
    decoder.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
    summary.addPacket(decoder, pkt.tsMicros, pkt.origLen, pkt.capLen);
    if (decoder.ipVersion !== 0) table.add(decoder, pkt.tsMicros, pkt.origLen);
  };

  const read = await readCapture(
    path,
    onPacket,
    options.onProgress ? { onProgress: options.onProgress } : {},
  );
  table.flush();

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
