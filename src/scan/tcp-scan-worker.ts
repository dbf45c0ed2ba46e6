/**
 * A worker thread of `scanTcpInWorkers`: scans its share of the (address, port) pairs with
 * `scanTcp` and posts the verdicts back in batches. Plain data in and out (scan-types.ts).
 * Must never: outlive an abort (the parent's 'abort' message cancels everything in flight).
 */

import { parentPort, workerData } from 'node:worker_threads';
import type { PortResult, ScanTarget } from './scan-types.js';
import { tcpConnector } from './tcp-connector.js';
import { scanTcp, type TcpScanOptions } from './tcp-scan.js';
import { BATCH, newBatch, VERDICTS, type VerdictBatch } from './tcp-verdict-batch.js';

export interface TcpScanWorkerData {
  targets: ScanTarget[];
  ports: number[];
  options: Omit<TcpScanOptions, 'connector' | 'signal' | 'onResult'>;
  connector: 'auto' | 'libuv' | 'net';
}

export type TcpScanWorkerMessage =
  { type: 'results'; batch: VerdictBatch } | { type: 'done' } | { type: 'failed'; message: string };

const port = parentPort;
if (port) {
  const data = workerData as TcpScanWorkerData;
  const controller = new AbortController();
  port.on('message', (m: { type: string }) => {
    if (m.type === 'abort') controller.abort();
  });
  const index = new Map(data.targets.map((t, i) => [t.address, i]));
  let batch = newBatch();
  let n = 0;
  const flush = () => {
    if (n === 0) return;
    const out: VerdictBatch = {
      target: batch.target.slice(0, n),
      port: batch.port.slice(0, n),
      state: batch.state.slice(0, n),
      rtt: batch.rtt.slice(0, n),
      other: batch.other,
    };
    port.postMessage({ type: 'results', batch: out } satisfies TcpScanWorkerMessage, [
      out.target.buffer,
      out.port.buffer,
      out.state.buffer,
      out.rtt.buffer,
    ]);
    batch = newBatch();
    n = 0;
  };
  const add = (r: PortResult) => {
    batch.target[n] = index.get(r.address) ?? 0;
    batch.port[n] = r.port;
    batch.rtt[n] = r.rttMs ?? Number.NaN;
    const code = VERDICTS.findIndex((v) => v.state === r.state && v.reason === r.reason);
    batch.state[n] = code < 0 ? 255 : code;
    if (code < 0) batch.other[n] = { state: r.state, reason: r.reason };
    if (++n === BATCH) flush();
  };
  scanTcp(data.targets, data.ports, {
    ...data.options,
    connector: tcpConnector(data.connector),
    signal: controller.signal,
    onResult: add,
  }).then(
    () => {
      flush();
      port.postMessage({ type: 'done' } satisfies TcpScanWorkerMessage);
    },
    (err: unknown) => {
      port.postMessage({ type: 'failed', message: String(err) } satisfies TcpScanWorkerMessage);
    },
  );
}
