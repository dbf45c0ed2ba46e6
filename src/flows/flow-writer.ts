/**
 * Writes ended flows to a file as JSON lines or CSV, buffered and synchronous so memory stays
 * flat however many flows a capture holds (the flow-end callback cannot wait for a stream).
 */

import { closeSync, openSync, writeSync } from 'node:fs';
import type { FlowRecord } from './flow-record.js';

export type FlowFileFormat = 'jsonl' | 'csv';

const CSV_COLUMNS: readonly (keyof FlowRecord)[] = [
  'id',
  'ipVersion',
  'protocol',
  'clientAddress',
  'clientPort',
  'serverAddress',
  'serverPort',
  'firstSeen',
  'lastSeen',
  'packetsToServer',
  'packetsToClient',
  'bytesToServer',
  'bytesToClient',
  'tcpFlagsClient',
  'tcpFlagsServer',
  'state',
  'icmpType',
  'icmpCode',
  'fragments',
  'endReason',
];

const FLUSH_AT = 1 << 16;

/** The format a file name asks for: CSV for *.csv, JSON lines otherwise. */
export function flowFormatFor(path: string): FlowFileFormat {
  return path.toLowerCase().endsWith('.csv') ? 'csv' : 'jsonl';
}

export class FlowFileWriter {
  private readonly fd: number;
  private pending = '';
  written = 0;

  constructor(
    path: string,
    private readonly format: FlowFileFormat,
  ) {
    this.fd = openSync(path, 'w');
    if (format === 'csv') this.pending = CSV_COLUMNS.join(',') + '\n';
  }

  write(flow: FlowRecord): void {
    this.pending +=
      this.format === 'jsonl'
        ? JSON.stringify(flow) + '\n'
        : CSV_COLUMNS.map((c) => csvField(flow[c])).join(',') + '\n';
    this.written++;
    if (this.pending.length >= FLUSH_AT) this.flush();
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }

  private flush(): void {
    if (this.pending.length > 0) writeSync(this.fd, this.pending);
    this.pending = '';
  }
}

function csvField(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}
