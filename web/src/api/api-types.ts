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
