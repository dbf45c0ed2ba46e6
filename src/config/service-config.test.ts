import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import {
  ENVIRONMENT_VARIABLES,
  isPostgresUrl,
  loadServiceConfig,
  maskUrl,
  renderServiceConfig,
  type LoadServiceConfigOptions,
} from './service-config.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function load(options: Partial<LoadServiceConfigOptions> = {}): ReturnType<typeof loadServiceConfig> {
  return loadServiceConfig({ env: {}, cwd: dir, ...options });
}

/** The problem lines of the BAD_CONFIG error `run` throws. */
function problems(run: () => unknown): string[] {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FlowTrackError);
    expect((err as FlowTrackError).code).toBe(ErrorCode.BAD_CONFIG);
    return (err as Error).message
      .split('\n')
      .slice(1)
      .map((l) => l.trim());
  }
  throw new Error('expected the configuration to be rejected');
}

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('service configuration', () => {
  it('runs with no file: safe defaults and paths under the data directory', () => {
    const config = load();
    const data = join(dir, 'flowtrack-data');
    expect(config.dataDir).toBe(data);
    expect(config.server).toEqual({
      host: '127.0.0.1',
      port: 8080,
      corsOrigins: [],
      bodyLimitBytes: 1024 * 1024,
      trustProxy: false,
    });
    expect(config.store.url).toBe(join(data, 'flowtrack.db'));
    expect(config.logs).toEqual({
      dir: join(data, 'logs'),
      maxSize: '10M',
      interval: '1d',
      maxFiles: 10,
      compress: true,
      level: 'info',
    });
    expect(config.auth).toEqual({
      accessTokenTtlSeconds: 900,
      refreshTokenTtlSeconds: 7 * 24 * 3600,
      lockout: { maxFailures: 5, windowSeconds: 900, baseLockSeconds: 60, maxLockSeconds: 3600 },
      jwtSecretFile: join(data, 'jwt-secret'),
    });
    expect(config.rateLimit).toEqual({ perMinute: 300, loginPerMinute: 10 });
    expect(config.retention).toMatchObject({ flowsDays: 30, maxDatabaseMB: 0, intervalMinutes: 60 });
    expect(config.backup).toEqual({ dir: join(data, 'backups'), intervalHours: 24, keep: 7 });
    expect(config.capture).toMatchObject({
      enabled: true,
      interfaces: [],
      snaplen: 512,
      bpf: '',
      promiscuous: true,
      bufferKiB: 131072,
      evidence: { enabled: true, ringMB: 64, snapBytes: 256 },
    });
    expect(config.detection).toEqual({});
  });

  it('is frozen all the way down', () => {
    const config = load({ env: { FLOWTRACK_SERVER_CORS_ORIGINS: 'https://a.example' } });
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
    expect(() => {
      (config.auth.lockout as { maxFailures: number }).maxFailures = 1000;
    }).toThrow(TypeError);
    expect(() => (config.server.corsOrigins as string[]).push('https://evil.example')).toThrow(TypeError);
    expect(config.server.port).toBe(8080);
  });

  it('reads a YAML file, resolving relative paths from the current directory', () => {
    const path = file(
      'flowtrack.yaml',
      [
        '# site settings',
        'dataDir: /var/lib/flowtrack',
        'server:',
        '  host: 0.0.0.0',
        '  port: 8443',
        '  tls: { certFile: tls/cert.pem, keyFile: tls/key.pem }',
        '  corsOrigins: [https://noc.example.org]',
        'logs: { dir: ./logs, level: debug, interval: 6h }',
        'detection:',
        '  port_scan: { minPorts: 12 }',
      ].join('\n'),
    );
    const config = load({ file: path });
    expect(config.server).toMatchObject({
      host: '0.0.0.0',
      port: 8443,
      tls: { certFile: join(dir, 'tls/cert.pem'), keyFile: join(dir, 'tls/key.pem') },
      corsOrigins: ['https://noc.example.org'],
    });
    expect(config.logs).toMatchObject({ dir: join(dir, 'logs'), level: 'debug', interval: '6h' });
    expect(config.store.url).toBe('/var/lib/flowtrack/flowtrack.db');
    expect(config.backup.dir).toBe('/var/lib/flowtrack/backups');
    expect(config.detection).toEqual({ port_scan: { minPorts: 12 } });
  });

  it("resolves the bus's credential and authority files, from the file or the environment", () => {
    const path = file('sensor.yaml', 'bus: { url: "tls://nats.example:4222", nkeySeedFile: keys/edge.nk }\n');
    const config = load({ file: path, env: { FLOWTRACK_BUS_TLS_CA_FILE: 'pki/ca.pem' } });
    expect(config.bus).toMatchObject({
      url: 'tls://nats.example:4222',
      nkeySeedFile: join(dir, 'keys/edge.nk'),
      tlsCaFile: join(dir, 'pki/ca.pem'),
    });
  });

  it('reads a JSON file, by extension or by content, and an empty YAML file as defaults', () => {
    const json = JSON.stringify({ store: { url: 'postgres://ft@db.internal:5432/flowtrack' } });
    expect(load({ file: file('flowtrack.json', json) }).store.url).toBe(
      'postgres://ft@db.internal:5432/flowtrack',
    );
    expect(load({ file: file('flowtrack.conf', json) }).store.url).toBe(
      'postgres://ft@db.internal:5432/flowtrack',
    );
    expect(load({ file: file('empty.yml', '# nothing set yet\n') }).server.port).toBe(8080);
    const commentedOut = load({ file: file('sections.yml', 'server:\n  # port: 9000\nauth:\n  lockout:\n') });
    expect(commentedOut.server.port).toBe(8080);
    expect(commentedOut.auth.lockout.maxFailures).toBe(5);
    expect(problems(() => load({ file: file('null.yml', 'server:\n  port:\n') }))).toEqual([
      'server.port: invalid input: expected number, received null (got null)',
    ]);
  });

  it('applies FLOWTRACK_ variables over the file, coercing numbers, booleans and lists', () => {
    const path = file('flowtrack.yml', 'server: { port: 9000, host: 10.0.0.1 }\n');
    const config = load({
      file: path,
      env: {
        FLOWTRACK_SERVER_PORT: '9100',
        FLOWTRACK_SERVER_TRUST_PROXY: 'yes',
        FLOWTRACK_SERVER_CORS_ORIGINS: 'https://a.example, http://b.example:8080',
        FLOWTRACK_STORE_URL: 'postgres://ft:pw@db/ft',
        FLOWTRACK_LOGS_COMPRESS: 'false',
        FLOWTRACK_AUTH_LOCKOUT_MAX_FAILURES: '3',
        FLOWTRACK_DETECTION_PORT_SCAN_MIN_PORTS: '15',
        FLOWTRACK_DATA_DIR: 'state',
        // Empty means unset (a VAR= line in a unit file), and the test suite's variables are not settings.
        FLOWTRACK_SERVER_BODY_LIMIT_BYTES: '',
        FLOWTRACK_TEST_PG_URL: 'postgres://localhost/test',
        HOME: '/root',
      },
    });
    expect(config.server).toMatchObject({
      port: 9100,
      host: '10.0.0.1',
      trustProxy: true,
      corsOrigins: ['https://a.example', 'http://b.example:8080'],
      bodyLimitBytes: 1024 * 1024,
    });
    expect(config.store.url).toBe('postgres://ft:pw@db/ft');
    expect(config.logs.compress).toBe(false);
    expect(config.logs.dir).toBe(join(dir, 'state', 'logs'));
    expect(config.auth.lockout.maxFailures).toBe(3);
    expect(config.detection).toEqual({ port_scan: { minPorts: 15 } });
  });

  it('takes the file from FLOWTRACK_CONFIG when none is given', () => {
    file('site.yaml', 'rateLimit: { perMinute: 50 }\n');
    expect(load({ env: { FLOWTRACK_CONFIG: 'site.yaml' } }).rateLimit.perMinute).toBe(50);
  });

  it('reports every problem at once, one line each, with the value given', () => {
    const path = file(
      'bad.yaml',
      ['server: { port: 70000, host: "" }', 'logs: { maxSize: 10X }', 'retention: { flowsDays: 0 }'].join(
        '\n',
      ),
    );
    expect(problems(() => load({ file: path }))).toEqual([
      'server.host: too small: expected string to have >=1 characters (got "")',
      'server.port: too big: expected number to be <=65535 (got 70000)',
      'logs.maxSize: must be a size such as 10M (a number and B, K, M or G) (got "10X")',
      'retention.flowsDays: too small: expected number to be >=1 (got 0)',
    ]);
  });

  it('rejects unknown keys, unknown variables and bad values from the environment, naming the variable', () => {
    const path = file(
      'typo.yaml',
      'server: { prot: 80 }\nstorage: {}\ndetection: { port_scan: { minPort: 3 } }\n',
    );
    const lines = problems(() =>
      load({
        file: path,
        env: {
          FLOWTRACK_SERVR_PORT: '80',
          FLOWTRACK_RATE_LIMIT_PER_MINUTE: 'lots',
          FLOWTRACK_SERVER_TRUST_PROXY: 'maybe',
        },
      }),
    );
    expect(lines).toContain(
      'FLOWTRACK_SERVR_PORT: unknown environment variable (did you mean FLOWTRACK_SERVER_PORT?)',
    );
    expect(lines).toContain(
      'server.prot: unknown key (keys: host, port, tls, corsOrigins, bodyLimitBytes, trustProxy)',
    );
    expect(lines.some((l) => l.startsWith('storage: unknown key (keys: dataDir, server, store,'))).toBe(true);
    expect(
      lines.some((l) => l.startsWith('detection.port_scan.minPort: unknown option (options: minPorts')),
    ).toBe(true);
    expect(lines).toContain(
      'rateLimit.perMinute (from FLOWTRACK_RATE_LIMIT_PER_MINUTE): invalid input: expected number, received string (got "lots")',
    );
    expect(lines).toContain(
      'server.trustProxy (from FLOWTRACK_SERVER_TRUST_PROXY): invalid input: expected boolean, received string (got "maybe")',
    );
    expect(lines).toHaveLength(6);
  });

  it('wants both TLS files or neither, and consistent token and lock-out times', () => {
    expect(
      problems(() =>
        load({
          env: {
            FLOWTRACK_SERVER_TLS_CERT_FILE: '/etc/ft/cert.pem',
            FLOWTRACK_AUTH_ACCESS_TOKEN_TTL_SECONDS: '86400',
            FLOWTRACK_AUTH_REFRESH_TOKEN_TTL_SECONDS: '3600',
            FLOWTRACK_AUTH_LOCKOUT_BASE_LOCK_SECONDS: '600',
            FLOWTRACK_AUTH_LOCKOUT_MAX_LOCK_SECONDS: '60',
          },
        }),
      ),
    ).toEqual([
      'server.tls.keyFile: required',
      'auth.lockout.baseLockSeconds (from FLOWTRACK_AUTH_LOCKOUT_BASE_LOCK_SECONDS): must not exceed maxLockSeconds (60) (got 600)',
      'auth.accessTokenTtlSeconds (from FLOWTRACK_AUTH_ACCESS_TOKEN_TTL_SECONDS): must be shorter than refreshTokenTtlSeconds (3600) (got 86400)',
    ]);
  });

  it('never shows a password: not in errors, not in file syntax errors, not in the rendered configuration', () => {
    const [urlProblem] = problems(() => load({ env: { FLOWTRACK_STORE_URL: 'mysql://ft:db-pass-1@db/ft' } }));
    expect(urlProblem).toBe(
      'store.url (from FLOWTRACK_STORE_URL): must be an SQLite file path or a postgres:// URL (got "mysql://ft:***@db/ft")',
    );
    const yamlProblems = problems(() =>
      load({ file: file('broken.yaml', 'store:\n  url: postgres://a:yaml-pw@h/x: y\n') }),
    );
    expect(yamlProblems.join('\n')).not.toContain('yaml-pw');
    expect(yamlProblems[0]).toMatch(/broken\.yaml: not valid YAML: .*line 2/);
    const jsonProblems = problems(() => load({ file: file('broken.json', '{"store": {"url": json-pw}}') }));
    expect(jsonProblems.join('\n')).not.toContain('json-pw');
    expect(jsonProblems[0]).toMatch(/broken\.json: not valid JSON: Unexpected token 'j'$/);
    const [trailing] = problems(() => load({ file: file('trailing.json', '{\n  "server": {},\n}') }));
    expect(trailing).toMatch(/trailing\.json: not valid JSON: .* at line 3, column 1$/);
    const unknown = problems(() => load({ env: { FLOWTRACK_STORE_URI: 'postgres://ft:typo-pw@db/ft' } }));
    expect(unknown.join('\n')).not.toContain('typo-pw');

    const config = load({
      env: { FLOWTRACK_STORE_URL: 'postgres://ft:s3cret@db.internal/ft?sslmode=require' },
    });
    const text = renderServiceConfig(config);
    expect(text).not.toContain('s3cret');
    expect(text).toContain('url: postgres://ft:***@db.internal/ft?sslmode=require');
    // The rendering is itself a valid configuration file.
    const copy = file('copy.yaml', text);
    expect(load({ file: copy }).server).toEqual(config.server);
    expect(parseYaml(text)).toMatchObject({ server: { port: 8080 } });
  });

  it('throws IO_ERROR for a file it cannot read', () => {
    expect(() => load({ file: join(dir, 'missing.yaml') })).toThrow(
      expect.objectContaining({ code: ErrorCode.IO_ERROR }) as Error,
    );
  });

  it('names one variable per setting, in upper snake case', () => {
    for (const name of [
      'FLOWTRACK_DATA_DIR',
      'FLOWTRACK_SERVER_PORT',
      'FLOWTRACK_SERVER_TLS_KEY_FILE',
      'FLOWTRACK_STORE_URL',
      'FLOWTRACK_LOGS_MAX_FILES',
      'FLOWTRACK_AUTH_JWT_SECRET_FILE',
      'FLOWTRACK_RETENTION_MAX_DATABASE_MB',
      'FLOWTRACK_BACKUP_INTERVAL_HOURS',
      'FLOWTRACK_CAPTURE_BPF',
      'FLOWTRACK_CAPTURE_INTERFACES',
      'FLOWTRACK_CAPTURE_EVIDENCE_RING_MB',
      'FLOWTRACK_DETECTION_PORT_SCAN_MIN_PORTS',
    ]) {
      expect(ENVIRONMENT_VARIABLES.has(name), name).toBe(true);
    }
  });

  it('tells a PostgreSQL URL from an SQLite path and masks URL passwords', () => {
    expect(isPostgresUrl('postgresql://u@h/db')).toBe(true);
    expect(isPostgresUrl('/var/lib/ft.db')).toBe(false);
    expect(maskUrl('postgres://u:p%40ss@h:5432/db?password=x&sslmode=require')).toBe(
      'postgres://u:***@h:5432/db?password=***&sslmode=require',
    );
    expect(maskUrl('postgres://u@h/db')).toBe('postgres://u@h/db');
  });
});
