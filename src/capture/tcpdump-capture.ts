/**
 * Live capture from one interface through a `tcpdump -w -` child: its pcap stream goes into the
 * engine's own CaptureParser, its statistics (packets the kernel dropped) are read from what it
 * prints on SIGUSR1 and at exit, and a tcpdump that dies is started again with backoff while the
 * time without capture is reported as a gap. Measured here: tcpdump with a large kernel buffer
 * kept up with about 630k packets/s on a veth pair, where the npm libpcap bindings lost packets
 * or stalled the event loop (see DESIGN.md).
 *
 * Only tcpdump needs the right to capture (cap_net_raw); FlowTrack itself does not. A failure
 * that waiting cannot fix (no tcpdump, no permission, a bad filter) stops this capture with one
 * message saying what to do, and never takes the rest of the service down.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { CaptureParser, type CapturedPacket } from './capture-parser.js';

export interface TcpdumpCaptureOptions {
  /** Interface name as tcpdump takes it (`eth0`, `any`). */
  interface: string;
  /** A BPF filter expression ('' captures everything). */
  filter: string;
  /** Bytes kept of each packet. */
  snapLength: number;
  /** Put the interface into promiscuous mode (tcpdump's default). */
  promiscuous: boolean;
  /** Kernel capture buffer in KiB (tcpdump -B). */
  bufferKiB: number;
  /**
   * Hand each packet over at once (--immediate-mode) instead of in blocks the kernel retires up
   * to a second later: alerts come sooner on a quiet link, at some CPU cost per packet.
   */
  immediate: boolean;
  /** The tcpdump program (default: `tcpdump` on the PATH). */
  tcpdumpPath?: string;
  /** First restart delay; it doubles up to `maxRestartDelayMs` while tcpdump keeps dying. */
  restartDelayMs?: number;
  maxRestartDelayMs?: number;
  /** Wall clock in milliseconds (tests pass their own). */
  now?: () => number;
}

/** Counts since this capture started, over every tcpdump it ran. */
export interface CaptureCounters {
  /** Packets parsed from tcpdump's stream. */
  packets: number;
  /** Packets the kernel's filter accepted (tcpdump's "received by filter"). */
  received: number;
  /** Packets lost because the kernel's capture buffer was full (tcpdump's "dropped by kernel"). */
  kernelDropped: number;
  /** Packets the interface or its driver dropped (tcpdump's "dropped by interface"). */
  interfaceDropped: number;
  /** tcpdump streams that broke off mid-record or turned out corrupt (the rest of that run is lost). */
  streamErrors: number;
  /** How many times tcpdump had to be started again. */
  restarts: number;
}

export type CaptureState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export type CaptureEvent =
  /** tcpdump is listening; `linkType` as it names it (EN10MB, LINUX_SLL2, ...). */
  | { type: 'running'; interface: string; linkType: string }
  /** tcpdump ended without being asked to; `restartInMs` later it is started again. */
  | { type: 'died'; interface: string; reason: string; restartInMs: number }
  /** Capture is back after a death: nothing was captured from `fromMs` to `toMs`. */
  | { type: 'gap'; interface: string; fromMs: number; toMs: number }
  /** Capture on this interface gave up for good; `message` says what to do. */
  | { type: 'failed'; interface: string; message: string };

const DEFAULT_RESTART_DELAY_MS = 1000;
const DEFAULT_MAX_RESTART_DELAY_MS = 60_000;
/** A tcpdump that ran this long resets the backoff: its death is a new incident, not a loop. */
const HEALTHY_RUN_MS = 30_000;
/** How long a stopping tcpdump gets to flush and print its statistics before it is killed. */
const STOP_GRACE_MS = 3000;
/** Stderr kept for error messages (tcpdump's errors are one or two lines). */
const STDERR_TAIL = 4096;

/** tcpdump's own words for failures that restarting cannot fix, and what the admin should do. */
const PERMANENT_FAILURES: readonly [RegExp, (o: TcpdumpCaptureOptions) => string][] = [
  [
    /permission|not permitted/i,
    (o) =>
      `tcpdump may not capture on ${o.interface}: give it the right with \`setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump)\` or run FlowTrack as root`,
  ],
  [
    /syntax error|can't parse filter|parse error/i,
    (o) => `the capture filter ${JSON.stringify(o.filter)} is not valid BPF: fix capture.filter`,
  ],
  [
    /snaplen|snapshot length/i,
    (o) => `tcpdump refused the snap length ${o.snapLength}: set capture.snapLength between 64 and 262144`,
  ],
];

/** tcpdump's arguments for `options`: pcap to standard output, one packet at a time. */
export function tcpdumpArguments(options: TcpdumpCaptureOptions): string[] {
  const args = ['-i', options.interface, '-n', '-s', String(options.snapLength)];
  args.push('-B', String(options.bufferKiB), '-U', '-w', '-');
  if (!options.promiscuous) args.push('-p');
  if (options.immediate) args.push('--immediate-mode');
  // The filter as one argument: tcpdump joins its trailing arguments itself, and no shell sees it.
  if (options.filter.trim() !== '') args.push(options.filter);
  return args;
}

export class TcpdumpCapture {
  state: CaptureState = 'starting';
  readonly counters: CaptureCounters = {
    packets: 0,
    received: 0,
    kernelDropped: 0,
    interfaceDropped: 0,
    streamErrors: 0,
    restarts: 0,
  };
  /** Why capture stopped for good, when `state` is 'failed'. */
  failure: string | null = null;

  private child: ChildProcess | null = null;
  /** The statistics the running tcpdump printed last (they count from its own start). */
  private readonly current = { received: 0, kernelDropped: 0, interfaceDropped: 0 };
  private stderrTail = '';
  private listening = false;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private restartDelay: number;
  private startedAt = 0;
  private diedAt: number | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(
    private readonly options: TcpdumpCaptureOptions,
    private readonly onPacket: (packet: CapturedPacket) => void,
    private readonly onEvent: (event: CaptureEvent) => void,
  ) {
    this.now = options.now ?? Date.now;
    this.restartDelay = options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
  }

  get interfaceName(): string {
    return this.options.interface;
  }

  /** The process id of the running tcpdump, or null. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  start(): void {
    if (this.stopping) return;
    this.state = this.diedAt === null ? 'starting' : 'restarting';
    this.listening = false;
    this.stderrTail = '';
    this.current.received = this.current.kernelDropped = this.current.interfaceDropped = 0;
    this.startedAt = this.now();
    const parser = new CaptureParser((pkt) => {
      this.counters.packets++;
      this.onPacket(pkt);
    });
    const child = spawn(this.options.tcpdumpPath ?? 'tcpdump', tcpdumpArguments(this.options), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    let spawnError: Error | null = null;
    child.on('error', (err) => {
      spawnError = err;
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (parser.stopped) return;
      try {
        parser.push(chunk);
      } catch (err) {
        // Not a pcap stream at all: nothing to salvage from this tcpdump.
        parser.stopped = { offset: parser.bytesConsumed, reason: String(err) };
      }
      if (parser.stopped) child.kill('SIGTERM');
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => this.readStderr(text));
    this.exited = new Promise((resolve) => {
      child.on('close', (code, signal) => {
        this.child = null;
        this.closeRun(parser);
        if (this.stopping) {
          this.state = 'stopped';
        } else {
          const reason = spawnError
            ? spawnError.message
            : `tcpdump exited (${signal ?? `status ${String(code)}`})${this.lastError()}`;
          this.afterDeath(spawnError, reason);
        }
        resolve();
      });
    });
  }

  /** Asks tcpdump for its statistics now (they arrive on its stderr a moment later). */
  requestStats(): void {
    // Before tcpdump has set its handler, SIGUSR1 would end it: only once it is listening.
    if (this.child && this.listening) this.child.kill('SIGUSR1');
  }

  /** Stops tcpdump, letting it flush what it captured; no restart follows. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (child) {
      child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await this.exited;
      clearTimeout(kill);
    }
    if (this.state !== 'failed') this.state = 'stopped';
  }

  private markRunning(linkType: string): void {
    this.state = 'running';
    this.onEvent({ type: 'running', interface: this.options.interface, linkType });
    if (this.diedAt !== null) {
      this.onEvent({ type: 'gap', interface: this.options.interface, fromMs: this.diedAt, toMs: this.now() });
      this.diedAt = null;
    }
  }

  private readStderr(text: string): void {
    this.stderrTail = (this.stderrTail + text).slice(-STDERR_TAIL);
    // tcpdump says it is listening once the capture is open: from then on packets are caught.
    const listening = /listening on \S+, link-type (\S+)/.exec(this.stderrTail);
    if (listening && !this.listening) {
      this.listening = true;
      this.markRunning(listening[1] ?? '?');
    }
    const count = (pattern: RegExp): number | null => {
      const all = [...text.matchAll(pattern)];
      const last = all[all.length - 1];
      return last ? Number(last[1]) : null;
    };
    const received = count(/(\d+) packets? received by filter/g);
    const kernel = count(/(\d+) packets? dropped by kernel/g);
    const iface = count(/(\d+) packets? dropped by interface/g);
    // Each figure counts from this tcpdump's start: add only what grew since it last printed.
    if (received !== null) this.addStat('received', received);
    if (kernel !== null) this.addStat('kernelDropped', kernel);
    if (iface !== null) this.addStat('interfaceDropped', iface);
  }

  private addStat(name: 'received' | 'kernelDropped' | 'interfaceDropped', value: number): void {
    if (value > this.current[name]) {
      this.counters[name] += value - this.current[name];
      this.current[name] = value;
    }
  }

  private closeRun(parser: CaptureParser): void {
    // No header at all: tcpdump died before writing anything, which its stderr explains.
    if (parser.format === null) return;
    parser.end();
    if (parser.stopped) this.counters.streamErrors++;
  }

  private afterDeath(spawnError: Error | null, reason: string): void {
    const permanent = spawnError
      ? (spawnError as NodeJS.ErrnoException).code === 'ENOENT'
        ? `tcpdump is not installed (or not on the PATH): install it (\`apt-get install tcpdump\`) to capture on ${this.options.interface}`
        : null
      : this.permanentFailure();
    if (permanent !== null) {
      this.state = 'failed';
      this.failure = permanent;
      this.onEvent({ type: 'failed', interface: this.options.interface, message: permanent });
      return;
    }
    if (this.now() - this.startedAt >= HEALTHY_RUN_MS) {
      this.restartDelay = this.options.restartDelayMs ?? DEFAULT_RESTART_DELAY_MS;
    }
    this.diedAt ??= this.now();
    this.state = 'restarting';
    const delay = this.restartDelay;
    this.restartDelay = Math.min(delay * 2, this.options.maxRestartDelayMs ?? DEFAULT_MAX_RESTART_DELAY_MS);
    this.onEvent({ type: 'died', interface: this.options.interface, reason, restartInMs: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      this.counters.restarts++;
      this.start();
    }, delay);
  }

  private permanentFailure(): string | null {
    // Only errors before tcpdump listened: once running, a death is worth a restart.
    if (this.listening) return null;
    for (const [pattern, message] of PERMANENT_FAILURES) {
      if (pattern.test(this.stderrTail))
        return `${message(this.options)} (tcpdump said: ${this.lastError().trim()})`;
    }
    return null;
  }

  private lastError(): string {
    const lines = this.stderrTail
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !/packets? (captured|received|dropped)|listening on/.test(l));
    return lines.length === 0 ? '' : `: ${lines.slice(-2).join(' ')}`;
  }
}
