/**
 * The flow-record source: a UDP socket that receives NetFlow v5/v9 and IPFIX from routers and
 * switches, decodes each datagram (netflow-decoder.ts) and hands the flows over in batches, each
 * tagged with the exporter that sent it, so exporters can be shown as sensors.
 *
 * A collector is a listening socket anyone can send to: `allowedExporters` restricts it to known
 * exporters (others are dropped and counted), and every table it keeps is bounded. It must never
 * crash on what arrives: bad datagrams are counted with their reason, a callback that throws is
 * counted too. It owns no clock but the arrival time it stamps on each datagram.
 */

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { BlockList, isIP } from 'node:net';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { NetflowDecoder, type CollectedFlow, type DecoderState } from './netflow-decoder.js';

export interface FlowCollectorOptions {
  /**
   * Address to listen on: "127.0.0.1", "0.0.0.0" (every IPv4 address), "::" (IPv6, and IPv4 where
   * the system maps it), or one of this host's addresses.
   */
  address: string;
  /** UDP port; 0 takes a free one (see `listeningOn`). NetFlow commonly uses 2055, IPFIX 4739. */
  port: number;
  /** Receives the flows, about `batchSize` at a time and at least every `batchIntervalMs`. */
  onFlows: (flows: CollectedFlow[]) => void;
  /**
   * Exporters allowed to send, as addresses or prefixes ("192.0.2.1", "10.0.0.0/8",
   * "2001:db8::/32"); datagrams from any other are dropped and counted. Absent: any exporter,
   * which is only safe on an address no one else can reach.
   */
  allowedExporters?: readonly string[];
  /** Sampling rate (1 out of N) per exporter address, used instead of what it announces. */
  samplingOverrides?: Readonly<Record<string, number>>;
  /** Flows per batch (default 1000); a batch ends at the datagram that reaches it. */
  batchSize?: number;
  /** The longest a decoded flow waits for its batch, in ms (default 1000). */
  batchIntervalMs?: number;
  /** Socket receive buffer asked for (default 8 MiB); the kernel may grant less (net.core.rmem_max). */
  receiveBufferBytes?: number;
  /** Exporters kept (templates, statistics), the least recently heard dropped first (default 1000). */
  maxExporters?: number;
  /** Templates kept per exporter (default 1000). */
  maxTemplatesPerExporter?: number;
  /** The arrival time stamped on datagrams, ms since the epoch (tests pass their own). */
  now?: () => number;
}

/** What one exporter (by address) has sent. */
export interface ExporterStats {
  address: string;
  datagrams: number;
  flows: number;
  malformed: number;
  /** ms since the epoch. */
  lastSeenMs: number;
}

export interface CollectorStats {
  /** Datagrams received, including those dropped. */
  datagrams: number;
  /** Datagrams dropped because their exporter is not allowed. */
  notAllowed: number;
  /** Datagrams that could not be read (whole or in part); the last reason is kept. */
  malformed: number;
  lastMalformed: { exporter: string; reason: string; atMs: number } | null;
  /** Flow data records decoded. */
  records: number;
  /** Data records with no address pair, which make no flow. */
  recordsWithoutAddresses: number;
  /** Flows handed to `onFlows`. */
  flows: number;
  templatesLearnt: number;
  templatesWithdrawn: number;
  optionsRecords: number;
  /** Data sets skipped because their template had not arrived yet. */
  unknownTemplateSets: number;
  /** Batches whose `onFlows` threw. */
  callbackErrors: number;
  /** Socket errors after it started listening. */
  socketErrors: number;
  /** Per exporter address, most recently heard last. */
  exporters: ExporterStats[];
  /** Exporters whose statistics were dropped to stay within `maxExporters`. */
  exportersDropped: number;
  decoder: DecoderState;
  /** The socket's receive buffer as the kernel granted it (0 before start). */
  receiveBufferBytes: number;
}

const DEFAULT_BATCH_SIZE = 1000;
const DEFAULT_BATCH_INTERVAL_MS = 1000;
const DEFAULT_RECEIVE_BUFFER = 8 << 20;
const DEFAULT_MAX_EXPORTERS = 1000;

export class FlowCollector {
  private readonly decoder: NetflowDecoder;
  private readonly allowed: BlockList | null;
  private readonly batchSize: number;
  private readonly batchIntervalMs: number;
  private readonly receiveBufferBytes: number;
  private readonly maxExporters: number;
  private readonly now: () => number;
  private socket: Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private pending: CollectedFlow[] = [];
  private readonly perExporter = new Map<string, ExporterStats>();
  /** The exporter of the last datagram: the most recent already, no reordering needed. */
  private recentExporter: ExporterStats | null = null;
  private readonly counts = {
    datagrams: 0,
    notAllowed: 0,
    malformed: 0,
    records: 0,
    recordsWithoutAddresses: 0,
    flows: 0,
    templatesLearnt: 0,
    templatesWithdrawn: 0,
    optionsRecords: 0,
    unknownTemplateSets: 0,
    callbackErrors: 0,
    socketErrors: 0,
    exportersDropped: 0,
  };
  private lastMalformed: CollectorStats['lastMalformed'] = null;
  private grantedBuffer = 0;

  constructor(private readonly options: FlowCollectorOptions) {
    if (isIP(options.address) === 0) {
      throw badOption(
        `listen address "${options.address}" is not an IP address; use e.g. 0.0.0.0, :: or 127.0.0.1`,
      );
    }
    if (!Number.isInteger(options.port) || options.port < 0 || options.port > 65535) {
      throw badOption(`listen port ${options.port} is not a UDP port; give 0 to 65535 (0 takes a free one)`);
    }
    this.batchSize = atLeastOne('batchSize', options.batchSize ?? DEFAULT_BATCH_SIZE);
    this.batchIntervalMs = atLeastOne(
      'batchIntervalMs',
      options.batchIntervalMs ?? DEFAULT_BATCH_INTERVAL_MS,
    );
    this.receiveBufferBytes = atLeastOne(
      'receiveBufferBytes',
      options.receiveBufferBytes ?? DEFAULT_RECEIVE_BUFFER,
    );
    this.maxExporters = atLeastOne('maxExporters', options.maxExporters ?? DEFAULT_MAX_EXPORTERS);
    this.allowed = options.allowedExporters === undefined ? null : allowList(options.allowedExporters);
    this.decoder = new NetflowDecoder({
      maxExporters: this.maxExporters,
      ...(options.maxTemplatesPerExporter !== undefined && {
        maxTemplatesPerExporter: options.maxTemplatesPerExporter,
      }),
      ...(options.samplingOverrides !== undefined && { samplingOverrides: options.samplingOverrides }),
    });
    this.now = options.now ?? Date.now;
  }

  /**
   * Binds the socket. Rejects with a FlowTrackError naming the address and port when it cannot
   * (the port taken by another program, an address this host does not have, a privileged port).
   */
  async start(): Promise<void> {
    if (this.socket !== null) return;
    const { address, port } = this.options;
    const socket = createSocket({ type: isIP(address) === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => {
        socket.close();
        reject(
          new FlowTrackError(
            ErrorCode.IO_ERROR,
            `cannot receive NetFlow/IPFIX on ${address} port ${port}: ${bindProblem(err)}`,
            { cause: err },
          ),
        );
      };
      socket.once('error', failed);
      socket.bind({ address, port, exclusive: true }, () => {
        socket.off('error', failed);
        resolve();
      });
    });
    try {
      socket.setRecvBufferSize(this.receiveBufferBytes);
    } catch {
      // Refused (e.g. a restricted container): the default buffer still works, with more loss
      // under bursts; `receiveBufferBytes` in stats() shows what was granted.
    }
    this.grantedBuffer = socket.getRecvBufferSize();
    socket.on('error', () => this.counts.socketErrors++);
    socket.on('message', (datagram, from) => {
      this.receive(datagram, from);
    });
    this.socket = socket;
    this.timer = setInterval(() => {
      this.flush();
    }, this.batchIntervalMs);
    this.timer.unref();
  }

  /** The address and port it listens on (the port chosen when 0 was asked). */
  listeningOn(): { address: string; port: number } {
    if (this.socket === null) throw badOption('the flow collector is not started');
    const { address, port } = this.socket.address();
    return { address, port };
  }

  /** Hands over the flows still waiting, then closes the socket. */
  async stop(): Promise<void> {
    const socket = this.socket;
    if (socket === null) return;
    this.socket = null;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await new Promise<void>((resolve) => {
      socket.close(() => {
        resolve();
      });
    });
    this.flush();
  }

  stats(): CollectorStats {
    return {
      ...this.counts,
      lastMalformed: this.lastMalformed,
      exporters: [...this.perExporter.values()].map((e) => ({ ...e })),
      decoder: this.decoder.stateStats(),
      receiveBufferBytes: this.grantedBuffer,
    };
  }

  private receive(datagram: Buffer, from: RemoteInfo): void {
    const c = this.counts;
    c.datagrams++;
    const address = exporterAddress(from.address);
    if (this.allowed !== null && !this.allowed.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')) {
      c.notAllowed++;
      return;
    }
    const atMs = this.now();
    const result = this.decoder.decode(datagram, { address, port: from.port }, atMs);
    c.records += result.dataRecords;
    c.recordsWithoutAddresses += result.recordsWithoutAddresses;
    c.templatesLearnt += result.templatesLearnt;
    c.templatesWithdrawn += result.templatesWithdrawn;
    c.optionsRecords += result.optionsRecords;
    c.unknownTemplateSets += result.unknownTemplateSets;
    const exporter = this.exporterStats(address);
    exporter.datagrams++;
    exporter.flows += result.flows.length;
    exporter.lastSeenMs = atMs;
    if (result.malformed !== null) {
      c.malformed++;
      exporter.malformed++;
      this.lastMalformed = { exporter: address, reason: result.malformed, atMs };
    }
    for (const flow of result.flows) this.pending.push(flow);
    if (this.pending.length >= this.batchSize) this.flush();
  }

  /** The statistics of `address`, made the most recently heard; the least recent go past the cap. */
  private exporterStats(address: string): ExporterStats {
    const recent = this.recentExporter;
    if (recent?.address === address && this.perExporter.get(address) === recent) return recent;
    let stats = this.perExporter.get(address);
    if (stats !== undefined) this.perExporter.delete(address);
    else stats = { address, datagrams: 0, flows: 0, malformed: 0, lastSeenMs: 0 };
    this.perExporter.set(address, stats);
    if (this.perExporter.size > this.maxExporters) {
      this.perExporter.delete(this.perExporter.keys().next().value!);
      this.counts.exportersDropped++;
    }
    this.recentExporter = stats;
    return stats;
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.counts.flows += batch.length;
    try {
      this.options.onFlows(batch);
    } catch {
      // The receiver's fault, not the exporter's: count it and keep receiving.
      this.counts.callbackErrors++;
    }
  }
}

/** The exporter's address as flows and the allow-list name it: no zone, IPv4 not IPv4-mapped. */
function exporterAddress(address: string): string {
  const bare = address.includes('%') ? address.slice(0, address.indexOf('%')) : address;
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice(7) : bare;
}

function allowList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = '', prefix, extra] = entry.trim().split('/');
    const family = isIP(address);
    const bits = prefix === undefined ? null : Number(prefix);
    const maxBits = family === 4 ? 32 : 128;
    if (
      family === 0 ||
      extra !== undefined ||
      (bits !== null && !(Number.isInteger(bits) && bits >= 0 && bits <= maxBits))
    ) {
      throw badOption(
        `allowed exporter "${entry}" is not an address or prefix; write e.g. 192.0.2.1, 10.0.0.0/8 or 2001:db8::/32`,
      );
    }
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === null) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

function bindProblem(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'EADDRINUSE':
      return 'the port is already in use by another program; stop it or choose another port (EADDRINUSE)';
    case 'EADDRNOTAVAIL':
      return 'this host has no such address; listen on one of its addresses, or 0.0.0.0 / :: (EADDRNOTAVAIL)';
    case 'EACCES':
    case 'EPERM':
      return `permission denied: ports below 1024 need root or CAP_NET_BIND_SERVICE; use e.g. 2055 (${code})`;
    default:
      return err.message;
  }
}

function atLeastOne(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw badOption(`${name} is ${value}: give a whole number of 1 or more`);
  }
  return value;
}

function badOption(message: string): FlowTrackError {
  return new FlowTrackError(ErrorCode.BAD_OPTION, message);
}
