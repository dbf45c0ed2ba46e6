/**
 * The alert API's answers as the alerts pages read them. The records are the server's own types
 * (src/store/alert-repository.ts, suppression-repository.ts, incident-repository.ts), imported
 * type-only so nothing of the server reaches the bundle, as web/src/features/system/system-types.ts
 * does. The answers around them and the fixed lists the filters offer are kept by hand beside
 * the pages: web code imports no server values.
 */

import type { Severity } from '../../api/api-types';
import type { AlertEvent, AlertGroup, AlertRecord } from '../../../../src/store/alert-repository.js';
import type { Incident } from '../../../../src/store/incident-repository.js';
import type { SuppressionRule } from '../../../../src/store/suppression-repository.js';

export type { AlertEvent, AlertEventKind, AlertGroup } from '../../../../src/store/alert-repository.js';
export type { SuppressionRule } from '../../../../src/store/suppression-repository.js';

/** The detectors' alert types, as src/alerts/alert.ts ALERT_TYPES lists them (the API refuses others). */
export const ALERT_TYPES = [
  'port_scan',
  'host_sweep',
  'syn_flood',
  'ddos',
  'udp_flood',
  'icmp_flood',
  'amplification',
  'connection_flood',
  'brute_force',
  'traffic_anomaly',
  'capture_loss',
  'capture_gap',
  'exposure',
  // Raised by the system monitor: a vital sign of the FlowTrack host past its limit.
  'resource',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

/** What each type is called in the filters (the table keeps the type's own name, as logs show it). */
export const ALERT_TYPE_LABELS: Record<AlertType, string> = {
  port_scan: 'Port scan',
  host_sweep: 'Host sweep',
  syn_flood: 'SYN flood',
  ddos: 'DDoS',
  udp_flood: 'UDP flood',
  icmp_flood: 'ICMP flood',
  amplification: 'Amplification',
  connection_flood: 'Connection flood',
  brute_force: 'Brute force',
  traffic_anomaly: 'Traffic anomaly',
  capture_loss: 'Capture loss',
  capture_gap: 'Capture gap',
  exposure: 'Newly open port',
  resource: 'Host resources',
};

export const ALERT_STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof ALERT_STATUSES)[number];

/** How the pages name each status: the API's `open` reads "New" (nobody has looked at it yet). */
export const ALERT_STATUS_LABELS: Record<AlertStatus, string> = {
  open: 'New',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

/**
 * An alert as GET /api/anomalies and the lifecycle POSTs give it: the server's AlertRecord, with
 * the type as a string (a newer server may know types this page does not) and the alert
 * center's marks optional (an alert stored before they existed may lack them).
 */
export interface AlertDetail extends Omit<
  AlertRecord,
  'type' | 'severity' | 'detectedSeverity' | 'suppressedBy'
> {
  type: string;
  severity: Severity;
  /** The detector's own severity when an admin's override replaced it; null otherwise. */
  detectedSeverity?: Severity | null;
  /** The suppression rule that mutes this alert (not notified, hidden by default); null: none. */
  suppressedBy?: number | null;
}

/** An incident the alert is linked to, as GET /api/anomalies/:id lists it. */
export type AlertIncident = Pick<Incident, 'id' | 'title' | 'status'>;

/** GET /api/anomalies/:id: the alert, its history (oldest first) and its incidents. */
export interface AlertWithHistory extends AlertDetail {
  history: AlertEvent[];
  incidents: AlertIncident[];
}

/** GET /api/anomalies. */
export interface AlertListPage {
  items: AlertDetail[];
  nextCursor: string | null;
}

/** The answer of POST /api/firewall/rules: the rule now in force (the fields this page reads). */
export interface CreatedFirewallRule {
  id: number;
  source: string | null;
  /** Epoch milliseconds when the rule ends by itself; null: never. */
  expiresAt: number | null;
}

/** GET /api/anomalies/groups. */
export interface AlertGroupList {
  groups: AlertGroup[];
}

/** POST /api/anomalies/groups/acknowledge and /resolve: the alerts that changed. */
export interface GroupChangeResult {
  changed: string[];
}

/** A suppression rule as /api/alert_suppressions gives it; `active`: in force when answered. */
export interface SuppressionRuleView extends SuppressionRule {
  active: boolean;
}

/** GET /api/alert_suppressions (newest first, ended rules included). */
export interface SuppressionRuleList {
  rules: SuppressionRuleView[];
}

/** A severity per alert type; a type left out keeps its detector's severity. */
export type SeverityOverrides = Partial<Record<string, Severity>>;

/** GET and PUT /api/alert_severity_overrides. */
export interface SeverityOverridesView {
  overrides: SeverityOverrides;
  updatedBy: string | null;
  /** Epoch milliseconds; null: never changed. */
  updatedAt: number | null;
}
