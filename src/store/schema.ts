/**
 * The database's tables as Kysely types: one interface per table, column names as in SQL.
 * Packet-time columns (`*_us`) are epoch microseconds, server-time columns (`*_at`, `ts_ms`)
 * epoch milliseconds; JSON is kept as TEXT and parsed by the repositories. Booleans are 0/1
 * integers because SQLite has no boolean type. This file must stay in step with migrations/:
 * it describes what the latest migration leaves, it never creates anything itself.
 */

import type { Generated } from 'kysely';

export interface FlowsTable {
  id: Generated<number>;
  first_seen_us: number;
  last_seen_us: number;
  ip_version: number;
  /** "tcp", "udp", "icmp", ... (flows/flow-record.ts `protocolName`). */
  protocol: string;
  /** The initiator (client) side. */
  src_addr: string;
  dst_addr: string;
  src_port: number;
  dst_port: number;
  packets_to_server: number;
  bytes_to_server: number;
  packets_to_client: number;
  bytes_to_client: number;
  /** TCP flags seen from each side as letters (S F R P A U E W N); empty for other protocols. */
  tcp_flags_to_server: string;
  tcp_flags_to_client: string;
  state: string;
  end_reason: string;
  /** The process on this host that owned the flow's socket (migration 0007); null when not seen. */
  process_pid: number | null;
  process_name: string | null;
  process_user: string | null;
  /** The sensor or exporter the flow came from (migration 0009); null for this host's own capture. */
  sensor: string | null;
}

export interface FlowRollupsTable {
  /** Start of the minute, epoch microseconds. */
  minute_us: number;
  /** An address, or `*` for the total over all hosts. */
  host: string;
  protocol: string;
  packets: number;
  bytes: number;
  flows: number;
}

/**
 * A host's totals per hour (`host_hour_totals`) or per UTC day (`host_day_totals`), all protocols
 * together: the sums of its `flow_rollups` rows in that period, `*` included, kept in step by the
 * same inserts and by retention, so that a day costs one row instead of 1440 minutes.
 */
export interface HostHourTotalsTable {
  host: string;
  /** Start of the hour, epoch microseconds. */
  hour_us: number;
  packets: number;
  bytes: number;
  flows: number;
}

/** The same per UTC day. */
export interface HostDayTotalsTable {
  host: string;
  /** Start of the UTC day, epoch microseconds. */
  day_us: number;
  packets: number;
  bytes: number;
  flows: number;
}

/**
 * Per minute, the flows of one TCP or UDP service port (the server's port) that ended in it, each
 * counted wholly there (flow-rollup.ts `rollUpPorts`), kept in step by the inserts and retention.
 */
export interface PortRollupsTable {
  /** Start of the minute of the flows' last packet, epoch microseconds. */
  minute_us: number;
  /** "tcp" or "udp". */
  protocol: string;
  port: number;
  packets: number;
  bytes: number;
  flows: number;
}

export interface AlertsTable {
  /** The detector pipeline's alert id. */
  id: string;
  type: string;
  severity: string;
  src: string | null;
  dst: string | null;
  start_us: number;
  end_us: number;
  summary: string;
  /** JSON object of counter name to number. */
  counters: string;
  /** JSON: thresholds, sample flows, top sources. */
  evidence: string;
  /** How many detector reports were merged into the alert. */
  updates: number;
  status: 'open' | 'acknowledged' | 'resolved';
  acknowledged_by: string | null;
  acknowledged_at: number | null;
  updated_at: number;
  /** Migration 0008: the user it is assigned to. */
  assignee: string | null;
  resolved_by: string | null;
  resolved_at: number | null;
  /** `src:<address>`, or `dst:<address>` for an attack from many sources, or `type:<type>`. */
  group_key: Generated<string>;
  /** The detector's severity when a per-type override replaced it; null otherwise. */
  detected_severity: string | null;
  /** The suppression rule that muted the alert (not notified, hidden by default). */
  suppressed_by: number | null;
  /** The sensor that raised it (migration 0009); null for this host's own. */
  sensor: string | null;
}

/** An alert's history and comments (migration 0008). */
export interface AlertEventsTable {
  id: Generated<number>;
  alert_id: string;
  ts_ms: number;
  actor: string;
  kind: 'acknowledged' | 'resolved' | 'reopened' | 'assigned' | 'commented';
  /** The comment, the assignee, or the reason given with the change. */
  text: string | null;
}

/** Mute matching alerts until `expires_at` (migration 0008); null columns match anything. */
export interface SuppressionRulesTable {
  id: Generated<number>;
  alert_type: string | null;
  /** An address or CIDR network. */
  src: string | null;
  dst: string | null;
  reason: string;
  created_by: string;
  created_at: number;
  expires_at: number;
  removed_by: string | null;
  removed_at: number | null;
}

export interface NotificationChannelsTable {
  id: Generated<number>;
  name: string;
  kind: 'email' | 'webhook' | 'syslog';
  /** 0 or 1. */
  enabled: number;
  min_severity: string;
  /** JSON array of alert types; empty: all. */
  types: string;
  max_per_window: number;
  window_minutes: number;
  /** JSON: the kind's settings, secrets included (never sent back by the API). */
  settings: string;
  created_by: string;
  created_at: number;
  updated_by: string;
  updated_at: number;
}

/** The notification queue and delivery log in one (migration 0008). */
export interface NotificationDeliveriesTable {
  id: Generated<number>;
  channel_id: number;
  notification_id: string;
  kind: 'alert' | 'digest' | 'test';
  alert_id: string | null;
  title: string;
  /** JSON: the Notification as sent. */
  notification: string;
  status: 'pending' | 'sent' | 'failed';
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  sent_at: number | null;
}

export interface IncidentsTable {
  id: Generated<number>;
  title: string;
  description: string;
  severity: string;
  status: 'open' | 'investigating' | 'contained' | 'closed';
  /** JSON array of addresses. */
  hosts: string;
  assignee: string | null;
  created_by: string;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
}

export interface IncidentLinksTable {
  id: Generated<number>;
  incident_id: number;
  kind: 'alert' | 'flow' | 'pcap' | 'block' | 'scan';
  /** An alert id, a flow id, the alert whose evidence capture it is, a firewall rule id, a scan id. */
  ref: string;
  note: string | null;
  added_by: string;
  added_at: number;
}

/** An incident's own timeline entries: created, status, edited, commented, linked, unlinked. */
export interface IncidentEventsTable {
  id: Generated<number>;
  incident_id: number;
  ts_ms: number;
  actor: string;
  kind: string;
  text: string | null;
  /** JSON, e.g. the fields an edit changed. */
  detail: string | null;
}

export interface FirewallRulesTable {
  id: Generated<number>;
  kind: string;
  source: string | null;
  protocol: string | null;
  port: number | null;
  interface: string | null;
  comment: string | null;
  alert_id: string | null;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  removed_at: number | null;
  removed_by: string | null;
}

/**
 * The port scanner's runs (migration 0006), one row each from the request to the report. The id
 * is a UUID the caller makes; JSON columns are text, parsed by scan-repository.ts.
 */
export interface ScansTable {
  id: string;
  /** A user name, or `schedule:<name>`. */
  requested_by: string;
  /** The schedule that started it; null for a run someone asked for. */
  schedule: string | null;
  /** JSON array of the target specs as given. */
  targets: string;
  /** JSON object: the rest of the request (ports, udp, engine, ...). */
  request: string;
  /** The caller's normalised key of targets and ports: runs with the same key are comparable. */
  baseline_key: string;
  status: 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
  created_at: number;
  started_at: number | null;
  finished_at: number | null;
  error: string | null;
  /** JSON. */
  report: string | null;
  open_ports: Generated<number>;
  findings: Generated<number>;
  /** 'info' to 'critical', the highest risk among the findings; null without any. */
  max_risk: 'info' | 'low' | 'medium' | 'high' | 'critical' | null;
}

/** The host probe's samples at full resolution (migration 0007); percentages 0-100, rates per second. */
export interface HealthSamplesTable {
  ts_ms: number;
  cpu: number;
  memory: number;
  swap: number;
  load1: number;
  /** The fullest file system's use. */
  disk: number;
  net_rx_bps: number;
  net_tx_bps: number;
  disk_read_bps: number;
  disk_write_bps: number;
  /** JSON: the whole HostSample (system/host-sample.ts). */
  sample: string;
}

/** A minute of health samples: averages, and the peaks of CPU and memory. */
export interface HealthRollupsTable {
  minute_ms: number;
  samples: number;
  cpu: number;
  cpu_max: number;
  memory: number;
  memory_max: number;
  /** The minute's highest. */
  swap: number;
  load1: number;
  /** The minute's highest. */
  disk: number;
  net_rx_bps: number;
  net_tx_bps: number;
  disk_read_bps: number;
  disk_write_bps: number;
  /** JSON: HealthRollupDetail (store/health-repository.ts). */
  detail: string;
}

export interface UsersTable {
  id: Generated<number>;
  username: string;
  password_hash: string;
  role: 'admin' | 'analyst' | 'viewer';
  /** 0 or 1. */
  disabled: number;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
}

export interface RefreshTokensTable {
  token_hash: string;
  user_id: number;
  family: string;
  expires_at: number;
  revoked_at: number | null;
  created_at: number;
}

export interface AuditEventsTable {
  id: Generated<number>;
  ts_ms: number;
  actor: string;
  actor_ip: string | null;
  action: string;
  target: string | null;
  /** JSON, or null when there was nothing before (a create). */
  before: string | null;
  after: string | null;
  outcome: 'ok' | 'denied' | 'failed';
}

export interface SettingsTable {
  key: string;
  /** JSON. */
  value: string;
  updated_at: number;
  updated_by: string;
}

/** Every table FlowTrack keeps, by name. */
/**
 * A source of flows the hub has heard from (migration 0009): a FlowTrack sensor, or a router
 * exporting NetFlow/IPFIX (named `exporter:<address>`).
 */
export interface SensorsTable {
  name: string;
  kind: 'sensor' | 'exporter';
  first_seen_ms: number;
  last_contact_ms: number;
  /** JSON: the sensor's latest health report (capture, buffer), or the exporter's counts. */
  health: string | null;
}

/** Ids of the sensors' messages the hub has stored, for storing each once (migration 0009). */
export interface BusMessagesTable {
  id: string;
  received_ms: number;
}

export interface Database {
  flows: FlowsTable;
  flow_rollups: FlowRollupsTable;
  host_hour_totals: HostHourTotalsTable;
  host_day_totals: HostDayTotalsTable;
  port_rollups: PortRollupsTable;
  alerts: AlertsTable;
  alert_events: AlertEventsTable;
  suppression_rules: SuppressionRulesTable;
  notification_channels: NotificationChannelsTable;
  notification_deliveries: NotificationDeliveriesTable;
  incidents: IncidentsTable;
  incident_links: IncidentLinksTable;
  incident_events: IncidentEventsTable;
  firewall_rules: FirewallRulesTable;
  scans: ScansTable;
  health_samples: HealthSamplesTable;
  health_rollups: HealthRollupsTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  audit_events: AuditEventsTable;
  settings: SettingsTable;
  sensors: SensorsTable;
  bus_messages: BusMessagesTable;
}
