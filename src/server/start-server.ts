/**
 * Starts the FlowTrack service from its configuration: log files, the store (migrated), the
 * signing key, the auth services, the HTTP API and the background jobs (retention). It prints the
 * one-time setup token when no admin exists (to the console, never to a log file). Everything it
 * opens is closed by `close()`, in reverse order.
 */

import { mkdirSync } from 'node:fs';
import type { ServiceConfig } from '../config/service-config.js';
import { createLogFile, type LogFile } from '../logs/log-files.js';
import { SecurityLog } from '../logs/security-log.js';
import { openStore, type Store } from '../store/store.js';
import { startRetention } from '../store/retention.js';
import { loadOrCreateSigningKey } from '../api/auth/signing-key.js';
import { TokenService } from '../api/auth/token-service.js';
import { LoginGuard } from '../api/auth/login-guard.js';
import { createSetupToken } from '../api/auth/setup-token.js';
import { buildApi } from '../api/app.js';
import { DEFAULT_WEB_ROOT, hasWebBuild } from '../api/web-app.js';
import { loadTlsCredentials } from '../api/tls-credentials.js';
import type { Api, SensorSources } from '../api/api-context.js';
import { SECURITY_LOG, SERVER_LOG } from '../api/routes/log-routes.js';
import { describeError } from '../util/errors.js';
import { StoreWriter, type IngestWriter } from '../store/store-writer.js';
import { StoreWriterThread } from '../store/store-writer-thread.js';
import { LiveFeed } from './live-feed.js';
import { StoreHolder } from './store-holder.js';
import { PipelineService } from './pipeline-service.js';
import {
  createBackup,
  listBackups,
  resolveBackupName,
  restoreBackup,
  startBackupSchedule,
  verifyBackup,
} from '../store/backup.js';
import type { BackupService } from '../api/routes/backup-routes.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { AdminSessions } from '../respond/admin-sessions.js';
import { FirewallService, type ReconcileReport } from '../respond/firewall-service.js';
import { leftovers, openFirewall } from '../respond/open-firewall.js';
import { scopeFrom } from '../scan/scan-scope.js';
import { ScanService } from '../scan/scan-service.js';
import { HostProbe } from '../system/host-probe.js';
import { ConnectionOwnerCache, SocketOwners } from '../system/socket-owners.js';
import { SystemMonitor } from '../system/system-monitor.js';
import type { ResourceRules } from '../system/resource-rules.js';
import type { CaptureStatus } from '../live/pipeline-messages.js';
import { AlertService } from './alert-service.js';
import { ServerMetrics } from './metrics.js';
import type { Alert } from '../alerts/alert.js';
import { hostname } from 'node:os';
import { PRODUCT_VERSION } from '../util/version.js';
import { HubService } from './hub-service.js';
import { CollectorService } from './collector-service.js';
import { IpfixExporter, parseCollectorAddress } from '../flows/ipfix-exporter.js';
import { SensorService } from './sensor-service.js';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

export interface RunningServer {
  /** Where the API listens, e.g. http://127.0.0.1:8080. */
  url: string;
  app: Api;
  store: Store;
  /** Set when no admin existed at start: the token that creates the first one. */
  setupToken: string | null;
  /** The host firewall's rules and blocking policy. */
  firewall: FirewallService;
  /** Where signed-in admins are connected from (never blocked). */
  adminSessions: AdminSessions;
  /** The alert rules every alert passes, and the notifications. */
  alerts: AlertService;
  /** The hub's side of the bus, when bus.url is set (and this is not a sensor). */
  hub: HubService | null;
  /** The sensor's side of the bus, when started as a sensor. */
  sensor: SensorService | null;
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** Where to print the setup token and the start-up line (default: standard error). */
  print?: (line: string) => void;
  now?: () => number;
  /** A capture file to run through the pipeline into the store once the API is up (no live capture then). */
  replay?: string;
  /** Times the capture's own pace, or 'max' (default): as fast as the store keeps up. */
  replaySpeed?: number | 'max';
  /** The dashboard's build folder (default: dist/web of this installation). */
  webRoot?: string;
  /**
   * Run as a sensor (`flowtrack sensor`): flows and alerts go to the hub at bus.url, not to the
   * store, and the firewall follows the hub's block orders instead of a policy of its own.
   */
  sensor?: boolean;
}

export async function startServer(
  config: ServiceConfig,
  options: StartServerOptions = {},
): Promise<RunningServer> {
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? Date.now;
  // Checked first: a bad certificate stops the start before anything is opened or migrated.
  const tls = config.server.tls && loadTlsCredentials(config.server.tls);
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const logOptions = {
    dir: config.logs.dir,
    maxSize: config.logs.maxSize,
    interval: config.logs.interval,
    maxFiles: config.logs.maxFiles,
    compress: config.logs.compress,
  };
  const closers: (() => Promise<void>)[] = [];
  const close = async (): Promise<void> => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
  };
  try {
    const serverLog: LogFile = createLogFile({ ...logOptions, name: SERVER_LOG, level: config.logs.level });
    closers.push(() => serverLog.close());
    const securityLogFile = createLogFile({ ...logOptions, name: SECURITY_LOG, level: 'info' });
    closers.push(() => securityLogFile.close());

    const store = new StoreHolder(await openStore(config.store.url));
    closers.push(() => store.close());
    const key = await loadOrCreateSigningKey(config.auth.jwtSecretFile);
    const tokens = new TokenService({
      key,
      // Through the holder at each call: a restore replaces the repository.
      refreshTokens: {
        insert: (record) => store.refreshTokens.insert(record),
        find: (hash) => store.refreshTokens.find(hash),
        revoke: (hash, at) => store.refreshTokens.revoke(hash, at),
        revokeFamily: (family, at) => store.refreshTokens.revokeFamily(family, at),
        revokeAllForUser: (userId, at) => store.refreshTokens.revokeAllForUser(userId, at),
      },
      accessTtlSeconds: config.auth.accessTokenTtlSeconds,
      refreshTtlSeconds: config.auth.refreshTokenTtlSeconds,
      now,
    });
    const newWriter = async (): Promise<IngestWriter> => {
      const options = {
        now,
        onError: (err: FlowTrackError) =>
          serverLog.logger.error({ err: describeError(err) }, 'store write failed'),
      };
      // An in-memory database has no second connection: its writer shares the service's.
      return store.location === ':memory:'
        ? new StoreWriter(store.db, options)
        : StoreWriterThread.start(config.store.url, options);
    };
    if (options.sensor === true && config.bus.url === '') {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        'a sensor needs its hub: give --hub nats://HOST:4222 (bus.url)',
      );
    }
    const sensor =
      options.sensor === true ? new SensorService({ bus: config.bus, logger: serverLog.logger, now }) : null;
    if (sensor) {
      closers.push(() => sensor.stop());
      print(
        `flowtrack: sensor ${sensor.name}, sending to the hub at ${config.bus.url} (buffer: ${config.bus.bufferDir})`,
      );
    }
    let writer = sensor ? sensor.writer : await newWriter();
    closers.push(() => writer.close());
    const feed = new LiveFeed(now);
    closers.push(() => {
      feed.close();
      return Promise.resolve();
    });
    const backupDir = config.backup.dir;
    const connectionUrl = store.dialect === 'postgres' ? { connectionUrl: config.store.url } : {};
    let restoring = false;
    const backups: BackupService = {
      list: () => listBackups(backupDir),
      create: () => createBackup(store, backupDir, { now, ...connectionUrl }),
      restore: async (name) => {
        if (restoring) throw new FlowTrackError(ErrorCode.CONFLICT, 'a restore is already under way');
        restoring = true;
        try {
          const path = resolveBackupName(backupDir, name);
          // Checked before anything stops: a bad file leaves the service as it was.
          await verifyBackup(path);
          await writer.close();
          await store.close();
          try {
            return await restoreBackup(config.store.url, path, { now });
          } finally {
            // The restored database, or the previous one when the restore gave up.
            store.replace(await openStore(config.store.url));
            writer = sensor ? sensor.writer : await newWriter();
            // The alert rules and channels are the restored ones too.
            await alertService
              .reload()
              .catch((err: unknown) =>
                serverLog.logger.error({ err: describeError(err) }, 'alert rules reload failed'),
              );
            // The kernel follows the restored rules.
            await firewall
              .reconcile()
              .catch((err: unknown) =>
                serverLog.logger.error({ err: describeError(err) }, 'firewall reconciliation failed'),
              );
          }
        } finally {
          restoring = false;
        }
      },
    };
    if (config.backup.intervalHours > 0) {
      const schedule = startBackupSchedule(
        store,
        backupDir,
        config.backup.intervalHours * 3_600_000,
        config.backup.keep,
        {
          now,
          ...connectionUrl,
          onBackup: (info) =>
            serverLog.logger.info({ backup: info.name, bytes: info.bytes }, 'scheduled backup made'),
          onError: (err) => serverLog.logger.error({ err: describeError(err) }, 'scheduled backup failed'),
        },
      );
      closers.push(() => schedule.stop());
    }
    const adminSessions = new AdminSessions(config.auth.refreshTokenTtlSeconds * 1000, now);
    // Known once the API listens (port 0 picks one).
    const listening: { port?: number } = {};
    const backend = await openFirewall(config.firewall, { now });
    // Said, not removed: a test or a second instance must not take a running one's rules away.
    for (const name of await leftovers(backend.name, false)) {
      serverLog.logger.warn({ firewall: name }, "an earlier run's firewall rules are still enforced");
      print(
        `flowtrack: FlowTrack's ${name} rules of an earlier run are still enforced, and nothing manages them now: \`flowtrack firewall flush --yes\` removes them`,
      );
    }
    const alertService = new AlertService({
      store,
      now,
      log: serverLog.logger,
      host: hostname(),
      productVersion: PRODUCT_VERSION,
      ...(config.notifications.dashboardUrl !== '' && { dashboardUrl: config.notifications.dashboardUrl }),
    });
    await alertService.start();
    closers.push(() => alertService.stop());
    // Its sources are read at each scrape, once everything below exists.
    const metrics = config.metrics.enabled
      ? new ServerMetrics({
          capture: () => pipeline.interfaces(),
          live: () => pipeline.live(),
          writer: () => writer,
          notifications: () => alertService.stats(),
          pendingDeliveries: async () => (await store.deliveries.counts()).pending,
          ...(sensor !== null && { sensor: () => sensor.stats() }),
          ...(sensor === null && config.bus.url !== '' && { hub: () => hub?.stats() ?? null }),
          ...(config.collector.enabled && { collector: () => collector?.stats() ?? null }),
        })
      : null;
    /** Every alert, from any source, before it is stored: the alert rules, then counted. */
    const prepareAlert = (raw: Alert): Alert => {
      const alert = alertService.prepare(raw);
      metrics?.countAlert(alert);
      return alert;
    };
    /** An alert raised or updated outside the pipeline (a scan's finding, the host's health). */
    const storeAlert = async (raw: Alert): Promise<Alert> => {
      const alert = prepareAlert(raw);
      await store.alerts.upsertAlerts([alert], now());
      feed.publishAlert(alert);
      alertService.notify(alert);
      return alert;
    };
    const hub =
      sensor === null && config.bus.url !== ''
        ? new HubService({
            bus: config.bus,
            store,
            prepareAlert,
            onAlert: (alert) => onLiveAlert(alert),
            feed,
            logger: serverLog.logger,
            now,
          })
        : null;
    /** A live alert of the pipeline or of a sensor: the blocking policy and the notifications. */
    const onLiveAlert = (alert: Alert): void => {
      // A muted alert is one an analyst judged harmless: no automatic block either.
      if (alert.suppressedBy === null || alert.suppressedBy === undefined) firewall.onAlert(alert);
      alertService.notify(alert);
    };
    const firewall = new FirewallService({
      backend,
      rules: () => store.firewallRules,
      settings: () => store.settings,
      audit: (event) => store.audit.append(event),
      config: config.firewall,
      apiPort: () => listening.port,
      adminSessions,
      log: serverLog.logger,
      now,
      ...(hub && { onRuleChange: hub.onRuleChange }),
    });
    const reconciled = await firewall.start();
    closers.push(() => firewall.stop());
    print(describeFirewall(firewall, reconciled, sensor !== null));
    if (hub) {
      hub.start(await firewall.active());
      closers.push(() => hub.stop());
      print(`flowtrack: hub of the sensors at ${config.bus.url}`);
    }
    const scans = new ScanService({
      scans: () => store.scans,
      audit: (event) => store.audit.append(event),
      raiseAlert: async (alert) => {
        await storeAlert(alert);
      },
      // Read again for each scan: interfaces, and with them the connected networks, come and go.
      scope: () => scopeFrom(config.scan),
      maxRate: config.scan.maxRate,
      schedules: config.scan.schedules,
      now,
      log: serverLog.logger,
    });
    await scans.start();
    closers.push(() => scans.stop());
    const sys = config.system;
    // Each run's alert ids are its own, as the pipeline's are.
    const runId = `${now().toString(36)}-`;
    const monitor: SystemMonitor | null = sys.enabled
      ? new SystemMonitor({
          probe: new HostProbe(),
          sockets: sys.processes ? { reader: new SocketOwners(), owners: new ConnectionOwnerCache() } : null,
          health: () => store.health,
          raiseAlert: async (alert) => {
            await storeAlert(alert);
          },
          resolveAlert: async (raw) => {
            const alert = prepareAlert(raw);
            await store.alerts.upsertAlerts([alert], now());
            const resolved = await store.alerts.resolve(alert.id, 'system', now(), 'back within its limit');
            await store.audit.append({
              tsMs: now(),
              actor: 'system',
              action: 'alert.resolve',
              target: alert.id,
              after: { status: resolved.status, reason: alert.summary },
              outcome: 'ok',
            });
            feed.publishAlert(alert);
          },
          capture: (): CaptureStatus[] => pipeline.interfaces(),
          publish: (sample) => feed.publishHealth(sample),
          intervalMs: sys.intervalSeconds * 1000,
          rules: resourceRulesOf(sys.alerts),
          idPrefix: runId,
          log: serverLog.logger,
        })
      : null;
    // Every flow also goes, as IPFIX, to the collectors the configuration names.
    const ipfix = config.ipfixExport.targets.map(
      (target) =>
        new IpfixExporter({
          ...parseCollectorAddress(target, 'ipfixExport.targets'),
          observationDomainId: config.ipfixExport.observationDomainId,
        }),
    );
    for (const exporter of ipfix) closers.push(() => exporter.close());
    const collector = config.collector.enabled
      ? new CollectorService({
          config: config.collector,
          detection: config.detection,
          writer: () => writer,
          store,
          prepareAlert,
          onAlert: (alert) => onLiveAlert(alert),
          feed,
          logger: serverLog.logger,
          now,
        })
      : null;
    const pipeline = new PipelineService({
      config,
      ...(options.replay !== undefined && {
        replay: { file: options.replay, speed: options.replaySpeed ?? 'max' },
      }),
      writer: () => writer,
      prepareAlert,
      // A sensor's alerts are the hub's to act on and notify.
      ...(sensor === null && { onAlert: onLiveAlert }),
      ...(sensor && { alertIdPrefix: `${sensor.name}-` }),
      ...(ipfix.length > 0 && { onFlow: (flow) => ipfix.forEach((e) => e.export(flow)) }),
      isOwnAlert: (alert) => scans.isOwnScanAlert(alert),
      ...(monitor && { processOf: (flow) => monitor.processOf(flow) }),
      feed,
      logger: serverLog.logger,
      print,
      now,
    });
    const setup = (await store.users.countAdmins()) === 0 ? createSetupToken({ now }) : null;
    const webRoot = options.webRoot ?? DEFAULT_WEB_ROOT;
    const app = await buildApi({
      store,
      tokens,
      loginGuard: new LoginGuard({ ...config.auth.lockout, now }),
      securityLog: new SecurityLog(securityLogFile.logger),
      logDir: config.logs.dir,
      setupToken: setup,
      now,
      logger: serverLog.logger,
      feed,
      capture: pipeline,
      backups,
      firewall,
      scans,
      alertControl: alertService,
      ...(metrics && {
        metrics: {
          render: () => metrics.render(),
          observeRequest: (method, route, status, seconds) =>
            metrics.observeRequest(method, route, status, seconds),
          token: config.metrics.token === '' ? null : config.metrics.token,
        },
      }),
      ...(monitor && {
        system: {
          latest: () => monitor.latest(),
          sockets: () => monitor.sockets(),
          raised: () => monitor.raised(),
          intervalMs: sys.intervalSeconds * 1000,
          fullResolutionMs: sys.fullResolutionHours * HOUR_MS,
        },
      }),
      adminSessions,
      webRoot,
      detection: config.detection,
      sensorSources: () => ({
        hub: hub && { url: config.bus.url, ...hub.stats() },
        collector: collector && collectorState(collector),
      }),
      ingest: () => ({
        queued: writer.queued,
        acknowledged: writer.acknowledged,
        dropped: writer.dropped,
        failed: writer.failed,
      }),
      options: {
        corsOrigins: config.server.corsOrigins,
        bodyLimitBytes: config.server.bodyLimitBytes,
        trustProxy: config.server.trustProxy,
        rateLimit: config.rateLimit,
        ...(tls && { tls }),
      },
    });
    closers.push(() => app.close());

    const r = config.retention;
    const retention = startRetention(
      store,
      {
        flowsMaxAgeMs: r.flowsDays * DAY_MS,
        rollupsMaxAgeMs: r.flowsDays * DAY_MS,
        alertsMaxAgeMs: r.alertsDays * DAY_MS,
        healthSamplesMaxAgeMs: sys.fullResolutionHours * HOUR_MS,
        healthRollupsMaxAgeMs: r.healthDays * DAY_MS,
        auditEventsMaxAgeMs: r.auditDays * DAY_MS,
        maxSizeBytes: r.maxDatabaseMB > 0 ? r.maxDatabaseMB * 1024 * 1024 : null,
      },
      r.intervalMinutes * 60_000,
      { onError: (err) => serverLog.logger.error({ err: describeError(err) }, 'retention failed') },
    );
    closers.push(() => Promise.resolve(retention.stop()));

    const address = await app.listen({ host: config.server.host, port: config.server.port });
    listening.port = Number(new URL(address).port);
    serverLog.logger.info({ address, store: store.location }, 'FlowTrack server started');
    print(
      `flowtrack: serving the API at ${address}/api (store: ${store.location}, logs: ${config.logs.dir})`,
    );
    print(
      hasWebBuild(webRoot)
        ? `flowtrack: the dashboard is at ${address}/`
        : `flowtrack: the dashboard is not built (no ${webRoot}): run \`npm run build\` for it`,
    );
    if (setup) {
      print(
        `flowtrack: no admin exists yet. Create one within an hour with this one-time setup token:\n` +
          `  ${setup.token}\n` +
          `  (paste it in the dashboard, POST it to /api/auth/setup with {"setupToken", "username", "password"}, or run \`flowtrack user add NAME --admin\`)`,
      );
    }
    if (monitor) {
      monitor.start();
      closers.push(() => monitor.stop());
    }
    sensor?.attach({ firewall, capture: () => pipeline.interfaces(), live: () => pipeline.live() });
    if (collector) {
      print(`flowtrack: collecting NetFlow and IPFIX on ${await collector.start()} (UDP)`);
      closers.push(() => collector.stop());
    }
    pipeline.start();
    closers.push(() => pipeline.stop());
    return {
      url: address,
      app,
      store,
      setupToken: setup?.token ?? null,
      firewall,
      adminSessions,
      alerts: alertService,
      hub,
      sensor,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The collector as /api/sensors shows it. */
function collectorState(collector: CollectorService): NonNullable<SensorSources['collector']> {
  const s = collector.stats();
  return {
    listen: collector.listening ?? '',
    datagrams: s.datagrams,
    records: s.records,
    dropped: s.notAllowed + s.malformed,
  };
}

/** The configured resource rules under the names the rules module uses. */
function resourceRulesOf(alerts: ServiceConfig['system']['alerts']): ResourceRules {
  return {
    cpu: alerts.cpu,
    memory: alerts.memory,
    swap: alerts.swap,
    disk: alerts.disk,
    interface_errors: alerts.interfaceErrors,
    capture_drops: alerts.captureDrops,
  };
}

/**
 * The start-up line about the firewall: what enforces the rules, who decides blocks, and what
 * reconciling changed. A sensor's blocks are the hub's orders: its own policy never acts.
 */
function describeFirewall(firewall: FirewallService, report: ReconcileReport, isSensor: boolean): string {
  const { mode, backend, autoBlock } = firewall.status();
  const what =
    mode === 'dry-run'
      ? 'dry-run (rules are kept and checked, nothing is enforced; firewall.mode: enforce turns it on)'
      : `enforced with ${backend}`;
  const changed =
    report.missing.length + report.stale.length > 0
      ? `; reconciled with the database: ${report.missing.length} re-applied, ${report.stale.length} stale removed`
      : '';
  const blocking = isSensor
    ? 'blocks ordered by the hub'
    : `automatic blocking ${autoBlock.enabled ? 'on' : 'off'}`;
  return `flowtrack: firewall ${what}, ${blocking}${changed}`;
}
