/**
 * Scans as the server runs them: started from the API (analysts and admins) or by the
 * configured schedules, one at a time in a short queue, each kept in the store with its report,
 * and compared with the previous finished run of the same targets and ports: a port open now
 * that was not open then raises an `exposure` alert (with the finding's risk as its severity).
 * Every start and cancel is audited.
 *
 * While a scan runs and for a while after it (the flows it made end up to a minute later), the
 * scan and sweep alerts that the server's own detectors raise about it are recognised
 * (`isOwnScanAlert`) and dropped by the pipeline service: FlowTrack must not report itself.
 *
 * Must never: start a scan outside the allowed networks (checked before it is queued, again
 * by runScan), run two scans at once, or lose a scan's row when the scan fails (it ends failed,
 * with the reason).
 */

import { randomUUID } from 'node:crypto';
import type { Alert, Severity } from '../alerts/alert.js';
import { durationMs } from '../config/service-config.js';
import type { NewAuditEvent } from '../store/audit-repository.js';
import type { ScanRecord, ScanRepository } from '../store/scan-repository.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { portsToScan } from './port-list.js';
import { isLocalAddress, runScan, type ScanEngine, type ScanReport } from './port-scanner.js';
import { outOfScopeError, outsideScope, type ScanScope } from './scan-scope.js';
import { parseTargets } from './scan-targets.js';
import { RISKS, type Finding } from './scan-types.js';

/** A scan as the API and the schedules ask for it. */
export interface ScanOrder {
  targets: string[];
  /** `-p` syntax; default: the top TCP ports (and top UDP ports with udp). */
  ports?: string;
  tcp?: boolean;
  udp?: boolean;
  engine?: ScanEngine;
  discovery?: boolean;
  identify?: boolean;
}

export interface ScanActor {
  name: string;
  ip: string | null;
}

export interface ScanSchedule {
  name: string;
  targets: readonly string[];
  ports?: string | undefined;
  udp: boolean;
  every: string;
}

export interface ScanServiceOptions {
  scans: () => ScanRepository;
  audit: (event: NewAuditEvent) => Promise<unknown>;
  /** Stores and announces an alert (the store's alerts and the live feed). */
  raiseAlert: (alert: Alert) => Promise<void>;
  scope: () => ScanScope;
  maxRate: number;
  schedules: readonly ScanSchedule[];
  now: () => number;
  log: {
    info: (obj: object, msg: string) => void;
    warn: (obj: object, msg: string) => void;
    error: (obj: object, msg: string) => void;
  };
  /** The scan itself (tests may put a slower or failing one). */
  run?: typeof runScan;
}

/** Scans waiting behind the running one, at most. */
export const MAX_QUEUED_SCANS = 10;
/** How long after a scan its targets' scan alerts are still taken for FlowTrack's own. */
const OWN_SCAN_GRACE_MS = 3 * 60_000;

const SEVERITY_OF_RISK: Record<Finding['risk'], Severity> = {
  info: 'info',
  low: 'low',
  medium: 'medium',
  high: 'high',
  critical: 'critical',
};

interface Queued {
  id: string;
  /** The targets' addresses as submit resolved them. */
  addresses: string[];
  order: Required<Pick<ScanOrder, 'targets'>> & ScanOrder;
  tcpPorts: number[];
  udpPorts: number[];
  controller: AbortController;
}

export class ScanService {
  private readonly queue: Queued[] = [];
  private running: Queued | null = null;
  /** Target addresses of scans running or just ended, with the time their grace ends (null: running). */
  private readonly ownTargets = new Map<string, number | null>();
  private scheduleTimer: NodeJS.Timeout | null = null;
  private stopped = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly options: ScanServiceOptions) {}

  /** Marks scans a crash left unfinished as failed and starts the schedules. */
  async start(): Promise<void> {
    const failed = await this.options
      .scans()
      .failUnfinished(this.options.now(), 'the server stopped during the scan');
    if (failed > 0) this.options.log.warn({ failed }, 'scans left unfinished by the last run marked failed');
    if (this.options.schedules.length > 0) {
      this.scheduleTimer = setInterval(() => void this.runDueSchedules(), 30_000);
      this.scheduleTimer.unref();
      void this.runDueSchedules();
    }
  }

  /** Cancels what runs and waits for it to end. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.scheduleTimer) clearInterval(this.scheduleTimer);
    for (const q of this.queue.splice(0)) {
      await this.options
        .scans()
        .finish(q.id, { status: 'cancelled', finishedAt: this.options.now(), error: 'the server stopped' });
    }
    this.running?.controller.abort();
    await this.idle;
  }

  /**
   * Checks `order` (targets parse and lie within the allowed networks, ports parse) and queues it.
   * Throws BAD_REQUEST, FORBIDDEN (outside the scope) or RATE_LIMITED (queue full) before anything is stored.
   */
  async submit(order: ScanOrder, actor: ScanActor, schedule?: string): Promise<ScanRecord> {
    if (this.stopped) throw new FlowTrackError(ErrorCode.CONFLICT, 'the server is stopping: no new scans');
    if (this.queue.length >= MAX_QUEUED_SCANS) {
      throw new FlowTrackError(
        ErrorCode.RATE_LIMITED,
        `${MAX_QUEUED_SCANS} scans are already waiting: try again when some have finished`,
      );
    }
    const udp = order.udp === true;
    const tcp = order.tcp ?? !udp;
    const ports = portsToScan(order.ports, tcp, udp);
    const targets = await parseTargets(order.targets);
    const outside = outsideScope(targets, this.options.scope());
    if (outside.length > 0) {
      await this.audit(actor, 'scan.start', order.targets.join(','), { ...order }, 'denied');
      throw outOfScopeError(outside, 'this server');
    }
    const id = randomUUID();
    const request = {
      ports: order.ports ?? null,
      tcp,
      udp,
      engine: order.engine ?? 'flowtrack',
      discovery: order.discovery ?? true,
      identify: order.identify ?? true,
    };
    const record = await this.options.scans().create({
      id,
      requestedBy: schedule ? `schedule:${schedule}` : actor.name,
      schedule: schedule ?? null,
      targets: order.targets,
      request,
      baselineKey: baselineKeyOf(order.targets, ports.tcp, ports.udp),
      createdAt: this.options.now(),
    });
    await this.audit(actor, 'scan.start', id, { targets: order.targets, ...request }, 'ok');
    this.queue.push({
      id,
      addresses: targets.map((t) => t.address),
      order: { ...order, tcp, udp },
      tcpPorts: ports.tcp,
      udpPorts: ports.udp,
      controller: new AbortController(),
    });
    this.next();
    return record;
  }

  /** Cancels a queued or running scan. Returns false when it had already ended. */
  async cancel(id: string, actor: ScanActor): Promise<boolean> {
    const queued = this.queue.findIndex((q) => q.id === id);
    let cancelled = false;
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      cancelled =
        (await this.options.scans().finish(id, {
          status: 'cancelled',
          finishedAt: this.options.now(),
          error: `cancelled by ${actor.name}`,
        })) !== null;
    } else if (this.running?.id === id) {
      this.running.controller.abort(new Error(`cancelled by ${actor.name}`));
      cancelled = true;
    }
    if (cancelled) await this.audit(actor, 'scan.cancel', id, null, 'ok');
    return cancelled;
  }

  /**
   * True for a scan or sweep alert whose source is this host and whose victim one of the targets
   * of a scan running now or ended less than three minutes ago: the server's own scan.
   */
  isOwnScanAlert(alert: Alert): boolean {
    if (alert.type !== 'port_scan' && alert.type !== 'host_sweep') return false;
    if (alert.src === null || !isLocalAddress(alert.src)) return false;
    const now = this.options.now();
    const live = (until: number | null | undefined) => until === null || (until !== undefined && until > now);
    if (alert.dst !== null) return live(this.ownTargets.get(alert.dst));
    for (const until of this.ownTargets.values()) if (live(until)) return true;
    return false;
  }

  private next(): void {
    if (this.running || this.stopped) return;
    const job = this.queue.shift();
    if (!job) return;
    this.running = job;
    this.idle = this.execute(job).finally(() => {
      this.running = null;
      this.next();
    });
  }

  private async execute(job: Queued): Promise<void> {
    const { now, log } = this.options;
    const scans = this.options.scans();
    await scans.markRunning(job.id, now());
    for (const address of job.addresses) this.ownTargets.set(address, null);
    try {
      const report = await (this.options.run ?? runScan)(
        {
          targets: job.order.targets,
          tcpPorts: job.tcpPorts,
          udpPorts: job.udpPorts,
          engine: job.order.engine ?? 'flowtrack',
          discovery: job.order.discovery ?? true,
          identify: job.order.identify ?? true,
          ratePerSecond: this.options.maxRate,
        },
        { scope: this.options.scope(), signal: job.controller.signal },
      );
      if (job.controller.signal.aborted) {
        await scans.finish(job.id, {
          status: 'cancelled',
          finishedAt: now(),
          error: reasonOf(job.controller.signal),
        });
        return;
      }
      const record = await scans.findById(job.id);
      const previous = record ? await scans.previousDone(record.baselineKey, record.createdAt) : null;
      const diff = previous ? diffReports(previous.report as ScanReport | null, report) : null;
      const stored = { ...report, diff: diff && { baselineId: previous!.id, ...diff } };
      await scans.finish(job.id, {
        status: 'done',
        finishedAt: now(),
        report: stored,
        openPorts: countOpen(report),
        findings: report.findings.filter((f) => f.risk !== 'info').length,
        maxRisk: maxRiskOf(report.findings),
      });
      log.info({ scan: job.id, hosts: report.hosts.length, open: countOpen(report) }, 'scan done');
      if (diff) {
        for (const opened of diff.opened)
          await this.options.raiseAlert(exposureAlert(job.id, opened, report, now()));
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      log.error({ scan: job.id, err: message }, 'scan failed');
      await scans.finish(job.id, {
        status: job.controller.signal.aborted ? 'cancelled' : 'failed',
        finishedAt: now(),
        error: job.controller.signal.aborted ? reasonOf(job.controller.signal) : message,
      });
    } finally {
      const until = now() + OWN_SCAN_GRACE_MS;
      for (const a of job.addresses) this.ownTargets.set(a, until);
      for (const [a, t] of this.ownTargets) if (t !== null && t < now()) this.ownTargets.delete(a);
    }
  }

  private async runDueSchedules(): Promise<void> {
    for (const schedule of this.options.schedules) {
      const everyMs = durationMs(schedule.every) ?? 86_400_000;
      const last = await this.options.scans().lastRunOf(schedule.name);
      if (last && last.createdAt + everyMs > this.options.now()) continue;
      if (last && (last.status === 'queued' || last.status === 'running')) continue;
      try {
        await this.submit(
          {
            targets: [...schedule.targets],
            ...(schedule.ports !== undefined && { ports: schedule.ports }),
            udp: schedule.udp,
          },
          { name: `schedule:${schedule.name}`, ip: null },
          schedule.name,
        );
      } catch (err) {
        this.options.log.error(
          { schedule: schedule.name, err: (err as Error).message },
          'scheduled scan not started',
        );
      }
    }
  }

  private async audit(
    actor: ScanActor,
    action: string,
    target: string,
    after: unknown,
    outcome: 'ok' | 'denied',
  ): Promise<void> {
    await this.options.audit({
      tsMs: this.options.now(),
      actor: actor.name,
      actorIp: actor.ip,
      action,
      target,
      after,
      outcome,
    });
  }
}

/** Runs with the same key scan the same thing: their open ports can be compared. */
function baselineKeyOf(targets: readonly string[], tcp: readonly number[], udp: readonly number[]): string {
  const ranges = (ports: readonly number[]) => {
    const out: string[] = [];
    for (let i = 0; i < ports.length;) {
      let j = i;
      while (j + 1 < ports.length && ports[j + 1] === ports[j]! + 1) j++;
      out.push(i === j ? String(ports[i]) : `${ports[i]}-${ports[j]}`);
      i = j + 1;
    }
    return out.join(',');
  };
  return JSON.stringify([[...targets].sort(), ranges(tcp), ranges(udp)]);
}

export interface OpenPort {
  address: string;
  protocol: 'tcp' | 'udp';
  port: number;
  service?: string;
}

/** Ports open in `current` and not in `previous` (opened), and the other way round (closed). */
export function diffReports(
  previous: ScanReport | null,
  current: ScanReport,
): { opened: OpenPort[]; closed: OpenPort[] } {
  const key = (p: OpenPort) => `${p.address}|${p.protocol}|${p.port}`;
  const before = new Map((previous ? openPorts(previous) : []).map((p) => [key(p), p]));
  const now = new Map(openPorts(current).map((p) => [key(p), p]));
  return {
    opened: [...now].filter(([k]) => !before.has(k)).map(([, p]) => p),
    closed: [...before].filter(([k]) => !now.has(k)).map(([, p]) => p),
  };
}

function openPorts(report: ScanReport): OpenPort[] {
  const hosts = Array.isArray(report.hosts) ? report.hosts : [];
  return hosts.flatMap((h) =>
    (Array.isArray(h.ports) ? h.ports : [])
      .filter((p) => p.state === 'open')
      .map((p) => ({
        address: p.address,
        protocol: p.protocol,
        port: p.port,
        ...(p.service?.name !== undefined && { service: p.service.name }),
      })),
  );
}

function countOpen(report: ScanReport): number {
  return openPorts(report).length;
}

function maxRiskOf(findings: readonly Finding[]): Finding['risk'] | null {
  let best = -1;
  for (const f of findings) best = Math.max(best, RISKS.indexOf(f.risk));
  return best < 0 ? null : RISKS[best]!;
}

/** The alert for a port found open that the previous run found closed. */
function exposureAlert(scanId: string, opened: OpenPort, report: ScanReport, nowMs: number): Alert {
  const finding = report.findings.find(
    (f) => f.address === opened.address && f.protocol === opened.protocol && f.port === opened.port,
  );
  const severity = finding ? SEVERITY_OF_RISK[finding.risk] : 'low';
  const service = opened.service ?? finding?.service ?? 'unknown service';
  const what = finding && finding.risk !== 'info' ? `: ${finding.title}` : '';
  const at = nowMs * 1000;
  return {
    id: `scan-${scanId}-${opened.address}-${opened.protocol}-${opened.port}`,
    type: 'exposure',
    severity,
    src: null,
    dst: opened.address,
    start: at,
    end: at,
    counters: { port: opened.port },
    summary: `New open port ${opened.port}/${opened.protocol} (${service}) on ${opened.address}${what}`,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
  };
}

function reasonOf(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason.message : 'cancelled';
}
