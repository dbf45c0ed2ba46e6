/**
 * Alerts as the live feed announces them, held for a few seconds until the store has them: the
 * pipeline publishes an alert the moment it is raised, while the store writes it a moment later,
 * so a panel that only refetched on the announcement could miss it and show it a poll later.
 * Pure: the caller says what time it is.
 */

import type { AlertRecord, Severity } from '../api/api-types';
import { SEVERITIES } from '../api/api-types';
import type { ServerSentEvent } from './sse-parser';

/** Long enough for the store to catch up and a refetch to bring the alert. */
export const LIVE_ALERT_HOLD_MS = 10_000;
const MAX_HELD = 100;

export class LiveAlerts {
  private readonly held = new Map<string, { alert: AlertRecord; at: number }>();

  /** Takes an `alert` event; true when it added or changed one. */
  accept(event: ServerSentEvent, now: number): boolean {
    if (event.type !== 'alert') return false;
    const alert = toAlert(event.data);
    if (alert === null) return false;
    this.held.delete(alert.id);
    this.held.set(alert.id, { alert, at: now });
    for (const id of this.held.keys()) {
      if (this.held.size <= MAX_HELD) break;
      this.held.delete(id);
    }
    return true;
  }

  /** Lets go of alerts announced more than LIVE_ALERT_HOLD_MS ago; true when any went. */
  prune(now: number): boolean {
    let changed = false;
    for (const [id, { at }] of this.held) {
      if (now - at > LIVE_ALERT_HOLD_MS) {
        this.held.delete(id);
        changed = true;
      }
    }
    return changed;
  }

  /** The held alerts, newest announcement first. */
  list(): AlertRecord[] {
    return [...this.held.values()].reverse().map((h) => h.alert);
  }
}

/** `stored` (the store's open alerts, newest first) with the announced ones it does not hold yet first. */
export function withLiveAlerts(stored: readonly AlertRecord[], live: readonly AlertRecord[]): AlertRecord[] {
  const known = new Set(stored.map((a) => a.id));
  return [...live.filter((a) => !known.has(a.id)), ...stored];
}

function toAlert(data: string): AlertRecord | null {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    return null;
  }
  // The event's data is the alert itself (src/api/routes/stream-routes.ts).
  const alert = body;
  if (!isRecord(alert)) return null;
  const { id, type, severity, src, dst, summary } = alert;
  if (typeof id !== 'string' || typeof type !== 'string' || typeof summary !== 'string') return null;
  if (!SEVERITIES.includes(severity as Severity)) return null;
  const address = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  return {
    id,
    type,
    severity: severity as Severity,
    src: address(src),
    dst: address(dst),
    summary,
    status: 'open',
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
