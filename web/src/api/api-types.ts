/**
 * The shapes of the API's answers the dashboard reads, as the server sends them (src/api/routes,
 * src/live, src/alerts). Kept by hand for now; one shared schema is the design's aim.
 */

export type Role = 'viewer' | 'analyst' | 'admin';

export interface SessionUser {
  id: number;
  username: string;
  role: Role;
}

/** POST /api/auth/login and /api/auth/refresh. */
export interface TokenResponse {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
  tokenType: 'Bearer';
  user: SessionUser;
}

/** Every error body of the API. */
export interface ErrorBody {
  error: string;
  message: string;
}

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface AlertRecord {
  id: string;
  type: string;
  severity: Severity;
  src: string | null;
  dst: string | null;
  summary: string;
  status: 'open' | 'acknowledged' | 'resolved';
  /** The suppression rule that mutes it; absent or null: not muted. */
  suppressedBy?: number | null;
}

export type CaptureState = 'starting' | 'running' | 'restarting' | 'failed' | 'stopped';

export interface CaptureInterface {
  interface: string;
  state: CaptureState;
  pid: number | null;
  counters: {
    packets: number;
    received: number;
    kernelDropped: number;
    interfaceDropped: number;
    streamErrors: number;
    restarts: number;
  };
  failure: string | null;
}

/** GET /api/capture. */
export interface CaptureView {
  mode: 'live' | 'replay' | 'off';
  interfaces: CaptureInterface[];
  live: { at: number; packetsPerSecond: number; bytesPerSecond: number; flowsPerSecond: number } | null;
}

/** Where flows come from besides this host: a FlowTrack sensor, or a router exporting NetFlow/IPFIX. */
export type SensorKind = 'sensor' | 'exporter';

/**
 * A sensor or exporter the hub has heard from (src/api/routes/sensor-routes.ts). Times in epoch
 * ms. `health` is whatever the source last reported, passed through: a sensor's SensorHealthReport,
 * an exporter's counts, or null. Read it with features/sensors/sensor-health.ts, never as trusted.
 */
export interface SensorRow {
  name: string;
  kind: SensorKind;
  firstSeenMs: number;
  lastContactMs: number;
  /** Heard from within the server's limit (30 s; a sensor reports every 5 s). */
  inContact: boolean;
  health: unknown;
}

/** What a sensor reports every few seconds (src/bus/bus-messages.ts SensorHealth, less its name). */
export interface SensorHealthReport {
  /** The sensor's own clock, epoch ms. */
  atMs: number;
  version: string;
  hostname: string;
  capture: { interfaces: CaptureInterface[]; live: CaptureView['live'] };
  /** Messages kept on the sensor's disk while the hub cannot be reached. */
  bufferedMessages: number;
  bufferedBytes: number;
  /** Messages the full buffer had to let go. */
  droppedMessages: number;
}

/** The hub's side of the bus; null in GET /api/sensors when this server is no hub. */
export interface HubState {
  url: string;
  connected: boolean;
  /** Batches of flows stored, and those delivered again and skipped. */
  batches: number;
  duplicates: number;
  flows: number;
  alerts: number;
}

/** The NetFlow/IPFIX collector; null in GET /api/sensors when it is off. */
export interface CollectorState {
  /** host:port it listens on (UDP). */
  listen: string;
  datagrams: number;
  records: number;
  dropped: number;
}

/** GET /api/sensors: the most recently heard from first. */
export interface SensorsView {
  sensors: SensorRow[];
  hub: HubState | null;
  collector: CollectorState | null;
}
