/**
 * Port scanning by nmap, the reference tool: the one adapter between FlowTrack and the nmap
 * program. It runs `nmap -sT` (and `-sU` for UDP ports) as a child process and reads its XML
 * report (`-oX -`) into the scanner's own PortResult, so that nmap's verdicts and FlowTrack's own
 * engines can be stored and compared alike.
 *
 * Must never: go through a shell or let a target be read as an option (arguments are a list and
 * `--` ends the options), outlive its timeout or an abort (nmap is killed with SIGKILL), or pass
 * off nmap's port-table guess as an identified service: only a service nmap probed counts.
 */

import { spawn } from 'node:child_process';
import { XMLParser } from 'fast-xml-parser';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { PortResult, PortState, ScanProtocol, ServiceInfo } from './scan-types.js';

export interface NmapOptions {
  /** TCP ports to scan with a connect scan (-sT). */
  tcpPorts?: readonly number[];
  /** UDP ports to scan (-sU): nmap needs root for it. */
  udpPorts?: readonly number[];
  /** nmap is killed after this long, over the whole call (default 10 minutes). */
  timeoutMs?: number;
  /** The nmap program (default: `nmap` on the PATH). */
  nmapPath?: string;
  /** Ask the open ports what they are (-sV): slower, but names and versions the services. */
  serviceDetection?: boolean;
  /** Aborting kills nmap; the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const INSTALL_HINT = 'install it (`apt-get install nmap`)';
/** Enough of nmap's stderr to explain a failure. */
const STDERR_KEPT = 16 * 1024;

/**
 * Scans `targets` (addresses, names or ranges as nmap takes them) with nmap and resolves with one
 * result per (address, protocol, port) nmap reported. IPv6 targets (any target with a ':') are
 * scanned by a second nmap run with -6, since one nmap run takes one address family.
 * Throws FlowTrackError: BAD_OPTION for an empty target or port list or a bad port, IO_ERROR when
 * nmap is missing, fails (UDP without root says so), times out or writes no usable report.
 */
export async function runNmap(targets: readonly string[], options: NmapOptions = {}): Promise<PortResult[]> {
  checkRequest(targets, options);
  const { signal } = options;
  signal?.throwIfAborted();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = performance.now() + timeoutMs;
  const ipv6 = targets.filter((t) => t.includes(':'));
  const others = targets.filter((t) => !t.includes(':'));
  const results: PortResult[] = [];
  for (const [group, family] of [
    [others, 4],
    [ipv6, 6],
  ] as const) {
    if (group.length === 0) continue;
    const xml = await runOnce(options.nmapPath ?? 'nmap', nmapArguments(group, options, family), {
      remainingMs: Math.max(0, deadline - performance.now()),
      timeoutMs,
      signal,
    });
    results.push(...parseNmapXml(xml));
  }
  return results;
}

/** The argument list runNmap gives nmap for targets of one address family (exported for tests). */
export function nmapArguments(targets: readonly string[], options: NmapOptions, family: 4 | 6 = 4): string[] {
  const tcp = options.tcpPorts ?? [];
  const udp = options.udpPorts ?? [];
  const portSpec = [
    tcp.length > 0 ? `T:${portRanges(tcp)}` : null,
    udp.length > 0 ? `U:${portRanges(udp)}` : null,
  ].filter((part) => part !== null);
  return [
    ...(tcp.length > 0 ? ['-sT'] : []),
    ...(udp.length > 0 ? ['-sU'] : []),
    ...(options.serviceDetection === true ? ['-sV'] : []),
    // Every target is scanned (no ping first: a host that drops pings is not "down"), no reverse DNS.
    '-Pn',
    '-n',
    ...(family === 6 ? ['-6'] : []),
    '-p',
    portSpec.join(','),
    '-oX',
    '-',
    '--',
    ...targets,
  ];
}

/** Ports as nmap's compact list: sorted, duplicates dropped, runs as ranges ("22-25,80,443"). */
export function portRanges(ports: readonly number[]): string {
  const sorted = [...new Set(ports)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const first = sorted[i]!;
    let last = first;
    while (i + 1 < sorted.length && sorted[i + 1] === last + 1) last = sorted[++i]!;
    parts.push(first === last ? String(first) : `${first}-${last}`);
    i++;
  }
  return parts.join(',');
}

/** Whether nmap can be run (`nmap --version` succeeds within 10 seconds). */
export function nmapAvailable(nmapPath = 'nmap'): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(nmapPath, ['--version'], { stdio: 'ignore', timeout: 10_000, killSignal: 'SIGKILL' });
    child.once('error', () => {
      resolve(false);
    });
    child.once('close', (code) => {
      resolve(code === 0);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// The report

const ARRAY_TAGS: ReadonlySet<string> = new Set(['host', 'address', 'port', 'extraports', 'extrareasons']);

const xmlParser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseAttributeValue: false,
  parseTagValue: false,
  isArray: (name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) =>
    !isAttribute && ARRAY_TAGS.has(name),
});

/**
 * nmap's port states in FlowTrack's words. Two exist only in scan types FlowTrack does not run
 * (and appear in reports made by hand): `closed|filtered` (idle scan: no answer that tells closed
 * from filtered) is filtered, since nothing showed the port is reachable; `unfiltered` (ACK scan: a
 * reset came back) is closed, the verdict FlowTrack gives a reset, though an ACK scan cannot see
 * whether something listens.
 */
const STATES: ReadonlyMap<string, PortState> = new Map<string, PortState>([
  ['open', 'open'],
  ['closed', 'closed'],
  ['filtered', 'filtered'],
  ['open|filtered', 'open|filtered'],
  ['closed|filtered', 'filtered'],
  ['unfiltered', 'closed'],
]);

/** nmap's service names where FlowTrack's vocabulary (ScanTypes' ServiceInfo.name) says it otherwise. */
const SERVICE_NAMES: ReadonlyMap<string, string> = new Map([
  ['domain', 'dns'],
  ['microsoft-ds', 'smb'],
  ['ms-wbt-server', 'rdp'],
  ['ms-sql-s', 'mssql'],
  ['ms-sql-m', 'mssql-browser'],
  ['oracle-tns', 'oracle'],
  ['mongod', 'mongodb'],
  ['memcache', 'memcached'],
  ['exec', 'rexec'],
  ['login', 'rlogin'],
  ['shell', 'rsh'],
  ['asf-rmcp', 'ipmi'],
  ['upnp', 'ssdp'],
  ['rmiregistry', 'java-rmi'],
  ['etcd-client', 'etcd'],
  ['cassandra-native', 'cassandra'],
  ['http-alt', 'http'],
]);

/**
 * Applications nmap reports as a web server with a product name: the application is what decides
 * the risk (an "http" on 2375 that is the Docker API is a root shell).
 */
const WEB_PRODUCTS: readonly (readonly [RegExp, string])[] = [
  [/^Elasticsearch REST API/i, 'elasticsearch'],
  [/Kibana/i, 'kibana'],
  [/^CouchDB/i, 'couchdb'],
  [/^Docker/i, 'docker'],
  [/^Kubernetes/i, 'kubernetes'],
  [/^InfluxDB/i, 'influxdb'],
  [/^Jenkins/i, 'jenkins'],
  [/^RabbitMQ/i, 'rabbitmq-management'],
  [/^Prometheus/i, 'prometheus'],
];

/** Names nmap gives when it could not tell what answered. */
const UNIDENTIFIED: ReadonlySet<string> = new Set(['unknown', 'tcpwrapped']);

/**
 * The port results of an nmap XML report (`-oX`), host by host in report order, each host's ports
 * by protocol and number. Ports nmap summarised (`<extraports>`) are listed one by one from their
 * `<extrareasons ports=...>` (nmap 7.80 and later; older reports leave them out). A host's rttMs is
 * nmap's smoothed round trip to the host (nmap reports none per port), given to ports that
 * answered. Throws FlowTrackError IO_ERROR when the text is not a complete nmap report (nmap writes
 * <runstats> last), or nmap reports that it failed.
 */
export function parseNmapXml(xml: string): PortResult[] {
  let parsed: unknown;
  try {
    parsed = xmlParser.parse(xml);
  } catch (err) {
    throw new FlowTrackError(ErrorCode.IO_ERROR, `nmap's report is not XML: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const run = record(record(parsed)?.nmaprun);
  if (run === undefined) {
    throw new FlowTrackError(ErrorCode.IO_ERROR, 'the XML is not an nmap report (no <nmaprun>)');
  }
  // nmap writes <runstats> last: without it the report was cut short and its hosts may be missing.
  const finished = record(record(run.runstats)?.finished);
  if (finished === undefined) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      "nmap's report is incomplete (no <runstats>): nmap stopped before the end of the scan",
    );
  }
  if (attr(finished, 'exit') === 'error') {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `nmap failed: ${attr(finished, 'errormsg') ?? 'it gave no reason'}`,
    );
  }
  const results: PortResult[] = [];
  for (const host of list(run.host)) {
    const address = hostAddress(host);
    if (address === undefined) continue;
    const srttMicros = Number(attr(record(host.times), 'srtt'));
    const rttMs = Number.isFinite(srttMicros) && srttMicros > 0 ? srttMicros / 1000 : undefined;
    const hostResults: PortResult[] = [];
    const ports = record(host.ports);
    for (const port of list(ports?.port)) {
      const protocol = protocolOf(attr(port, 'protocol'));
      const number = portNumber(attr(port, 'portid'));
      const stateElement = record(port.state);
      const state = STATES.get(attr(stateElement, 'state') ?? '');
      if (protocol === undefined || number === undefined || state === undefined) continue;
      const reason = attr(stateElement, 'reason') ?? 'unknown';
      const result: PortResult = { address, protocol, port: number, state, reason };
      if (rttMs !== undefined && reason !== 'no-response') result.rttMs = rttMs;
      const service = serviceOf(record(port.service));
      if (service !== undefined) result.service = service;
      hostResults.push(result);
    }
    for (const extra of list(ports?.extraports)) {
      const state = STATES.get(attr(extra, 'state') ?? '');
      if (state === undefined) continue;
      for (const reasons of list(extra.extrareasons)) {
        const protocol = protocolOf(attr(reasons, 'proto'));
        const spec = attr(reasons, 'ports');
        if (protocol === undefined || spec === undefined) continue;
        const reason = attr(reasons, 'reason') ?? 'unknown';
        for (const number of expandPorts(spec)) {
          const result: PortResult = { address, protocol, port: number, state, reason };
          if (rttMs !== undefined && reason !== 'no-response') result.rttMs = rttMs;
          hostResults.push(result);
        }
      }
    }
    hostResults.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
    results.push(...hostResults);
  }
  return results;
}

function hostAddress(host: Record<string, unknown>): string | undefined {
  for (const address of list(host.address)) {
    const type = attr(address, 'addrtype');
    if (type === 'ipv4' || type === 'ipv6') return attr(address, 'addr');
  }
  return undefined;
}

function serviceOf(element: Record<string, unknown> | undefined): ServiceInfo | undefined {
  // "table" is nmap naming the port from its nmap-services list, not the service telling it.
  if (attr(element, 'method') !== 'probed') return undefined;
  let name = attr(element, 'name')?.toLowerCase();
  if (name === undefined || name === '' || UNIDENTIFIED.has(name)) return undefined;
  name = SERVICE_NAMES.get(name) ?? name;
  const product = attr(element, 'product');
  const version = attr(element, 'version');
  const tls = attr(element, 'tunnel') === 'ssl';
  if ((name === 'http' || name === 'https') && product !== undefined) {
    name = WEB_PRODUCTS.find(([pattern]) => pattern.test(product))?.[1] ?? name;
  }
  if (tls && name === 'http') name = 'https';
  if (tls && name === 'docker') name = 'docker-tls';
  const service: ServiceInfo = { name };
  if (product !== undefined) service.product = product;
  if (version !== undefined) service.version = version;
  if (tls || name === 'https') service.tls = true;
  return service;
}

/** Ports of nmap's "1-21,23,25-79" lists; anything unreadable is skipped. */
function expandPorts(spec: string): number[] {
  const ports: number[] = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const first = portNumber(m[1]);
    const last = portNumber(m[2] ?? m[1]);
    if (first === undefined || last === undefined) continue;
    for (let port = first; port <= last; port++) ports.push(port);
  }
  return ports;
}

function protocolOf(text: string | undefined): ScanProtocol | undefined {
  return text === 'tcp' || text === 'udp' ? text : undefined;
}

function portNumber(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,5}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function list(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? value.map(record).filter((v) => v !== undefined) : [];
}

function attr(element: Record<string, unknown> | undefined, name: string): string | undefined {
  const value = element?.[`@_${name}`];
  return typeof value === 'string' ? value : undefined;
}

// ---------------------------------------------------------------------------------------------
// The process

function checkRequest(targets: readonly string[], options: NmapOptions): void {
  const problems: string[] = [];
  if (targets.length === 0) problems.push('no target to scan');
  for (const target of targets) {
    if (target.trim() === '' || target !== target.trim())
      problems.push(`bad target ${JSON.stringify(target)}`);
  }
  const tcp = options.tcpPorts ?? [];
  const udp = options.udpPorts ?? [];
  if (tcp.length === 0 && udp.length === 0) problems.push('no port to scan (give tcpPorts or udpPorts)');
  for (const port of [...tcp, ...udp]) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      problems.push(`bad port ${String(port)} (ports are 1 to 65535)`);
    }
  }
  if (options.timeoutMs !== undefined && !(options.timeoutMs > 0)) {
    problems.push(`bad timeoutMs ${String(options.timeoutMs)} (must be more than 0)`);
  }
  if (problems.length > 0) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `cannot run nmap: ${problems.join('; ')}`);
  }
}

function runOnce(
  nmapPath: string,
  args: string[],
  limits: { remainingMs: number; timeoutMs: number; signal: AbortSignal | undefined },
): Promise<string> {
  const { signal } = limits;
  return new Promise((resolve, reject) => {
    const child = spawn(nmapPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    let stderr = '';
    let settled = false;
    const finish = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      outcome();
    };
    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const onAbort = (): void => {
      kill();
      const reason: unknown = signal?.reason;
      finish(() => {
        reject(
          reason instanceof Error
            ? reason
            : new Error(`nmap scan aborted: ${String(reason)}`, { cause: reason }),
        );
      });
    };
    const timer = setTimeout(() => {
      kill();
      finish(() => {
        reject(
          new FlowTrackError(
            ErrorCode.IO_ERROR,
            `nmap did not finish within ${formatSeconds(limits.timeoutMs)} and was stopped: ` +
              'scan fewer ports or targets, or allow more time',
          ),
        );
      });
    }, limits.remainingMs);
    signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_KEPT);
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      finish(() => {
        reject(spawnFailure(nmapPath, err));
      });
    });
    child.once('close', (code, killedBy) => {
      finish(() => {
        if (code === 0) resolve(Buffer.concat(stdout).toString('utf8'));
        else reject(nmapFailure(args, stderr, code, killedBy));
      });
    });
  });
}

function spawnFailure(nmapPath: string, err: NodeJS.ErrnoException): FlowTrackError {
  const message =
    err.code === 'ENOENT'
      ? `nmap is not installed (no ${nmapPath} on the PATH): ${INSTALL_HINT}, or scan with FlowTrack's own engine`
      : err.code === 'EACCES'
        ? `cannot run ${nmapPath}: permission denied (is it executable?)`
        : `cannot run ${nmapPath}: ${err.message}`;
  return new FlowTrackError(ErrorCode.IO_ERROR, message, { cause: err });
}

function nmapFailure(
  args: readonly string[],
  stderr: string,
  code: number | null,
  killedBy: string | null,
): FlowTrackError {
  const said = stderr
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'QUITTING!')
    .slice(-3)
    .join(' / ');
  const how = code === null ? `was killed by ${killedBy ?? 'a signal'}` : `exited with status ${code}`;
  if (args.includes('-sU') && /requires root privileges/i.test(stderr)) {
    return new FlowTrackError(
      ErrorCode.IO_ERROR,
      "nmap's UDP scan (-sU) needs root: run the scan as root, or scan TCP ports only " +
        `(nmap ${how}: ${said})`,
    );
  }
  return new FlowTrackError(ErrorCode.IO_ERROR, `nmap ${how}${said === '' ? '' : `: ${said}`}`);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
