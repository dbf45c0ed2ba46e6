/**
 * Turns detector reports into alerts: the same ongoing attack (same type, attacker and victim,
 * reported again within `mergeGapMicros` of packet time) is one alert whose counters, end time
 * and severity grow, not thousands of alerts. Bounded: at most `maxOpen` attacks are tracked as
 * open; the one quiet the longest is closed first.
 */

import { severityRank, type Alert, type AlertReport } from './alert.js';

export interface AlertTrackerOptions {
  /** A report this long after the alert's last one starts a new alert. */
  mergeGapMicros: number;
  /** Open alerts kept mergeable at once. */
  maxOpen: number;
  /** Alerts kept in all; later ones are counted in `dropped` (a run can never grow without limit). */
  maxAlerts: number;
  /** Put before each alert's number in its id: a server gives each run its own, so ids never repeat. */
  idPrefix: string;
  /**
   * Keep every alert for `alerts()` (a report at the end of a file). A service that runs for
   * months keeps none: its alerts go to the callback, and `maxAlerts` does not apply.
   */
  keep: boolean;
}

export const DEFAULT_ALERT_TRACKER_OPTIONS: AlertTrackerOptions = {
  mergeGapMicros: 300_000_000,
  maxOpen: 10_000,
  maxAlerts: 100_000,
  idPrefix: '',
  keep: true,
};

export class AlertTracker {
  private readonly options: AlertTrackerOptions;
  private readonly open = new Map<string, Alert>();
  private readonly all: Alert[] = [];
  private sequence = 0;
  /** New alerts not kept because `maxAlerts` was reached. */
  dropped = 0;

  constructor(
    options: Partial<AlertTrackerOptions> = {},
    /** Called when an alert is raised and every time it is updated. */
    private readonly onAlert: (alert: Alert, isNew: boolean) => void = () => undefined,
  ) {
    this.options = { ...DEFAULT_ALERT_TRACKER_OPTIONS, ...options };
  }

  /** Raises or updates the alert for `r`; null when the alert limit dropped it. */
  report(r: AlertReport): Alert | null {
    const key = `${r.type}|${r.src ?? '*'}|${r.dst ?? '*'}`;
    const existing = this.open.get(key);
    if (existing && r.at - existing.end <= this.options.mergeGapMicros) {
      existing.end = Math.max(existing.end, r.at);
      existing.start = Math.min(existing.start, r.startedAt ?? r.at);
      if (severityRank(r.severity) > severityRank(existing.severity)) existing.severity = r.severity;
      existing.counters = { ...r.counters };
      existing.summary = r.summary;
      existing.evidence = evidenceOf(r, existing.evidence.sampleFlows);
      existing.updates++;
      // Keep the map ordered by last update so the first entry is the quietest.
      this.open.delete(key);
      this.open.set(key, existing);
      this.onAlert(existing, false);
      return existing;
    }
    if (this.options.keep && this.all.length >= this.options.maxAlerts) {
      this.dropped++;
      return null;
    }
    const alert: Alert = {
      id: `${r.type}-${this.options.idPrefix}${++this.sequence}`,
      type: r.type,
      severity: r.severity,
      src: r.src,
      dst: r.dst,
      start: r.startedAt ?? r.at,
      end: r.at,
      counters: { ...r.counters },
      summary: r.summary,
      evidence: evidenceOf(r, []),
      updates: 1,
    };
    this.open.delete(key);
    this.open.set(key, alert);
    if (this.open.size > this.options.maxOpen) {
      const quietest = this.open.keys().next().value;
      if (quietest !== undefined) this.open.delete(quietest);
    }
    if (this.options.keep) this.all.push(alert);
    this.onAlert(alert, true);
    return alert;
  }

  /** Every alert raised so far, in the order they were raised. */
  alerts(): readonly Alert[] {
    return this.all;
  }
}

function evidenceOf(r: AlertReport, previousSamples: Alert['evidence']['sampleFlows']): Alert['evidence'] {
  return {
    thresholds: r.thresholds.map((t) => ({ ...t })),
    sampleFlows: (r.sampleFlows ?? previousSamples).slice(0, 10),
    topSources: (r.topSources ?? []).slice(0, 10),
  };
}
