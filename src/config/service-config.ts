/**
 * The configuration of `flowtrack serve`: one YAML or JSON file plus `FLOWTRACK_*` environment
 * variables, checked once at start-up against one zod schema, every problem reported at once, then
 * frozen. Every setting has a default, so the server runs with no file at all, and the defaults
 * are the safe choice: listen on localhost only, no cross-origin access, no proxy trusted.
 *
 * It must never print a secret: values under secret-looking keys and passwords inside URLs are
 * masked in error messages and in `renderServiceConfig`. It never reads the files it names (TLS
 * keys, the JWT secret): their owners do, when the server starts.
 *
 * Relative paths, in the file or the environment, are taken from the current directory.
 */

import { readFileSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { parseDocument, stringify } from 'yaml';
import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../alerts/alert.js';
import { DETECTOR_FACTORIES } from '../detect/detector-registry.js';
import { parseSource } from '../respond/firewall-backend.js';
import { DEFAULT_ALLOWED_NETWORKS, scopeFrom } from '../scan/scan-scope.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

const MiB = 1024 * 1024;
const DAY_SECONDS = 24 * 60 * 60;

const whole = (min: number, max: number) => z.number().int().min(min).max(max);

// rotating-file-stream's rules: seconds and minutes must divide 60, hours 24.
function isRotationInterval(text: string): boolean {
  const m = /^([1-9]\d*)([smhdM])$/.exec(text);
  if (!m) return false;
  const n = Number(m[1]);
  if (m[2] === 's' || m[2] === 'm') return 60 % n === 0;
  if (m[2] === 'h') return 24 % n === 0;
  return true;
}

const detectorNames = DETECTOR_FACTORIES.map((f) => f.name);

const sourceText = z.string().superRefine((text, ctx) => {
  try {
    parseSource(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

const portText = z
  .string()
  .regex(/^([1-9]\d{0,4})\/(tcp|udp)$/, 'must be a port and protocol such as 22/tcp');

const durationText = z
  .string()
  .regex(/^([1-9]\d*[smhd]|permanent)$/, 'must be a duration such as 30s, 10m, 1h or 7d, or permanent');

/** A resource alert rule: `clear` must be below `raise`, so a value at the limit cannot flap. */
function thresholdRule(raise: number, clear: number, forSeconds: number) {
  return z
    .strictObject({
      enabled: z.boolean().default(true),
      raise: z.number().min(0).max(1e9).default(raise),
      clear: z.number().min(0).max(1e9).default(clear),
      forSeconds: whole(0, 86_400).default(forSeconds),
    })
    .prefault({})
    .superRefine((r, ctx) => {
      if (r.clear >= r.raise)
        ctx.addIssue({
          code: 'custom',
          path: ['clear'],
          message: `must be below raise (${r.raise}), or a value at the limit would raise and clear again and again`,
        });
    });
}

/** Milliseconds of a duration such as 10m; null for permanent. */
export function durationMs(text: string): number | null {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (!m) return null;
  return Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
}

/** The schema of the configuration file (and of the environment, mapped onto it). */
export const serviceConfigSchema = z.strictObject({
  /** Where the database, logs, backups and the JWT secret live unless set one by one. */
  dataDir: z.string().min(1).default('./flowtrack-data'),
  server: z
    .strictObject({
      /** Localhost by default: exposing the API is a decision, not an accident. */
      host: z.string().min(1).default('127.0.0.1'),
      /** 0 picks a free port (tests). */
      port: whole(0, 65535).default(8080),
      /** Serve HTTPS with these PEM files; both or neither. */
      tls: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
      /** Browser origins allowed to call the API; none by default (the dashboard is same-origin). */
      corsOrigins: z
        .array(
          z
            .string()
            .regex(
              /^https?:\/\/[^/\s?#*]+$/,
              'must be an origin such as https://monitor.example.org (scheme, host and port, no path, no *)',
            ),
        )
        .default([]),
      bodyLimitBytes: whole(1024, 100 * MiB).default(MiB),
      /** Believe X-Forwarded-For: only behind a reverse proxy, or any client can forge its address. */
      trustProxy: z.boolean().default(false),
    })
    .prefault({}),
  store: z
    .strictObject({
      /** An SQLite file path, or a postgres:// URL (default <dataDir>/flowtrack.db). */
      url: z
        .string()
        .min(1)
        .refine(
          (url) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || isPostgresUrl(url),
          'must be an SQLite file path or a postgres:// URL',
        )
        .optional(),
    })
    .prefault({}),
  logs: z
    .strictObject({
      /** Default <dataDir>/logs. */
      dir: z.string().min(1).optional(),
      /** Rotate a log file when it reaches this size. */
      maxSize: z
        .string()
        .regex(/^[1-9]\d*[BKMG]$/, 'must be a size such as 10M (a number and B, K, M or G)')
        .default('10M'),
      /** Rotate at least this often. */
      interval: z
        .string()
        .refine(
          isRotationInterval,
          'must be an interval such as 1d, 6h, 30m or 10s (s and m dividing 60, h 24)',
        )
        .default('1d'),
      /** Rotated files kept per log. */
      maxFiles: whole(1, 1000).default(10),
      compress: z.boolean().default(true),
      level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  auth: z
    .strictObject({
      accessTokenTtlSeconds: whole(60, DAY_SECONDS).default(900),
      refreshTokenTtlSeconds: whole(300, 365 * DAY_SECONDS).default(7 * DAY_SECONDS),
      /** Failed logins per user and address: lock after maxFailures within windowSeconds, for
       * baseLockSeconds doubling with each further lock up to maxLockSeconds. */
      lockout: z
        .strictObject({
          maxFailures: whole(1, 100).default(5),
          windowSeconds: whole(1, DAY_SECONDS).default(900),
          baseLockSeconds: whole(1, DAY_SECONDS).default(60),
          maxLockSeconds: whole(1, 30 * DAY_SECONDS).default(3600),
        })
        .prefault({})
        .superRefine((l, ctx) => {
          if (l.baseLockSeconds > l.maxLockSeconds)
            ctx.addIssue({
              code: 'custom',
              path: ['baseLockSeconds'],
              message: `must not exceed maxLockSeconds (${l.maxLockSeconds})`,
            });
        }),
      /** File holding the JWT signing key; created on first start (default <dataDir>/jwt-secret). */
      jwtSecretFile: z.string().min(1).optional(),
    })
    .prefault({})
    .superRefine((a, ctx) => {
      if (a.accessTokenTtlSeconds >= a.refreshTokenTtlSeconds)
        ctx.addIssue({
          code: 'custom',
          path: ['accessTokenTtlSeconds'],
          message: `must be shorter than refreshTokenTtlSeconds (${a.refreshTokenTtlSeconds})`,
        });
    }),
  rateLimit: z
    .strictObject({
      /** Requests per minute per client address, all routes. */
      perMinute: whole(1, 1_000_000).default(300),
      /** Login attempts per minute per client address. */
      loginPerMinute: whole(1, 10_000).default(10),
    })
    .prefault({}),
  retention: z
    .strictObject({
      flowsDays: whole(1, 36500).default(30),
      alertsDays: whole(1, 36500).default(365),
      healthDays: whole(1, 36500).default(30),
      auditDays: whole(1, 36500).default(365),
      /** Delete the oldest flows beyond this database size; 0 = unlimited. */
      maxDatabaseMB: whole(0, 100_000_000).default(0),
      intervalMinutes: whole(1, 24 * 60).default(60),
    })
    .prefault({}),
  backup: z
    .strictObject({
      /** Default <dataDir>/backups. */
      dir: z.string().min(1).optional(),
      /** 0 = no scheduled backups. */
      intervalHours: whole(0, 24 * 365).default(24),
      keep: whole(1, 1000).default(7),
    })
    .prefault({}),
  capture: z
    .strictObject({
      /** Capture live traffic (off: the API, store and replays only). */
      enabled: z.boolean().default(true),
      /**
       * Interfaces tcpdump listens on, one tcpdump each; `any` is every interface. Empty: the
       * interface of the default route.
       */
      interfaces: z
        .array(z.string().regex(/^[A-Za-z0-9_.:@-]{1,64}$/, 'must be an interface name such as eth0 or any'))
        .default([]),
      /**
       * Bytes kept per packet. 512 holds every header (tunnels included) and no detector reads
       * further; with immediate mode the kernel's ring has one slot of this size per packet, and
       * with whole packets (262144) its 128 MiB held 512 of them: a live test lost 2% at 100k
       * packets/s where 512 lost none (bench/live-bench.mjs).
       */
      snaplen: whole(64, 262144).default(512),
      /** A tcpdump filter expression; empty captures everything. */
      bpf: z.string().max(4096).default(''),
      /** Put the interfaces into promiscuous mode (see the traffic of other hosts on a mirror port). */
      promiscuous: z.boolean().default(true),
      /** The kernel's capture buffer per interface (tcpdump -B), in KiB: it absorbs bursts. */
      bufferKiB: whole(1024, 4 * 1024 * 1024).default(131072),
      /**
       * Packets reach FlowTrack one by one (tcpdump --immediate-mode), not in blocks the kernel
       * hands over up to a second late: alerts within a second on a quiet link.
       */
      immediate: z.boolean().default(true),
      /**
       * When a flow ends and is stored (as NetFlow's timeouts): this long without a packet, this
       * long after a TCP close (FIN both ways or RST), and at the latest after this long active.
       */
      flowTimeouts: z
        .strictObject({
          idleSeconds: whole(1, 3600).default(60),
          closedSeconds: whole(1, 600).default(15),
          activeSeconds: whole(10, 86_400).default(1800),
        })
        .prefault({}),
      /** The packets of each attack, kept as a pcap linked to its alert. */
      evidence: z
        .strictObject({
          enabled: z.boolean().default(true),
          /** Recent packets kept in memory, to save what came before an alert (default 64 MiB). */
          ringMB: whole(1, 4096).default(64),
          /** Bytes kept of each evidence packet (headers and the start of the payload). */
          snapBytes: whole(64, 65535).default(256),
          /** Seconds before the attack's start that go into its file. */
          beforeSeconds: whole(0, 600).default(5),
          /** The file is closed when its alert has had no report for this long. */
          quietSeconds: whole(1, 3600).default(30),
          maxMBPerAlert: whole(1, 4096).default(16),
          /** The evidence folder is kept under this size; the oldest files go first. */
          maxTotalMB: whole(1, 1_000_000).default(1024),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The host firewall: what FlowTrack enforces, and the automatic blocking policy. */
  firewall: z
    .strictObject({
      /**
       * dry-run (default): rules are kept, checked and shown, and the kernel is not touched;
       * enforce: they are applied to the kernel's firewall.
       */
      mode: z.enum(['dry-run', 'enforce']).default('dry-run'),
      /** auto: nftables where `nft` works, else iptables with ipset. */
      backend: z.enum(['auto', 'nftables', 'iptables']).default('auto'),
      /** Networks never blocked, automatically or by hand (the management subnet, say). */
      allowList: z.array(sourceText).default([]),
      /** Local ports never closed: how admins reach the host (the API's own port is added). */
      protectedPorts: z.array(portText).default(['22/tcp']),
      autoBlock: z
        .strictObject({
          /** The kill switch: false, and no alert blocks anything (the API can also switch it). */
          enabled: z.boolean().default(true),
          /** Alerts with one attacker that block it. */
          alertTypes: z
            .array(z.enum(ALERT_TYPES))
            .default([
              'syn_flood',
              'connection_flood',
              'udp_flood',
              'icmp_flood',
              'port_scan',
              'host_sweep',
              'brute_force',
            ]),
          /** The least severity that blocks. */
          minSeverity: z.enum(SEVERITIES).default('high'),
          /**
           * The least severity for some types instead: a connection flood is already past its
           * threshold (100 new connections a minute) at low.
           */
          minSeverityByType: z
            .partialRecord(z.enum(ALERT_TYPES), z.enum(SEVERITIES))
            .default({ connection_flood: 'low' }),
          /**
           * How long the first, second, ... block of one source lasts; the last applies to every
           * further one. A duration (30s, 10m, 1h, 7d) or permanent.
           */
          durations: z.array(durationText).min(1).default(['10m', '1h', '24h', 'permanent']),
          /** Blocks older than this no longer count towards a source's escalation. */
          forgetAfter: durationText.refine((d) => d !== 'permanent', 'must be a duration').default('30d'),
          /** IPv6 offenders are blocked by this prefix (they choose addresses within their /64). */
          ipv6PrefixLength: whole(48, 128).default(64),
          /** New automatic blocks per minute at most: a spoofed flood must not fill the firewall. */
          maxPerMinute: whole(1, 10_000).default(60),
        })
        .prefault({}),
    })
    .prefault({}),
  /** The port scanner (src/scan): where it may look, how fast, and what it scans by itself. */
  scan: z
    .strictObject({
      /**
       * The networks scans may target: addresses and prefixes, `local` (this host's own
       * addresses and loopback) and `connected` (the networks of its interfaces).
       */
      allowedNetworks: z
        .array(
          z.string().superRefine((text, ctx) => {
            try {
              scopeFrom({ allowedNetworks: [text] }, {});
            } catch (err) {
              ctx.addIssue({ code: 'custom', message: (err as Error).message });
            }
          }),
        )
        .min(1)
        .default([...DEFAULT_ALLOWED_NETWORKS]),
      /** New probes a second at most, over all hosts of a scan. */
      maxRate: whole(1, 1_000_000).default(100_000),
      /** Scans the server runs by itself, each every `every` (a duration such as 1h or 1d). */
      schedules: z
        .array(
          z.strictObject({
            name: z.string().regex(/^[\w.-]{1,64}$/, 'letters, digits, dot, dash and underscore, at most 64'),
            targets: z.array(z.string().min(1)).min(1),
            /** Port list as for `flowtrack scan -p` (default: the top TCP ports). */
            ports: z.string().optional(),
            udp: z.boolean().default(false),
            every: durationText.refine((d) => d !== 'permanent', 'must be a duration such as 1h or 1d'),
          }),
        )
        .default([]),
    })
    .prefault({}),
  /** The host's own health (src/system): how often it is sampled, and when it raises `resource` alerts. */
  system: z
    .strictObject({
      /** Sample the host (CPU, memory, disks, interfaces, processes) and map sockets to processes. */
      enabled: z.boolean().default(true),
      /** Seconds between samples. */
      intervalSeconds: whole(1, 3600).default(2),
      /** Hours samples are kept at full resolution; minute rollups are kept retention.healthDays. */
      fullResolutionHours: whole(1, 24 * 31).default(24),
      /** Read which process owns each socket, and name it on the flows of this host. */
      processes: z.boolean().default(true),
      /**
       * Threshold rules with hysteresis: raised after `forSeconds` at or above `raise`, cleared
       * after as long below `clear`. Percentages, except interfaceErrors (errors and drops per
       * second, per interface) and captureDrops (packets capture lost per second, per interface).
       */
      alerts: z
        .strictObject({
          cpu: thresholdRule(90, 75, 60),
          memory: thresholdRule(90, 80, 60),
          swap: thresholdRule(80, 60, 60),
          disk: thresholdRule(90, 85, 0),
          interfaceErrors: thresholdRule(10, 1, 30),
          captureDrops: thresholdRule(100, 1, 10),
        })
        .prefault({}),
    })
    .prefault({}),
  /** Prometheus metrics at GET /metrics: loopback clients always, others with the token. */
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** A bearer token that lets scrapers on other hosts in; empty: loopback only. */
      token: z.string().max(256).default(''),
    })
    .prefault({}),
  /**
   * Sensors and a hub over NATS JetStream. Empty `url`: a server on its own. `flowtrack serve
   * --bus URL` makes this server the hub, which stores every sensor's flows and alerts and sends
   * its blocks to them; `flowtrack sensor --hub URL` runs a sensor that captures and detects here
   * and sends what it finds to the hub.
   */
  bus: z
    .strictObject({
      /** The NATS servers, comma-separated: nats://host:4222 or tls://host:4222. */
      url: z
        .string()
        .max(2048)
        .refine(
          (text) =>
            text === '' || text.split(',').every((u) => /^(nats|tls):\/\/[^\s/]+(:\d+)?\/?$/.test(u.trim())),
          'must be nats://HOST:PORT or tls://HOST:PORT, several separated by commas',
        )
        .default(''),
      /** This sensor's name at the hub; empty: the host's name. */
      sensorName: z
        .string()
        .regex(/^([A-Za-z0-9_-]{1,64})?$/, 'must be 1 to 64 letters, digits, - and _')
        .refine((name) => name !== 'local', '"local" names the hub\'s own capture')
        .default(''),
      /** Streams and subjects are named after it: the same at the hub and every sensor. */
      prefix: z
        .string()
        .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be lower-case letters, digits and _, starting with a letter')
        .default('flowtrack'),
      /** NATS credentials: a user with a file holding its password, an nkey seed file, or a .creds file. */
      user: z.string().max(256).default(''),
      passwordFile: z.string().optional(),
      nkeySeedFile: z.string().optional(),
      credsFile: z.string().optional(),
      /** PEM file of the authority that signed the tls:// servers' certificates (default: the system's). */
      tlsCaFile: z.string().optional(),
      /** A sensor's on-disk buffer while the hub is out of reach (default <dataDir>/bus-buffer). */
      bufferDir: z.string().optional(),
      /** Its bound: beyond it the oldest messages are dropped, and counted. */
      bufferMaxMB: whole(1, 1_048_576).default(1024),
    })
    .prefault({}),
  /** NetFlow v5, v9 and IPFIX from routers (UDP): their flows enter the store and the detectors. */
  collector: z
    .strictObject({
      enabled: z.boolean().default(false),
      /** address:port to listen on ([v6]:port for IPv6). */
      listen: z
        .string()
        .regex(
          /^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:.]+\]):\d{1,5}$/,
          'must be ADDRESS:PORT such as 0.0.0.0:2055',
        )
        .default('0.0.0.0:2055'),
      /** The routers allowed to export, as addresses or networks; datagrams from others are dropped. */
      exporters: z.array(sourceText).default([]),
      /** A sampling rate per exporter address, for routers that do not send their own. */
      sampling: z.record(z.string(), whole(1, 1_000_000)).default({}),
    })
    .refine(
      (c) => !c.enabled || c.exporters.length > 0,
      'collector.exporters must list the routers allowed to export (addresses or networks; 0.0.0.0/0 and ::/0 for any)',
    )
    .prefault({}),
  /** Every flow sent as IPFIX (UDP) to these collectors, e.g. nfcapd or another FlowTrack. */
  ipfixExport: z
    .strictObject({
      /** host:port of each collector ([v6]:port for IPv6). */
      targets: z
        .array(z.string().regex(/^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):\d{1,5}$/, 'must be HOST:PORT'))
        .max(8)
        .default([]),
      observationDomainId: whole(0, 4_294_967_295).default(1),
    })
    .prefault({}),
  /** Alert notifications; the channels themselves are set up in the dashboard (Notifications). */
  notifications: z
    .strictObject({
      /**
       * The dashboard's address as its users reach it (e.g. https://flowtrack.example.net), put
       * in notifications as a link to the alert; empty: no links.
       */
      dashboardUrl: z
        .string()
        .max(512)
        .refine(
          (url) => url === '' || z.url({ protocol: /^https?$/ }).safeParse(url).success,
          'the http:// or https:// address users open the dashboard at, or empty',
        )
        .default(''),
    })
    .prefault({}),
  /** Detector options, as for `flowtrack analyze --set`: { port_scan: { minPorts: 20 } }. */
  detection: z
    .record(z.string(), z.record(z.string(), z.number().min(0)))
    .default({})
    .superRefine((detection, ctx) => {
      for (const [name, options] of Object.entries(detection)) {
        const factory = DETECTOR_FACTORIES.find((f) => f.name === name);
        if (!factory) {
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: `unknown detector (detectors: ${detectorNames.join(', ')})`,
          });
          continue;
        }
        for (const option of Object.keys(options)) {
          if (!(option in factory.defaults)) {
            ctx.addIssue({
              code: 'custom',
              path: [name, option],
              message: `unknown option (options: ${Object.keys(factory.defaults).join(', ')})`,
            });
          }
        }
      }
    }),
});

type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

type Parsed = z.output<typeof serviceConfigSchema>;

/** What the file may hold (every key optional). */
export type ServiceConfigInput = z.input<typeof serviceConfigSchema>;

/**
 * The checked, frozen configuration: every default filled in and every path absolute
 * (`store.url` too when it names an SQLite file).
 */
export type ServiceConfig = DeepReadonly<
  Parsed & {
    store: { url: string };
    logs: { dir: string };
    auth: { jwtSecretFile: string };
    backup: { dir: string };
    bus: { bufferDir: string };
  }
>;

export interface LoadServiceConfigOptions {
  /** YAML or JSON file; when absent, FLOWTRACK_CONFIG names it; with neither, defaults only. */
  file?: string;
  /** Usually `process.env`. */
  env: Readonly<Record<string, string | undefined>>;
  /** Directory relative paths start from (default: the current directory). */
  cwd?: string;
}

/** The environment variable naming the configuration file. */
export const CONFIG_FILE_VARIABLE = 'FLOWTRACK_CONFIG';

/**
 * FLOWTRACK_ variables that belong to something else (the test suite) and are not settings.
 * Any other unknown FLOWTRACK_ variable is an error: a typo must not silently fall back to a default.
 */
const FOREIGN_VARIABLES = /^FLOWTRACK_(CONFIG|PCAPS|TEST_\w*|FUZZ_\w*)$/;

/**
 * Reads, checks and freezes the configuration. Throws one FlowTrackError(BAD_CONFIG) listing every
 * problem as `path: what is wrong (got VALUE)`, or IO_ERROR when the file cannot be read.
 */
export function loadServiceConfig(options: LoadServiceConfigOptions): ServiceConfig {
  const cwd = options.cwd ?? process.cwd();
  const fileOption = options.file ?? options.env[CONFIG_FILE_VARIABLE];
  const file = fileOption === undefined || fileOption === '' ? undefined : resolve(cwd, fileOption);
  const problems: string[] = [];

  let raw: Record<string, unknown> = {};
  let fileReadable = true;
  if (file !== undefined) {
    const parsed = readConfigFile(file);
    if (parsed.ok) raw = dropEmptySections(parsed.value, []);
    else {
      problems.push(...parsed.problems);
      fileReadable = false;
    }
  }

  const fromEnv = applyEnvironment(raw, options.env, problems);
  if (fileReadable) {
    const result = serviceConfigSchema.safeParse(raw);
    if (result.success) {
      if (problems.length === 0) return deepFreeze(resolvePaths(result.data, cwd));
    } else {
      for (const issue of result.error.issues) problems.push(...describeIssue(issue, raw, fromEnv));
    }
  }
  const sources = [file, fromEnv.size > 0 ? 'environment' : undefined].filter((s) => s !== undefined);
  throw new FlowTrackError(
    ErrorCode.BAD_CONFIG,
    `invalid configuration${sources.length > 0 ? ` (${sources.join(' + ')})` : ''}, ` +
      `${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
      problems.map((p) => `  ${p}`).join('\n'),
  );
}

/** Whether `url` selects PostgreSQL (postgres:// or postgresql://) rather than an SQLite file. */
export function isPostgresUrl(url: string): boolean {
  if (!/^postgres(ql)?:\/\//i.test(url)) return false;
  return URL.canParse(url);
}

// ---------------------------------------------------------------------------------------------
// The file

type ReadResult = { ok: true; value: Record<string, unknown> } | { ok: false; problems: string[] };

function readConfigFile(file: string): ReadResult {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot read the configuration file ${file}: ${reason}`, {
      cause: err,
    });
  }
  const ext = extname(file).toLowerCase();
  const json = ext === '.json' || (ext !== '.yaml' && ext !== '.yml' && text.trimStart().startsWith('{'));
  let value: unknown;
  if (json) {
    try {
      value = JSON.parse(text);
    } catch (err) {
      return { ok: false, problems: [`${file}: not valid JSON: ${jsonErrorText(err as Error, text)}`] };
    }
  } else {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) {
      // The first line says what and where; the rest quotes the file, which may hold a secret.
      return {
        ok: false,
        problems: doc.errors.map((e) => `${file}: not valid YAML: ${firstLine(e.message)}`),
      };
    }
    value = doc.toJS({ maxAliasCount: 100 }) as unknown;
  }
  if (value === null || value === undefined) return { ok: true, value: {} };
  if (!isPlainObject(value)) {
    return {
      ok: false,
      problems: [`${file}: the top level must be a mapping of sections (server, store, ...)`],
    };
  }
  return { ok: true, value };
}

/**
 * YAML reads a section whose settings are all commented out (`server:`) as null; that means
 * "nothing set here", so such sections are dropped and take their defaults. A null setting is
 * still an error: an empty `port:` is more likely a mistake than a wish for the default.
 */
function dropEmptySections(value: Record<string, unknown>, path: string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const childPath = [...path, key];
    if (child === null && knownKeys(childPath) !== undefined) continue;
    kept[key] = isPlainObject(child) ? dropEmptySections(child, childPath) : child;
  }
  return kept;
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/:$/, '');
}

// V8 quotes the text around a JSON error; say where it is instead, since the text may be a secret.
function jsonErrorText(err: Error, text: string): string {
  // "Unexpected token 'x', ..."{"url": x}" is not valid JSON": keep the part before the quote.
  const message = firstLine(err.message).replace(/,\s*(\.\.\.)?".*$/, '');
  const at = /at position (\d+)/.exec(message);
  if (!at) return message.replace(/"[^"]*"/g, '"…"');
  const before = text.slice(0, Number(at[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  const what = message.replace(/ in JSON at position \d+.*$/, '').replace(/"[^"]*"/g, '"…"');
  return `${what} at line ${line}, column ${column}`;
}

// ---------------------------------------------------------------------------------------------
// The environment

type LeafKind = 'string' | 'number' | 'boolean' | 'list';

interface EnvSetting {
  path: string[];
  kind: LeafKind;
}

/** Every environment variable a setting can come from, with where it goes and how it is read. */
export const ENVIRONMENT_VARIABLES: ReadonlyMap<string, EnvSetting> = buildEnvironmentMap();

function buildEnvironmentMap(): Map<string, EnvSetting> {
  const map = new Map<string, EnvSetting>();
  const visit = (schema: z.ZodType, path: string[]): void => {
    const base = unwrap(schema);
    if (base instanceof z.ZodObject) {
      const shape: Readonly<Record<string, z.ZodType>> = base.shape;
      for (const [key, child] of Object.entries(shape)) visit(child, [...path, key]);
      return;
    }
    if (path[0] === 'detection') {
      // One variable per detector option: FLOWTRACK_DETECTION_PORT_SCAN_MIN_PORTS.
      for (const f of DETECTOR_FACTORIES) {
        for (const option of Object.keys(f.defaults))
          map.set(envName(['detection', f.name, option]), {
            path: ['detection', f.name, option],
            kind: 'number',
          });
      }
      return;
    }
    const kind: LeafKind =
      base instanceof z.ZodNumber
        ? 'number'
        : base instanceof z.ZodBoolean
          ? 'boolean'
          : base instanceof z.ZodArray
            ? 'list'
            : 'string';
    map.set(envName(path), { path, kind });
  };
  visit(serviceConfigSchema, []);
  return map;
}

// Optional, default, prefault and refinements wrap the schema that says what a value is.
function unwrap(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (;;) {
    if (
      current instanceof z.ZodOptional ||
      current instanceof z.ZodDefault ||
      current instanceof z.ZodPrefault
    ) {
      current = current.unwrap() as z.ZodType;
    } else return current;
  }
}

/** `['server', 'tls', 'certFile']` → FLOWTRACK_SERVER_TLS_CERT_FILE. */
export function envName(path: readonly string[]): string {
  return ['FLOWTRACK', ...path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())].join('_');
}

/**
 * Writes the FLOWTRACK_ variables into `raw` over the file's values, coercing numbers, booleans
 * and comma-separated lists. A value that does not coerce is left as text for the schema to
 * report. Returns which path came from which variable, so errors can name the variable.
 */
function applyEnvironment(
  raw: Record<string, unknown>,
  env: Readonly<Record<string, string | undefined>>,
  problems: string[],
): Map<string, string> {
  const fromEnv = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('FLOWTRACK_') || value === undefined) continue;
    const setting = ENVIRONMENT_VARIABLES.get(name);
    if (!setting) {
      if (!FOREIGN_VARIABLES.test(name)) {
        const near = closestName(name);
        problems.push(`${name}: unknown environment variable${near ? ` (did you mean ${near}?)` : ''}`);
      }
      continue;
    }
    // An empty variable (VAR= in a unit or compose file) means "not set", not "empty text".
    if (value.trim() === '') continue;
    let target = raw;
    let reachable = true;
    for (const key of setting.path.slice(0, -1)) {
      const next = target[key] ?? (target[key] = {});
      if (!isPlainObject(next)) {
        reachable = false; // the file's own value is wrong there: the schema reports it
        break;
      }
      target = next;
    }
    if (!reachable) continue;
    target[setting.path.at(-1)!] = coerce(value.trim(), setting.kind);
    fromEnv.set(setting.path.join('.'), name);
  }
  return fromEnv;
}

function coerce(text: string, kind: LeafKind): unknown {
  switch (kind) {
    case 'number':
      return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
    case 'boolean': {
      const lower = text.toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(lower)) return true;
      if (['false', '0', 'no', 'off'].includes(lower)) return false;
      return text;
    }
    case 'list':
      return text
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
    case 'string':
      return text;
  }
}

function closestName(name: string): string | undefined {
  let best: string | undefined;
  let bestDistance = 4;
  for (const known of ENVIRONMENT_VARIABLES.keys()) {
    const d = editDistance(name, known);
    if (d < bestDistance) {
      best = known;
      bestDistance = d;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost));
    }
    previous = current;
  }
  return previous[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Errors

/** One line per problem: where (and from which variable), what is wrong, and the value given. */
function describeIssue(
  issue: z.core.$ZodIssue,
  raw: Record<string, unknown>,
  fromEnv: ReadonlyMap<string, string>,
): string[] {
  const where = (path: readonly PropertyKey[]): string => {
    const text = formatPath(path);
    // A list item's problem belongs to the variable that set the whole list.
    for (let n = path.length; n > 0; n--) {
      const variable = fromEnv.get(path.slice(0, n).map(String).join('.'));
      if (variable) return `${text} (from ${variable})`;
    }
    return text;
  };
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(issue.path);
    return issue.keys.map(
      (key) => `${where([...issue.path, key])}: unknown key${known ? ` (keys: ${known.join(', ')})` : ''}`,
    );
  }
  // The value is looked up in what was given, not taken from the issue: a refinement's input is
  // its whole section, and a default filled in is not what the admin wrote.
  const value = valueAt(raw, issue.path);
  if (value === undefined) return [`${where(issue.path)}: required`];
  const key = issue.path.at(-1);
  const got = isPlainObject(value)
    ? ''
    : ` (got ${truncate(JSON.stringify(maskValue(typeof key === 'string' ? key : '', value)))})`;
  return [`${where(issue.path)}: ${lowerFirst(issue.message)}${got}`];
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let current = raw;
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function knownKeys(path: readonly PropertyKey[]): string[] | undefined {
  let schema: z.ZodType = serviceConfigSchema;
  for (const key of path) {
    const base = unwrap(schema);
    if (!(base instanceof z.ZodObject)) return undefined;
    const child = (base.shape as Record<string, z.ZodType | undefined>)[String(key)];
    if (!child) return undefined;
    schema = child;
  }
  const base = unwrap(schema);
  return base instanceof z.ZodObject ? Object.keys(base.shape) : undefined;
}

function formatPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(top level)';
  return path
    .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
    .join('');
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}

function truncate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

// ---------------------------------------------------------------------------------------------
// Masking, paths, freezing

/** Keys whose values are secrets (`password`, `webhookSecret`, `apiToken`), not paths to them. */
function isSecretKey(key: string): boolean {
  return /(password|secret|token|apikey)$/i.test(key);
}

/** Hides the password of `scheme://user:password@host` and of `?password=` in a URL. */
export function maskUrl(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&](?:ssl)?password=)[^&#]*/gi, '$1***');
}

function maskValue(key: string, value: unknown): unknown {
  if (isSecretKey(key) && value !== '' && value !== undefined && value !== null) return '***';
  if (typeof value === 'string') return maskUrl(value);
  if (Array.isArray(value)) return value.map((v) => maskValue('', v));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskValue(k, v)]));
  }
  return value;
}

/** A copy of `config` safe to show: secret values and passwords inside URLs masked as `***`. */
export function maskServiceConfig(config: ServiceConfig): Record<string, unknown> {
  return maskValue('', config) as Record<string, unknown>;
}

/** The effective configuration as YAML (secrets masked): valid input for `--config`. */
export function renderServiceConfig(config: ServiceConfig): string {
  return stringify(maskServiceConfig(config));
}

function resolvePaths(parsed: Parsed, cwd: string): ServiceConfig {
  const dataDir = resolve(cwd, parsed.dataDir);
  const path = (value: string | undefined, fallback: string): string =>
    value === undefined ? join(dataDir, fallback) : resolve(cwd, value);
  const url = parsed.store.url;
  const { dir: logsDir, ...logs } = parsed.logs;
  const { dir: backupDir, ...backup } = parsed.backup;
  return {
    ...parsed,
    dataDir,
    server: {
      ...parsed.server,
      ...(parsed.server.tls && {
        tls: {
          certFile: resolve(cwd, parsed.server.tls.certFile),
          keyFile: resolve(cwd, parsed.server.tls.keyFile),
        },
      }),
    },
    store: {
      url: url !== undefined && (isPostgresUrl(url) || url === ':memory:') ? url : path(url, 'flowtrack.db'),
    },
    // Derived paths first, as an admin would write them.
    logs: { dir: path(logsDir, 'logs'), ...logs },
    auth: { ...parsed.auth, jwtSecretFile: path(parsed.auth.jwtSecretFile, 'jwt-secret') },
    backup: { dir: path(backupDir, 'backups'), ...backup },
    bus: {
      ...parsed.bus,
      bufferDir: path(parsed.bus.bufferDir, 'bus-buffer'),
      ...(parsed.bus.passwordFile !== undefined && { passwordFile: resolve(cwd, parsed.bus.passwordFile) }),
      ...(parsed.bus.nkeySeedFile !== undefined && { nkeySeedFile: resolve(cwd, parsed.bus.nkeySeedFile) }),
      ...(parsed.bus.credsFile !== undefined && { credsFile: resolve(cwd, parsed.bus.credsFile) }),
      ...(parsed.bus.tlsCaFile !== undefined && { tlsCaFile: resolve(cwd, parsed.bus.tlsCaFile) }),
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
