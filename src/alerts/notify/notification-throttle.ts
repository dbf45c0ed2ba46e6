/**
 * Which alert updates a channel is told about, and when the rest go out as a digest: tell the right
 * people once, not a thousand times. Pure: alerts and times come in, decisions come out; the
 * dispatcher sends, retries and logs.
 *
 * - An alert is notified when it is raised, and again only when its severity rises (an attack that
 *   grows from medium to critical is news; its 9,999 counter updates are not).
 * - A channel's filter: a minimum severity and, optionally, the alert types it wants.
 * - A rate limit per channel and alert type: at most `maxPerWindow` notifications per window.
 *   What the limit holds back is counted, and when the window ends one digest says so ("37 more
 *   port_scan alerts in the last 10 min"). Nothing is dropped without being counted.
 */

import { severityRank, type Alert, type Severity } from '../alert.js';
import type { DigestSummary } from './notifier.js';

export interface ChannelFilter {
  minSeverity: Severity;
  /** Alert types the channel wants; empty: every type. */
  types: readonly string[];
  /** Notifications per alert type and window at most (the rest go into the window's digest). */
  maxPerWindow: number;
  windowMs: number;
}

export type ThrottleDecision =
  /** Tell the channel now. */
  | { action: 'notify'; reason: 'raised' | 'escalated' }
  /** Held back by the rate limit: it will be counted in the window's digest. */
  | { action: 'digest' }
  /** Not for this channel, or nothing new: `why` says which. */
  | { action: 'skip'; why: 'severity' | 'type' | 'update' };

interface WindowState {
  startMs: number;
  sent: number;
  held: DigestSummary | null;
}

/** Examples a digest keeps. */
const DIGEST_EXAMPLES = 5;
/** Alerts whose last notified severity is remembered (the oldest are forgotten first). */
const MAX_REMEMBERED = 100_000;

export class NotificationThrottle {
  /** Alert id -> the severity last notified (or held) on this channel. */
  private readonly notified = new Map<string, Severity>();
  /** Alert type -> its current window. */
  private readonly windows = new Map<string, WindowState>();

  constructor(private readonly filter: ChannelFilter) {}

  /** What to do with this raise or update of `alert`, at `nowMs`. */
  decide(alert: Alert, nowMs: number): ThrottleDecision {
    const f = this.filter;
    if (severityRank(alert.severity) < severityRank(f.minSeverity))
      return { action: 'skip', why: 'severity' };
    if (f.types.length > 0 && !f.types.includes(alert.type)) return { action: 'skip', why: 'type' };
    const before = this.notified.get(alert.id);
    if (before !== undefined && severityRank(alert.severity) <= severityRank(before)) {
      return { action: 'skip', why: 'update' };
    }
    this.remember(alert.id, alert.severity);
    const reason = before === undefined ? 'raised' : 'escalated';
    const window = this.windowOf(alert.type, nowMs);
    if (window.sent < f.maxPerWindow) {
      window.sent++;
      return { action: 'notify', reason };
    }
    const held = (window.held ??= {
      count: 0,
      fromMs: window.startMs,
      toMs: window.startMs + f.windowMs,
      byType: {},
      bySeverity: {},
      examples: [],
    });
    held.count++;
    held.byType[alert.type] = (held.byType[alert.type] ?? 0) + 1;
    held.bySeverity[alert.severity] = (held.bySeverity[alert.severity] ?? 0) + 1;
    held.examples.unshift(alert);
    if (held.examples.length > DIGEST_EXAMPLES) held.examples.pop();
    return { action: 'digest' };
  }

  /** The digests of the windows that have ended by `nowMs` (each once), oldest first. */
  dueDigests(nowMs: number): DigestSummary[] {
    const due: DigestSummary[] = [];
    for (const [type, window] of this.windows) {
      if (nowMs < window.startMs + this.filter.windowMs) continue;
      if (window.held) due.push(window.held);
      this.windows.delete(type);
    }
    return due.sort((a, b) => a.fromMs - b.fromMs);
  }

  private windowOf(type: string, nowMs: number): WindowState {
    let window = this.windows.get(type);
    if (window && nowMs >= window.startMs + this.filter.windowMs) {
      // The window ended with nothing held, or its digest is still to be collected: a new window
      // starts only once dueDigests has taken the old one, so no count is lost.
      if (window.held === null) {
        this.windows.delete(type);
        window = undefined;
      }
    }
    if (!window) {
      window = { startMs: nowMs, sent: 0, held: null };
      this.windows.set(type, window);
    }
    return window;
  }

  private remember(id: string, severity: Severity): void {
    this.notified.delete(id);
    this.notified.set(id, severity);
    if (this.notified.size > MAX_REMEMBERED) {
      const oldest = this.notified.keys().next().value;
      if (oldest !== undefined) this.notified.delete(oldest);
    }
  }
}
