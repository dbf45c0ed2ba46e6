import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { FlowRecord } from './flow-record.js';
import { FlowFileWriter, flowFormatFor } from './flow-writer.js';

const flow: FlowRecord = {
  id: 1,
  ipVersion: 4,
  protocol: 'tcp',
  clientAddress: '192.0.2.1',
  clientPort: 40000,
  serverAddress: '198.51.100.7',
  serverPort: 443,
  firstSeen: 1_700_000_000_000_000,
  lastSeen: 1_700_000_001_000_000,
  packetsToServer: 5,
  packetsToClient: 4,
  bytesToServer: 600,
  bytesToClient: 9000,
  tcpFlagsClient: 'SFPA',
  tcpFlagsServer: 'SFPA',
  state: 'closed-fin',
  icmpType: null,
  icmpCode: null,
  fragments: 0,
  endReason: 'closed',
};

let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('FlowFileWriter', () => {
  it('picks CSV for .csv and JSON lines otherwise', () => {
    expect(flowFormatFor('x.CSV')).toBe('csv');
    expect(flowFormatFor('x.jsonl')).toBe('jsonl');
  });

  it('writes one JSON object a line that reads back the same', () => {
    dir = mkdtempSync(join(tmpdir(), 'ft-'));
    const path = join(dir, 'f.jsonl');
    const w = new FlowFileWriter(path, 'jsonl');
    for (let i = 0; i < 3000; i++) w.write({ ...flow, id: i });
    w.close();
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(3000);
    expect(JSON.parse(lines[2999]!)).toEqual({ ...flow, id: 2999 });
  });

  it('writes CSV with a header row and empty cells for nulls', () => {
    dir = mkdtempSync(join(tmpdir(), 'ft-'));
    const path = join(dir, 'f.csv');
    const w = new FlowFileWriter(path, 'csv');
    w.write(flow);
    w.close();
    const [header, row] = readFileSync(path, 'utf8').trimEnd().split('\n');
    expect(header?.split(',')).toContain('serverPort');
    const cells = row!.split(',');
    expect(cells[header!.split(',').indexOf('serverPort')]).toBe('443');
    expect(cells[header!.split(',').indexOf('icmpType')]).toBe('');
  });
});
