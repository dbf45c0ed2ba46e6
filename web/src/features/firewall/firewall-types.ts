/**
 * The firewall API's answers and bodies as the Firewall page reads and sends them, kept by hand
 * beside the page like web/src/api/api-types.ts (src/store/firewall-rule-repository.ts
 * FirewallRule, src/respond/firewall-service.ts status() and policy(), src/api/routes/firewall-routes.ts).
 * Types only, plus the fixed lists the form offers.
 */

import type { Severity } from '../../api/api-types';

export const RULE_KINDS = ['block', 'allow', 'close', 'open'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

export const PROTOCOLS = ['tcp', 'udp'] as const;
export type PortProtocol = (typeof PROTOCOLS)[number];

/** A rule as GET /api/firewall/rules lists it (in force, or with ?all=true lifted and expired too). */
export interface FirewallRule {
  id: number;
  kind: RuleKind;
  /** block, allow: an address or prefix. */
  source: string | null;
  /** close, open: the local port. */
  protocol: PortProtocol | null;
  port: number | null;
  /** Only packets arriving on this interface; null: any. */
  interface: string | null;
  comment: string | null;
  /** The alert behind the rule: automatic blocks, and an admin's block from an alert. */
  alertId: string | null;
  /** A user name, or 'policy' for automatic blocks. */
  createdBy: string;
  /** Epoch milliseconds. */
  createdAt: number;
  /** Epoch milliseconds when it ends by itself; null: never. */
  expiresAt: number | null;
  /** Epoch milliseconds when it was lifted or expired; null while in force. */
  removedAt: number | null;
  /** Who lifted it, 'expired', or 'not applied' (the kernel refused it). */
  removedBy: string | null;
}

/** GET /api/firewall/rules. */
export interface FirewallRuleList {
  items: FirewallRule[];
}

/** POST /api/firewall/rules. */
export interface NewRuleBody {
  kind: RuleKind;
  source?: string;
  protocol?: PortProtocol;
  port?: number;
  interface?: string;
  comment?: string;
  /** Epoch milliseconds (a custom date), or… */
  expiresAt?: number;
  /** …seconds from the server's now (the presets: immune to the browser's clock being off). */
  expiresInSeconds?: number;
  alertId?: string;
}

/** PATCH /api/firewall/rules/:id: null clears. */
export interface RuleChangeBody {
  comment?: string | null;
  expiresAt?: number | null;
}

/** A change the dry-run backend would have made to the kernel. */
export interface DryRunAction {
  at: number;
  action: 'apply' | 'block' | 'unblock' | 'flush';
  /** Addresses or ports concerned, comma separated ('' for flush). */
  detail: string;
}

/** Why an automatic block was not made. */
export interface Refusal {
  at: number;
  address: string;
  alertId: string;
  reason: string;
}

/** GET /api/firewall/status. */
export interface FirewallStatus {
  mode: 'dry-run' | 'enforce';
  /** The backend in use: dry-run in dry-run mode. */
  backend: 'nftables' | 'iptables' | 'dry-run';
  /** firewall.backend: what enforcement uses. */
  configuredBackend: 'auto' | 'nftables' | 'iptables';
  allowList: string[];
  /** firewall.protectedPorts and the API's own port, as "22/tcp". */
  protectedPorts: string[];
  autoBlock: {
    /** The kill switch's live state. */
    enabled: boolean;
    blocksLastMinute: number;
    maxPerMinute: number;
    alertTypes: string[];
    minSeverity: Severity;
    minSeverityByType: Partial<Record<string, Severity>>;
    /** "10m", "1h", "permanent": the first, second, … block of one source; the last repeats. */
    durations: string[];
    forgetAfter: string;
    ipv6PrefixLength: number;
  };
  counts: { blocked: number; cappedOut: number; refused: number; failed: number };
  lastReconcile: { at: number; missing: string[]; stale: string[] } | null;
  lastError: string | null;
  /** Newest first. */
  recentRefusals: Refusal[];
  /** Dry run only: the latest 50 changes it would have made, newest first. */
  wouldHaveDone?: DryRunAction[];
}
