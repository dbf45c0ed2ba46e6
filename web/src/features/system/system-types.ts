/**
 * The host-health API's answers as the System page reads them. The sample and the sockets are the
 * server's own types (src/system/host-sample.ts and socket-types.ts hold nothing but types, so the
 * import is erased from the bundle); the answers around them are kept by hand beside the page, as
 * web/src/api/api-types.ts does, mirroring src/api/routes/system-routes.ts and
 * src/store/health-repository.ts. Types only.
 */

export type {
  CpuSample,
  HealthPoint,
  DiskIoSample,
  FileSystemSample,
  HostSample,
  InterfaceSample,
  MemorySample,
  ProcessSample,
} from '../../../../src/system/host-sample.js';
export type { SocketEntry, SocketOwner, SocketSnapshot } from '../../../../src/system/socket-types.js';
import type { HealthPoint, HostSample } from '../../../../src/system/host-sample.js';

/** GET /api/system_health. */
export interface SystemHealth {
  status: string;
  /** Seconds the FlowTrack service has run. */
  uptimeSeconds: number;
  process: { rssBytes: number; heapUsedBytes: number; pid: number; node: string };
  database: { dialect: string; schemaVersion: number; sizeBytes: number };
  /** Null when the server does not watch its host, or has no sample yet. */
  host: HostSample | null;
  /** The resource rules raised now, as `metric` or `metric:subject` ("cpu", "disk:/data"). */
  resourceAlerts: string[];
  /** The probe's interval; null when the server does not watch its host. */
  intervalSeconds: number | null;
}

/** GET /api/system_health/history (without `interface`). */
export interface HealthHistory {
  from: number;
  to: number;
  /** Full-resolution samples, or minute rollups for a range older than they reach. */
  source: 'samples' | 'minutes';
  /** Milliseconds each point covers. */
  stepMs: number;
  points: HealthPoint[];
}
