/**
 * A whole scan, as `flowtrack scan` and the server run it: targets checked against the allowed
 * networks, live hosts found (when there is more than one address), their TCP and UDP ports
 * scanned by FlowTrack's engines or by nmap, open TCP ports identified by their banners, and
 * every open port judged by the exposure knowledge. The report keeps every port whose state is
 * not the host's usual one and counts the rest, as nmap's "Not shown: 65530 closed ports".
 *
 * Must never: probe an address outside the scope (the check comes before the first packet), or
 * leave the caller without a report when one engine fails for one host (the error is in it).
 */

import { networkInterfaces } from 'node:os';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { assessAll, loadExposureRules, usualService } from './exposure.js';
import { outOfScopeError, outsideScope, type ScanScope } from './scan-scope.js';
import { parseTargets } from './scan-targets.js';
import type { Finding, PortResult, PortState, ScanTarget, ScanProtocol } from './scan-types.js';
import { scanTcp, scanTcpInWorkers } from './tcp-scan.js';

export type ScanEngine = 'flowtrack' | 'nmap';

export interface ScanRequest {
  /** Addresses, prefixes, ranges and host names (scan-targets.ts). */
  targets: readonly string[];
  tcpPorts: readonly number[];
  udpPorts: readonly number[];
  engine?: ScanEngine;
  /** Find live hosts first when there is more than one address (default true; -Pn turns it off). */
  discovery?: boolean;
  /** Identify the services on open TCP ports (default true). */
  identify?: boolean;
  /** New probes a second at most. */
  ratePerSecond?: number;
  /** TCP: the longest wait for an answer (default 1000 ms). */
  timeoutMs?: number;
}

/** One host's part of a report. */
export interface HostReport {
  address: string;
  hostName?: string;
  /** Answered at least once (a refused connection counts). */
  up: boolean;
  /** One of this host's own addresses: its open ports can be closed by FlowTrack's firewall. */
  local: boolean;
  /** Every port not in `notShown`, by protocol and port. */
  ports: PortResult[];
  /** The ports in the host's most common state when that is not open, counted, per protocol. */
  notShown: { protocol: ScanProtocol; state: PortState; count: number }[];
}

export interface ScanReport {
  engine: ScanEngine;
  startedAt: number;
  finishedAt: number;
  targets: readonly string[];
  tcpPorts: number;
  udpPorts: number;
  /** Addresses the targets named. */
  addresses: number;
  /** Hosts that answered (all addresses when discovery was off). */
  hosts: HostReport[];
  findings: Finding[];
}

export interface ScanDeps {
  scope: ScanScope;
  /** Host-name lookup (tests); node's dns by default. */
  resolve?: (name: string) => Promise<{ address: string; family: 4 | 6 }[]>;
  signal?: AbortSignal;
  onProgress?: (event: ScanProgress) => void;
  now?: () => number;
}

export type ScanProgress =
  { phase: 'discovery' | 'tcp' | 'udp' | 'identify'; done: number; total: number } | { phase: 'done' };

/** Ports tried to find whether an address is a live host: the most often open or answered. */
export const DISCOVERY_PORTS = [80, 443, 22, 445, 3389, 8080, 25, 53, 139, 21] as const;
/** Above this many ports in one state, a host's ports in that state are counted, not listed. */
const LISTED_LIMIT = 25;
/** Open TCP ports identified at once. */
const IDENTIFY_CONCURRENCY = 32;

/** Runs `request` within `deps.scope`; throws FORBIDDEN before any packet when a target is outside it. */
export async function runScan(request: ScanRequest, deps: ScanDeps): Promise<ScanReport> {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const engine = request.engine ?? 'flowtrack';
  const targets = await parseTargets(request.targets, deps.resolve ? { resolve: deps.resolve } : {});
  const outside = outsideScope(targets, deps.scope);
  if (outside.length > 0) throw outOfScopeError(outside, 'this host');
  if (request.tcpPorts.length === 0 && request.udpPorts.length === 0) {
    throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'no ports to scan: give -p with TCP or UDP ports');
  }
  const progress = deps.onProgress ?? (() => undefined);
  const signal = deps.signal;

  let live = targets;
  if ((request.discovery ?? true) && targets.length > 1) live = await discoverHosts(targets, request, deps);

  let results: PortResult[];
  if (engine === 'nmap') {
    // Loaded when used, as are the UDP engine and the service probes: a plain TCP scan starts sooner.
    const { runNmap } = await import('./nmap-engine.js');
    results =
      live.length === 0
        ? []
        : await runNmap(
            live.map((t) => t.address),
            {
              tcpPorts: [...request.tcpPorts],
              udpPorts: [...request.udpPorts],
              serviceDetection: request.identify ?? true,
              ...(signal && { signal }),
            },
          );
  } else {
    let done = 0;
    const tcpTotal = live.length * request.tcpPorts.length;
    const tcp = await scanTcpInWorkers(live, request.tcpPorts, {
      ...(request.ratePerSecond !== undefined && { ratePerSecond: request.ratePerSecond }),
      ...(request.timeoutMs !== undefined && { maxTimeoutMs: request.timeoutMs }),
      ...(signal && { signal }),
      onResult: () => {
        if (++done % 1000 === 0 || done === tcpTotal) progress({ phase: 'tcp', done, total: tcpTotal });
      },
    });
    const udp =
      request.udpPorts.length === 0
        ? []
        : await (
            await import('./udp-scan.js')
          ).scanUdp(live, request.udpPorts, { ...(signal && { signal }) });
    results = [...tcp, ...udp];
    if (request.identify ?? true) await identifyOpenPorts(results, progress, signal);
  }
  for (const r of results) {
    if (r.state === 'open' && r.service === undefined) {
      const name = usualService(r.protocol, r.port);
      if (name !== undefined) r.service = { name };
    }
  }
  const rules = loadExposureRules();
  const hosts = buildHostReports(live, results, request.discovery ?? true);
  progress({ phase: 'done' });
  return {
    engine,
    startedAt,
    finishedAt: now(),
    targets: request.targets,
    tcpPorts: request.tcpPorts.length,
    udpPorts: request.udpPorts.length,
    addresses: targets.length,
    hosts,
    findings: assessAll(results, rules),
  };
}

/**
 * The addresses that answer a TCP connection to one of DISCOVERY_PORTS (open or refused both
 * say a host is there), as nmap does without privileges. A host that drops everything is missed;
 * -Pn (discovery: false) scans every address instead.
 */
async function discoverHosts(
  targets: readonly ScanTarget[],
  request: ScanRequest,
  deps: ScanDeps,
): Promise<ScanTarget[]> {
  const answered = new Set<string>();
  let done = 0;
  const total = targets.length * DISCOVERY_PORTS.length;
  await scanTcp(targets, DISCOVERY_PORTS, {
    retries: 0,
    maxTimeoutMs: Math.min(request.timeoutMs ?? 1000, 1000),
    ...(request.ratePerSecond !== undefined && { ratePerSecond: request.ratePerSecond }),
    ...(deps.signal && { signal: deps.signal }),
    onResult: (r) => {
      if (r.state === 'open' || r.state === 'closed') answered.add(r.address);
      if (++done % 500 === 0 || done === total) deps.onProgress?.({ phase: 'discovery', done, total });
    },
  });
  return targets.filter((t) => answered.has(t.address));
}

async function identifyOpenPorts(
  results: PortResult[],
  progress: (event: ScanProgress) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  const open = results.filter((r) => r.protocol === 'tcp' && r.state === 'open');
  if (open.length === 0) return;
  const { identifyTcpService } = await import('./service-probes.js');
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < open.length && !signal?.aborted) {
      const result = open[next++]!;
      const service = await identifyTcpService(result.address, result.port, signal ? { signal } : {});
      if (service) result.service = service;
      progress({ phase: 'identify', done: ++done, total: open.length });
    }
  };
  await Promise.all(Array.from({ length: Math.min(IDENTIFY_CONCURRENCY, open.length) }, worker));
}

/** One report a host, ports sorted; a host's most common non-open state counted when it is many. */
function buildHostReports(
  live: readonly ScanTarget[],
  results: readonly PortResult[],
  discovered: boolean,
): HostReport[] {
  const byAddress = new Map<string, PortResult[]>();
  for (const r of results) {
    let list = byAddress.get(r.address);
    if (!list) byAddress.set(r.address, (list = []));
    list.push(r);
  }
  const reports: HostReport[] = [];
  for (const target of live) {
    const all = byAddress.get(target.address) ?? [];
    const up =
      discovered ||
      all.some((r) => r.state === 'open' || r.state === 'closed' || r.reason === 'udp-response');
    const ports: PortResult[] = [];
    const notShown: HostReport['notShown'] = [];
    for (const protocol of ['tcp', 'udp'] as const) {
      const mine = all.filter((r) => r.protocol === protocol).sort((a, b) => a.port - b.port);
      const counts = new Map<PortState, number>();
      for (const r of mine) counts.set(r.state, (counts.get(r.state) ?? 0) + 1);
      let hidden: PortState | null = null;
      for (const [state, count] of counts) {
        if (state !== 'open' && count > LISTED_LIMIT && count > (hidden ? (counts.get(hidden) ?? 0) : 0))
          hidden = state;
      }
      for (const r of mine) if (r.state !== hidden) ports.push(r);
      if (hidden) notShown.push({ protocol, state: hidden, count: counts.get(hidden) ?? 0 });
    }
    reports.push({
      address: target.address,
      ...(target.hostName !== undefined && { hostName: target.hostName }),
      up,
      local: isLocalAddress(target.address),
      ports,
      notShown,
    });
  }
  return reports;
}

/** True for loopback and for the addresses of this host's interfaces now (they come and go). */
export function isLocalAddress(address: string): boolean {
  if (address === '::1' || address.startsWith('127.')) return true;
  return Object.values(networkInterfaces()).some((list) => list?.some((a) => a.address === address));
}

/** The state of `port` in a host's report (listed, or the counted state, or undefined when not scanned). */
export function portStateIn(host: HostReport, protocol: ScanProtocol, port: number): PortState | undefined {
  const listed = host.ports.find((p) => p.protocol === protocol && p.port === port);
  return listed?.state ?? host.notShown.find((n) => n.protocol === protocol)?.state;
}
