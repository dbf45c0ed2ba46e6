/**
 * What the API is given by the composition root (`flowtrack serve`, or a test): the store, the
 * auth services, the logs and the options it needs. Routes receive this and nothing global, so a
 * test builds a real API on a temporary store and real log files.
 */

import type { FastifyBaseLogger, FastifyInstance, RawServerDefault } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Store } from '../store/store.js';
import type { TokenService } from './auth/token-service.js';
import type { LoginGuard } from './auth/login-guard.js';
import type { SetupToken } from './auth/setup-token.js';
import type { SecurityLog } from '../logs/security-log.js';
import type { LiveFeed } from '../server/live-feed.js';
import type { BackupService } from './routes/backup-routes.js';
import type { CaptureView } from './routes/capture-routes.js';
import type { AdminSessions } from '../respond/admin-sessions.js';
import type { FirewallService } from '../respond/firewall-service.js';
import type { ScanService } from '../scan/scan-service.js';
import type { SystemView } from './routes/system-routes.js';
import type { MetricsView } from './routes/metrics-routes.js';

export interface ApiOptions {
  /** Origins allowed to call the API from a browser; empty: CORS closed. */
  corsOrigins: readonly string[];
  bodyLimitBytes: number;
  /** Take the client address from X-Forwarded-For (only behind a proxy you run). */
  trustProxy: boolean;
  /** Requests per minute per client address, and login attempts per minute per address. */
  rateLimit: { perMinute: number; loginPerMinute: number };
  /** Certificate and key (PEM): the API then speaks HTTPS only. */
  tls?: { cert: Buffer; key: Buffer };
}

export interface ApiDeps {
  store: Store;
  tokens: TokenService;
  loginGuard: LoginGuard;
  securityLog: SecurityLog;
  /** Folder of the server and security log files (read by /api/logs). */
  logDir: string;
  /** The one-time token that creates the first admin; null once an admin exists. */
  setupToken: SetupToken | null;
  options: ApiOptions;
  /** Wall clock, epoch milliseconds (tests pass their own). */
  now: () => number;
  /** Backups of the store (the backup routes answer NOT_FOUND without it). */
  backups?: BackupService;
  /** Live rates and alerts for /api/stream. */
  feed?: LiveFeed;
  /** Live capture's state and the alerts' evidence files (/api/capture). */
  capture?: CaptureView;
  /** What the pipeline has written to the store so far (shown by /api/system_health). */
  ingest?: () => IngestStats;
  /** The host firewall's rules and blocking policy (the firewall routes answer NOT_FOUND without it). */
  firewall?: FirewallService;
  /** Port scans started from the API (the scan routes answer NOT_FOUND for starting one without it). */
  scans?: ScanService;
  /** The host's health and sockets (the system routes answer NOT_FOUND for them without it). */
  system?: SystemView;
  /** Where signed-in admins are connected from: never blocked. */
  adminSessions?: AdminSessions;
  /**
   * The dashboard's build folder (dist/web) to serve outside /api; when it holds no build, pages
   * answer 404 saying to run `npm run build`. Absent: the API only, no pages.
   */
  webRoot?: string;
  /** The configured detector options (`detection:`), shown by /api/settings/detection. */
  detection?: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /**
   * The server's alert center and notification dispatcher, told of every change made through the
   * API (without it, changes are stored and take effect at the next start; "send test" is 404).
   */
  alertControl?: AlertControl;
  /** Prometheus metrics at /metrics (absent: no such route). */
  metrics?: MetricsView;
  /** The hub's bus and the flow collector, shown beside the sensors (/api/sensors). */
  sensorSources?: () => SensorSources;
  /** The server's logger (pino); the app logs requests and errors through it. */
  logger?: FastifyBaseLogger;
}

export interface AlertControl {
  /** Reads the suppression rules, severity overrides and notification channels again. */
  reload(): Promise<void>;
  /** Sends a test notification through the channel now; the outcome of that one attempt. */
  sendTest(
    channelId: number,
    requestedBy: string,
  ): Promise<{ deliveryId: number; status: 'pending' | 'sent' | 'failed'; error?: string }>;
}

/** What takes flows from other hosts, as /api/sensors shows it. */
export interface SensorSources {
  /** The hub's side of the bus; null when this server is no hub. */
  hub: {
    url: string;
    connected: boolean;
    batches: number;
    duplicates: number;
    flows: number;
    alerts: number;
  } | null;
  /** The NetFlow/IPFIX collector; null when it is off. */
  collector: { listen: string; datagrams: number; records: number; dropped: number } | null;
}

export interface IngestStats {
  queued: number;
  /** Rows committed to the database: these survive a crash. */
  acknowledged: { flows: number; alerts: number };
  dropped: { flows: number; alerts: number };
  failed: { flows: number; alerts: number };
}

/** The Fastify instance with zod schemas for typed requests. */
export type Api = FastifyInstance<
  RawServerDefault,
  IncomingMessage,
  ServerResponse,
  FastifyBaseLogger,
  ZodTypeProvider
>;
