/**
 * What an admin's alert rules do to an alert before it is stored, shown and notified: a per-type
 * severity override replaces the detector's severity (which is kept, for the record), and a
 * suppression rule in force marks the alert muted. Pure apart from the clock it is given: the
 * server loads the rules from the store and hands them here after every change.
 */

import { BlockList, isIP } from 'node:net';
import { ALERT_TYPES, SEVERITIES, type Alert, type AlertType, type Severity } from './alert.js';

/** A rule as the center matches it; null fields match anything. */
export interface SuppressionMatch {
  id: number;
  type: string | null;
  /** An address or CIDR network. */
  src: string | null;
  dst: string | null;
  /** Epoch milliseconds: the rule ends then. */
  expiresAt: number;
}

export type SeverityOverrides = Partial<Record<AlertType, Severity>>;

/** The settings key (store/settings-repository.ts) the overrides are kept under. */
export const SEVERITY_OVERRIDES_KEY = 'alerts.severityOverrides';

interface CompiledRule {
  id: number;
  type: string | null;
  src: BlockList | null;
  dst: BlockList | null;
  expiresAt: number;
}

export class AlertCenter {
  private overrides: SeverityOverrides = {};
  private rules: CompiledRule[] = [];

  constructor(private readonly now: () => number) {}

  setOverrides(overrides: SeverityOverrides): void {
    this.overrides = { ...overrides };
  }

  setSuppressions(rules: readonly SuppressionMatch[]): void {
    this.rules = rules.map((r) => ({
      id: r.id,
      type: r.type,
      src: r.src === null ? null : networkList(r.src),
      dst: r.dst === null ? null : networkList(r.dst),
      expiresAt: r.expiresAt,
    }));
  }

  /** `alert` with the override's severity and the first matching rule in force, as a copy. */
  prepare(alert: Alert): Alert {
    const override = this.overrides[alert.type];
    const detected = alert.detectedSeverity ?? alert.severity;
    const now = this.now();
    const rule = this.rules.find(
      (r) =>
        r.expiresAt > now &&
        (r.type === null || r.type === alert.type) &&
        matches(r.src, alert.src) &&
        matches(r.dst, alert.dst),
    );
    return {
      ...alert,
      severity: override ?? detected,
      detectedSeverity: override !== undefined && override !== detected ? detected : null,
      suppressedBy: rule?.id ?? null,
    };
  }
}

/** A BlockList holding one address or network (`a.b.c.d`, `a.b.c.d/len`, IPv6 likewise). */
function networkList(network: string): BlockList {
  const list = new BlockList();
  const [addr = '', len] = network.split('/');
  const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
  if (len === undefined) list.addAddress(addr, family);
  else list.addSubnet(addr, Number(len), family);
  return list;
}

function matches(list: BlockList | null, address: string | null): boolean {
  if (list === null) return true;
  if (address === null) return false;
  const family = isIP(address);
  if (family === 0) return false;
  return list.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The stored overrides, keeping only known types and severities (an older build's may differ). */
export function overridesOf(value: unknown): SeverityOverrides {
  const out: SeverityOverrides = {};
  if (typeof value !== 'object' || value === null) return out;
  for (const [type, severity] of Object.entries(value as Record<string, unknown>)) {
    if (ALERT_TYPES.includes(type as AlertType) && SEVERITIES.includes(severity as Severity)) {
      out[type as AlertType] = severity as Severity;
    }
  }
  return out;
}
