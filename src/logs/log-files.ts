/**
 * The log files of `flowtrack serve` (server log, security log): pino JSON lines written to a file
 * that rotating-file-stream rotates by size and by age, gzips and prunes to the newest N.
 *
 * It must never write a secret: pino's `redact` censors the known secret keys where pino can reach
 * them, and every line then passes `scrubSecrets`, which removes JWTs, `Bearer`/`Basic`
 * credentials, passwords inside URLs and secret keys at any depth before a byte reaches the disk.
 * It must never crash the server either: a failing disk is reported through `onError`.
 */

import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { pino, type Logger } from 'pino';
import { createStream, type Options as RotationOptions } from 'rotating-file-stream';
import { describeError } from '../util/errors.js';

/** pino's levels, most severe first. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** pino's numbers for its levels (what a line holds when written by a default pino). */
export const LOG_LEVEL_VALUES: Readonly<Record<LogLevel, number>> = {
  fatal: 60,
  error: 50,
  warn: 40,
  info: 30,
  debug: 20,
  trace: 10,
};

/**
 * Keys whose values are secrets wherever they appear. pino censors them at the depths listed in
 * REDACT_PATHS; `scrubSecrets` catches string values under these keys at any depth.
 */
export const SECRET_KEYS = [
  'password',
  'newPassword',
  'currentPassword',
  'oldPassword',
  'passwordHash',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'setupToken',
  'authorization',
  'cookie',
  'set-cookie',
  'secret',
  'jwtSecret',
  'apiKey',
  'x-api-key',
] as const;

/** Deepest nesting written out as redact paths: deeper secrets are left to `scrubSecrets`. */
const REDACT_DEPTH = 3;

function pathSegment(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `["${key}"]`;
}

/**
 * pino redact paths for SECRET_KEYS at the top level and up to three objects deep
 * (`password`, `body.password`, `req.body.password`, `req.headers.authorization`, ...).
 * pino's wildcards match one level each, so every depth is its own path.
 */
export const REDACT_PATHS: readonly string[] = SECRET_KEYS.flatMap((key) => {
  const paths: string[] = [];
  for (let depth = 0; depth <= REDACT_DEPTH; depth++) {
    const prefix = Array.from({ length: depth }, () => '*').join('.');
    const tail = pathSegment(key);
    paths.push(prefix === '' ? tail.replace(/^\./, '') : prefix + tail);
  }
  return paths;
});

/** What a censored value is replaced with (by pino and by `scrubSecrets`). */
export const REDACTED = '[redacted]';

const keyAlternatives = SECRET_KEYS.map((k) => k.replace(/[-]/g, '\\-')).join('|');
// Three base64url segments, the first a JSON header ("{"" encodes as "eyJ"). The third may be
// empty: an `alg: none` token has no signature and is exactly what an attacker would send.
const JWT = /eyJ[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const BEARER = /\b(Bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
// Basic credentials are base64("user:password"): the password itself, barely disguised.
const BASIC = /\b(Basic)\s+[A-Za-z0-9+/=]{4,}/gi;
// scheme://user:password@host: the password inside a database or webhook URL.
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/"\\]*):[^\s@/"\\]+@/gi;
// "password":"...", anywhere in a JSON line, however deep pino could not reach.
const JSON_SECRET = new RegExp(`"(${keyAlternatives})"(\\s*):(\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
// The same inside a JSON string that holds JSON (a raw request body logged as text).
const ESCAPED_JSON_SECRET = new RegExp(`\\\\"(${keyAlternatives})\\\\"(\\s*):(\\s*)\\\\"[^"]*?\\\\"`, 'gi');
// password=...&token=... in a query string or a form body.
const QUERY_SECRET = new RegExp(`\\b(${keyAlternatives})=[^&\\s"\\\\]+`, 'gi');

/**
 * Removes anything that looks like a credential from `text`: JWTs, `Bearer` and `Basic`
 * credentials, passwords in URLs, and the values of SECRET_KEYS in JSON or query strings.
 * It is the last line of defence before a log line is written, so it works on serialized JSON
 * lines too: every replacement stays inside the string it replaces, and the line stays valid JSON.
 */
export function scrubSecrets(text: string): string {
  return text
    .replace(JSON_SECRET, `"$1"$2:$3"${REDACTED}"`)
    .replace(ESCAPED_JSON_SECRET, `\\"$1\\"$2:$3\\"${REDACTED}\\"`)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1 ${REDACTED}`)
    .replace(BASIC, `$1 ${REDACTED}`)
    .replace(URL_PASSWORD, `$1:${REDACTED}@`)
    .replace(QUERY_SECRET, `$1=${REDACTED}`);
}

export interface LogFileOptions {
  /** Directory of the log files; created (mode 0700) if missing. */
  dir: string;
  /** Base name: `server` writes `server.log`, rotated to `server.<UTC time>.<n>.log.gz`. */
  name: string;
  /** Rotate when the file reaches this size: a number and B, K, M or G (default '10M'). */
  maxSize?: string;
  /** Rotate at least this often: e.g. '1d', '6h', '30m', '10s' (default '1d'); omit with `null`. */
  interval?: string | null;
  /** Rotated files kept; older ones are deleted (default 10). */
  maxFiles?: number;
  /** Gzip rotated files (default true). */
  compress?: boolean;
  /** Lowest level written (default 'info'). */
  level?: LogLevel | 'silent';
  /** Clock for the `time` field (tests). */
  now?: () => Date;
  /** Called when the file cannot be written or rotated; the default prints one line on stderr. */
  onError?: (err: Error) => void;
}

/** One open log file. */
export interface LogFile {
  /** Path of the file being written now. */
  readonly path: string;
  readonly logger: Logger;
  /** Writes what is buffered, closes the file and waits for a rotation under way to finish. */
  close(): Promise<void>;
}

/** Path of the current (not yet rotated) file of log `name` in `dir`. */
export function logFilePath(dir: string, name: string): string {
  return join(dir, `${name}.log`);
}

/**
 * Matches the rotated files of log `name`: `name.20250102T030405123Z.001.log` with `.gz` when
 * compressed. The UTC time (to the millisecond) and a fixed-width index make names sort by age.
 * Milliseconds matter: rotating-file-stream reuses the lowest free index for a time, so with
 * whole seconds a flood of small rotations could reuse a pruned file's name and sort wrongly.
 */
export function rotatedLogPattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped}\\.(\\d{8}T\\d{9}Z)\\.(\\d{3})\\.log(\\.gz)?$`);
}

function rotatedName(name: string, compress: boolean, time: Date, index: number): string {
  const stamp = time.toISOString().replace(/[-:]/g, '').replace('.', '');
  return `${name}.${stamp}.${String(index).padStart(3, '0')}.log${compress ? '.gz' : ''}`;
}

/** Opens (creating if needed) log `name` in `dir` with a pino logger that writes to it. */
export function createLogFile(options: LogFileOptions): LogFile {
  const { dir, name } = options;
  const compress = options.compress ?? true;
  const path = logFilePath(dir, name);
  const onError =
    options.onError ??
    ((err: Error) => {
      process.stderr.write(scrubSecrets(`flowtrack: log file ${path}: ${describeError(err)}\n`));
    });

  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // `mode` only applies when a file is created: tighten one left by an older run or another tool.
  if (existsSync(path)) chmodSync(path, 0o600);

  const rotation: RotationOptions = {
    path: dir,
    size: options.maxSize ?? '10M',
    maxFiles: options.maxFiles ?? 10,
    mode: 0o600,
    history: `${name}.log.history`,
    // 'gzip' compresses in-process; `true` would run `cat | gzip` through a shell.
    compress: compress ? 'gzip' : false,
  };
  const interval = options.interval === undefined ? '1d' : options.interval;
  if (interval !== null) rotation.interval = interval;

  const stream = createStream((time: number | Date | null, index?: number) => {
    if (time === null) return `${name}.log`;
    return rotatedName(name, compress, new Date(time), index ?? 1);
  }, rotation);
  stream.on('error', onError);
  stream.on('warning', onError);

  let closing: Promise<void> | null = null;
  const destination = {
    write(line: string): void {
      // After close() or a fatal stream error a write would throw; a lost line beats a crash.
      if (closing !== null || stream.destroyed) return;
      stream.write(scrubSecrets(line));
    },
  };

  const now = options.now ?? (() => new Date());
  const logger = pino(
    {
      level: options.level ?? 'info',
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      // Labels and ISO times: the files are read by people as well as by read-log.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: () => `,"time":"${now().toISOString()}"`,
    },
    destination,
  );

  return {
    path,
    logger,
    close(): Promise<void> {
      closing ??= (async () => {
        stream.end();
        try {
          await finished(stream);
        } catch (err) {
          onError(err as Error);
        }
      })();
      return closing;
    },
  };
}
