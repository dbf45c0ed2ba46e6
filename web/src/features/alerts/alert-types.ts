/**
 * The alert API's answers as the alerts pages read them (src/store/alert-repository.ts AlertRecord,
 * src/alerts/alert.ts, src/store/firewall-rule-repository.ts FirewallRule), kept by hand beside
 * the pages like web/src/api/api-types.ts. Types only, plus the fixed lists the filters offer.
 */

import type { Severity } from '../../api/api-types';

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

/** A figure that crossed (or is judged against) a threshold. */
export interface Threshold {
  metric: string;
  value: number;
  threshold: number;
}

/** A flow kept as evidence; endpoints are "192.0.2.1:40000" for TCP and UDP, bare addresses otherwise. */
export interface SampleFlow {
  protocol: string;
  client: string;
  server: string;
  packets: number;
  bytes: number;
  state: string;
}

/** An alert as GET /api/anomalies and GET /api/anomalies/:id give it. */
export interface AlertDetail {
  id: string;
  /** A string rather than AlertType: a newer server may know types this page does not. */
  type: string;
  severity: Severity;
  src: string | null;
  dst: string | null;
  /** First and last packet time of the evidence, microseconds since the epoch. */
  start: number;
  end: number;
  counters: Record<string, number>;
  summary: string;
  evidence: {
    thresholds: Threshold[];
    sampleFlows: SampleFlow[];
    topSources: { address: string; packets: number }[];
  };
  /** How many detector reports were merged into this alert. */
  updates: number;
  status: AlertStatus;
  acknowledgedBy: string | null;
  /** Epoch milliseconds. */
  acknowledgedAt: number | null;
  /** Epoch milliseconds of the last change, by the pipeline or an analyst. */
  updatedAt: number;
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
