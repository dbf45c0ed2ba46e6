/**
 * The alert model every detector reports through: a type from a fixed list, a severity, the
 * attacker and victim where they exist, the time span on packet time, the figures that crossed
 * a threshold and a one-sentence summary. Plain data: no I/O, no clock.
 */

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
  // Raised by live capture about itself: packets lost, or a time without capture.
  'capture_loss',
  'capture_gap',
  // Raised by the port scanner: a port found open that the previous run of the scan found closed.
  'exposure',
  // Raised by the system monitor: a vital sign of the host (CPU, memory, a disk...) past its limit.
  'resource',
] as const;
export type AlertType = (typeof ALERT_TYPES)[number];

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Orders severities: info 0 ... critical 4. */
export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

/** A figure that crossed (or is judged against) a threshold. */
export interface Threshold {
  metric: string;
  value: number;
  threshold: number;
}

/** A flow shown as evidence (text form, small). */
export interface SampleFlow {
  protocol: string;
  client: string;
  server: string;
  packets: number;
  bytes: number;
  state: string;
}

/** What a detector reports; the tracker merges reports of one ongoing attack into one Alert. */
export interface AlertReport {
  type: AlertType;
  severity: Severity;
  /** Attacker (or the single source), when there is one. */
  src: string | null;
  /** Victim (or the single target), when there is one. */
  dst: string | null;
  /** Packet time of the report, microseconds since the epoch. */
  at: number;
  /** Packet time the attack started, when the detector knows it (else `at`). */
  startedAt?: number;
  /** Current totals (they replace the previous report's, they are not added). */
  counters: Record<string, number>;
  summary: string;
  thresholds: Threshold[];
  sampleFlows?: SampleFlow[];
  /** For attacks from many sources: the largest ones and how many there were. */
  topSources?: { address: string; packets: number }[];
}

export interface Alert {
  /** Stable within a run: type, attacker and victim, and a sequence number. */
  id: string;
  type: AlertType;
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
  /**
   * Set by the alert center, never by a detector: the detector's own severity when an admin's
   * per-type override replaced it (`severity` is then the override's).
   */
  detectedSeverity?: Severity | null;
  /** Set by the alert center: the suppression rule that mutes this alert (not notified). */
  suppressedBy?: number | null;
  /** The sensor that raised it; absent or null for this host's own pipeline. */
  sensor?: string | null;
}

/** The group an alert belongs to: its attacker's, or its victim's when it has many sources. */
export function alertGroupKey(alert: Pick<Alert, 'type' | 'src' | 'dst'>): string {
  if (alert.src !== null) return `src:${alert.src}`;
  if (alert.dst !== null) return `dst:${alert.dst}`;
  return `type:${alert.type}`;
}
