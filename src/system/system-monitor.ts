/**
 * The server's watch over its own host: every interval it takes a sample (host-probe.ts) and a
 * read of the sockets (socket-owners.ts), keeps the sample (full resolution, plus a rollup per
 * minute), streams it to open dashboards, judges it against the resource rules and raises or
 * resolves `resource` alerts, and remembers which process owned which connection so that the
 * flows the pipeline ends can name it.
 *
 * It must never stop the service: a sample that fails to read or store is logged and the next
 * interval tries again.
 */

import type { Logger } from 'pino';
import type { Alert } from '../alerts/alert.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import type { FlowProcess, FlowRow } from '../store/flow-repository.js';
import { pointOf, type HealthRepository, type HealthRollup } from '../store/health-repository.js';
import { describeError } from '../util/errors.js';
import type { HostSample } from './host-sample.js';
import {
  METRIC_LABELS,
  ResourceWatch,
  readingsOf,
  severityOf,
  type ResourceEvent,
  type ResourceRules,
} from './resource-rules.js';
import type { ProcessMatch, SocketSnapshot } from './socket-types.js';

const MINUTE_MS = 60_000;

/** What the monitor needs of the probe, the socket reader and the owner cache. */
export interface HostProbeLike {
  sample(): HostSample;
}
export interface SocketReaderLike {
  snapshot(): SocketSnapshot;
}
export interface OwnerCacheLike {
  add(snapshot: SocketSnapshot): void;
  lookup(
    flow: Pick<FlowRow, 'protocol' | 'srcAddr' | 'srcPort' | 'dstAddr' | 'dstPort'>,
  ): ProcessMatch | null;
}

export interface SystemMonitorOptions {
  probe: HostProbeLike;
  /** Null when `system.processes` is off. */
  sockets: { reader: SocketReaderLike; owners: OwnerCacheLike } | null;
  /** Through a function: a restore replaces the store's repositories. */
  health: () => HealthRepository;
  /** Stores and streams a raised or updated resource alert. */
  raiseAlert: (alert: Alert) => Promise<void>;
  /** Marks a resource alert resolved (its last figures are in `alert`). */
  resolveAlert: (alert: Alert) => Promise<void>;
  /** Live capture's counters, for its losses (empty without capture). */
  capture: () => readonly CaptureStatus[];
  /** Each sample, for the live stream. */
  publish: (sample: HostSample) => void;
  intervalMs: number;
  rules: ResourceRules;
  /** Put before each alert's number in its id, so a restart never reuses one. */
  idPrefix: string;
  log: Logger;
}

/** A minute's sums as the samples come in. */
interface MinuteSums {
  minuteMs: number;
  samples: number;
  point: Omit<HealthRollup['point'], 'cpuMax' | 'memoryMax' | 'swap' | 'disk'>;
  cpuMax: number;
  memoryMax: number;
  swap: number;
  disk: number;
  interfaces: Map<string, { rx: number; tx: number; n: number }>;
  fileSystems: Map<string, number>;
  perCore: number[];
}

export class SystemMonitor {
  private timer: NodeJS.Timeout | null = null;
  private last: HostSample | null = null;
  private lastSockets: SocketSnapshot | null = null;
  private minute: MinuteSums | null = null;
  private readonly watch: ResourceWatch;
  private readonly open = new Map<string, Alert>();
  private sequence = 0;
  private previousDrops = new Map<string, { dropped: number; at: number }>();
  /** Store writes under way, awaited by stop(). */
  private readonly writes = new Set<Promise<void>>();

  constructor(private readonly options: SystemMonitorOptions) {
    this.watch = new ResourceWatch(options.rules);
  }

  /** Takes the first sample now and one every interval after. */
  start(): void {
    if (this.timer) return;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops sampling, writes the minute under way and waits for the writes in flight. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.flushMinute();
    await Promise.all([...this.writes]);
  }

  /** The newest sample, or null before the first. */
  latest(): HostSample | null {
    return this.last;
  }

  /** The sockets and their processes: read now when the last read is older than `maxAgeMs`. */
  sockets(maxAgeMs = 1000): SocketSnapshot | null {
    const s = this.options.sockets;
    if (!s) return null;
    if (this.lastSockets === null || Date.now() - this.lastSockets.at > maxAgeMs) this.readSockets();
    return this.lastSockets;
  }

  /** The process on this host behind a flow, when its socket was seen. */
  processOf(
    flow: Pick<FlowRow, 'protocol' | 'srcAddr' | 'srcPort' | 'dstAddr' | 'dstPort'>,
  ): FlowProcess | null {
    const match = this.options.sockets?.owners.lookup(flow);
    if (!match) return null;
    return { pid: match.owner.pid, name: match.owner.name, user: match.owner.user };
  }

  /** The resource rules raised now (`metric` or `metric:subject`). */
  raised(): string[] {
    return this.watch.raised();
  }

  private tick(): void {
    let sample: HostSample;
    try {
      sample = this.options.probe.sample();
    } catch (err) {
      this.options.log.error({ err: describeError(err) }, 'host health sample failed');
      return;
    }
    this.last = sample;
    this.readSockets();
    this.options.publish(sample);
    this.track(this.options.health().insertSample(sample), 'host health sample not stored');
    this.addToMinute(sample);
    const events = this.watch.observe(readingsOf(sample, this.captureDrops(sample.at)), sample.at);
    for (const e of events) this.onEvent(e, sample);
  }

  private readSockets(): void {
    const s = this.options.sockets;
    if (!s) return;
    try {
      this.lastSockets = s.reader.snapshot();
      s.owners.add(this.lastSockets);
    } catch (err) {
      this.options.log.error({ err: describeError(err) }, 'reading the sockets and their processes failed');
    }
  }

  /** Packets capture lost per second since the previous sample, by interface. */
  private captureDrops(at: number): Map<string, number> {
    const rates = new Map<string, number>();
    const next = new Map<string, { dropped: number; at: number }>();
    for (const c of this.options.capture()) {
      const dropped = c.counters.kernelDropped + c.counters.interfaceDropped;
      const before = this.previousDrops.get(c.interface);
      next.set(c.interface, { dropped, at });
      // A restarted tcpdump counts from 0 again: no rate until the next sample.
      if (before && at > before.at && dropped >= before.dropped) {
        rates.set(c.interface, ((dropped - before.dropped) * 1000) / (at - before.at));
      }
    }
    this.previousDrops = next;
    return rates;
  }

  private onEvent(e: ResourceEvent, sample: HostSample): void {
    const key = e.subject === null ? e.metric : `${e.metric}:${e.subject}`;
    const label = METRIC_LABELS[e.metric];
    const what = `${label.name}${e.subject === null ? '' : ` on ${e.subject}`}`;
    const figure = (v: number) => `${formatFigure(v)}${label.unit}`;
    let alert = this.open.get(key);
    if (e.kind === 'cleared') {
      if (!alert) return;
      this.open.delete(key);
      alert = {
        ...alert,
        end: sample.at * 1000,
        counters: { ...alert.counters, value: e.value },
        summary:
          e.reason === 'gone'
            ? `${what} on ${sample.hostname}: no longer there (peak ${figure(e.peak)})`
            : `${what} on ${sample.hostname} back to ${figure(e.value)}, below ${figure(e.rule.clear)} for ${e.rule.forSeconds} s (peak ${figure(e.peak)})`,
        updates: alert.updates + 1,
      };
      this.options.log.info({ alert: alert.id, rule: key, value: e.value }, 'resource alert resolved');
      this.track(this.options.resolveAlert(alert), 'resource alert not resolved in the store');
      return;
    }
    const base = {
      type: 'resource' as const,
      severity: severityOf(e.metric, e.peak, e.rule),
      src: null,
      dst: null,
      start: e.since * 1000,
      end: sample.at * 1000,
      counters: { value: e.value, peak: e.peak, raise: e.rule.raise, clear: e.rule.clear },
      summary: `${what} on ${sample.hostname} at ${figure(e.value)}: at or above ${figure(e.rule.raise)} for ${e.rule.forSeconds} s or more (peak ${figure(e.peak)})`,
      evidence: {
        // The rule's key (`disk:/data`), so a reader can tell which disk or interface it is.
        thresholds: [{ metric: key, value: e.value, threshold: e.rule.raise }],
        sampleFlows: [],
        topSources: [],
      },
    };
    alert = alert
      ? { ...alert, ...base, start: alert.start, updates: alert.updates + 1 }
      : { ...base, id: `resource-${this.options.idPrefix}${++this.sequence}`, updates: 1 };
    this.open.set(key, alert);
    if (e.kind === 'raised') {
      this.options.log.warn({ alert: alert.id, rule: key, value: e.value }, 'resource alert raised');
    }
    this.track(this.options.raiseAlert(alert), 'resource alert not stored');
  }

  private addToMinute(sample: HostSample): void {
    const minuteMs = Math.floor(sample.at / MINUTE_MS) * MINUTE_MS;
    if (this.minute && this.minute.minuteMs !== minuteMs) this.flushMinute();
    const p = pointOf(sample);
    const m = (this.minute ??= {
      minuteMs,
      samples: 0,
      point: {
        cpu: 0,
        memory: 0,
        load1: 0,
        netRxBytesPerSecond: 0,
        netTxBytesPerSecond: 0,
        diskReadBytesPerSecond: 0,
        diskWriteBytesPerSecond: 0,
      },
      cpuMax: 0,
      memoryMax: 0,
      swap: 0,
      disk: 0,
      interfaces: new Map<string, { rx: number; tx: number; n: number }>(),
      fileSystems: new Map<string, number>(),
      perCore: [],
    });
    m.samples++;
    for (const k of Object.keys(m.point) as (keyof MinuteSums['point'])[]) m.point[k] += p[k];
    m.cpuMax = Math.max(m.cpuMax, p.cpu);
    m.memoryMax = Math.max(m.memoryMax, p.memory);
    m.swap = Math.max(m.swap, p.swap);
    m.disk = Math.max(m.disk, p.disk);
    for (const i of sample.interfaces) {
      const sum = m.interfaces.get(i.name) ?? { rx: 0, tx: 0, n: 0 };
      sum.rx += i.rxBytesPerSecond;
      sum.tx += i.txBytesPerSecond;
      sum.n++;
      m.interfaces.set(i.name, sum);
    }
    for (const f of sample.fileSystems)
      m.fileSystems.set(f.mount, Math.max(m.fileSystems.get(f.mount) ?? 0, f.percent));
    sample.cpu.perCore.forEach((v, core) => (m.perCore[core] = (m.perCore[core] ?? 0) + v));
  }

  private flushMinute(): void {
    const m = this.minute;
    this.minute = null;
    if (!m || m.samples === 0) return;
    const n = m.samples;
    const avg = (v: number) => v / n;
    const rollup: HealthRollup = {
      minuteMs: m.minuteMs,
      samples: n,
      point: {
        cpu: avg(m.point.cpu),
        cpuMax: m.cpuMax,
        memory: avg(m.point.memory),
        memoryMax: m.memoryMax,
        swap: m.swap,
        load1: avg(m.point.load1),
        disk: m.disk,
        netRxBytesPerSecond: avg(m.point.netRxBytesPerSecond),
        netTxBytesPerSecond: avg(m.point.netTxBytesPerSecond),
        diskReadBytesPerSecond: avg(m.point.diskReadBytesPerSecond),
        diskWriteBytesPerSecond: avg(m.point.diskWriteBytesPerSecond),
      },
      detail: {
        interfaces: Object.fromEntries(
          [...m.interfaces].map(([name, s]) => [
            name,
            { rxBytesPerSecond: s.rx / s.n, txBytesPerSecond: s.tx / s.n },
          ]),
        ),
        fileSystems: Object.fromEntries(m.fileSystems),
        perCore: m.perCore.map(avg),
      },
    };
    this.track(this.options.health().upsertRollup(rollup), 'host health rollup not stored');
  }

  private track(write: Promise<void>, failure: string): void {
    const tracked = write
      .catch((err: unknown) => this.options.log.error({ err: describeError(err) }, failure))
      .finally(() => this.writes.delete(tracked));
    this.writes.add(tracked);
  }
}

function formatFigure(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1).replace(/\.0$/, '');
}
