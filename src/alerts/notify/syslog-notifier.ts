/**
 * The syslog channel: a Notification as one RFC 5424 message (plain text or ArcSight CEF in the
 * MSG), sent over UDP (RFC 5426), TCP (RFC 6587 octet counting) or TLS (RFC 5425) to a collector
 * or SIEM. The formatter is pure and exported so its exact output can be tested and documented.
 *
 * It must never split one notification over several syslog messages (a SIEM would see two
 * events), never put a raw newline into a message (line-based receivers would cut it in two),
 * and never queue or retry: a failure is a NotifyError and the dispatcher decides.
 */

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect as netConnect, isIPv6, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { FlowTrackError, describeError } from '../../util/errors.js';
import type { Severity } from '../alert.js';
import { NotifyError, type Notification, type Notifier } from './notifier.js';

/** Syslog facility codes (RFC 5424 table 1) by their usual names. */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  ntp: 12,
  security: 13,
  console: 14,
  clock: 15,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type SyslogFacilityName = keyof typeof SYSLOG_FACILITIES;

/** Syslog severity (RFC 5424 table 2) of each FlowTrack severity. */
export const SYSLOG_SEVERITY: Readonly<Record<Severity, number>> = {
  critical: 2, // crit
  high: 3, // err
  medium: 4, // warning
  low: 5, // notice
  info: 6, // info
};
/** Digests and test messages: something to look at, not an attack in itself. */
const SYSLOG_NOTICE = 5;

/** CEF severity (0-10) of each FlowTrack severity: CEF reads 0-3 low, 4-6 medium, 7-8 high, 9-10 very high. */
export const CEF_SEVERITY: Readonly<Record<Severity, number>> = {
  info: 1,
  low: 3,
  medium: 5,
  high: 8,
  critical: 10,
};
const CEF_NOTICE = 3;

/**
 * SD-ID of FlowTrack's structured data. The `name@PEN` form is what RFC 5424 §7.2.2 requires for
 * a non-IANA SD-ID; 32473 is the documentation enterprise number of RFC 5612 (until FlowTrack
 * has a number of its own).
 */
export const SYSLOG_SD_ID = 'flowtrack@32473';

/** RFC 5426 §3.2: every syslog receiver MUST accept 480 octets; less cannot hold a header. */
const MIN_MAX_BYTES = 480;
const UTF8_BOM = '\uFEFF';
const TRUNCATED = '...';
// eslint-disable-next-line no-control-regex -- C0 controls and DEL are exactly what gets replaced.
const CONTROL = /[\x00-\x1f\x7f]/g;
// eslint-disable-next-line no-control-regex -- the same, a run of them at once.
const CONTROL_RUN = /[\x00-\x1f\x7f]+/g;

export interface SyslogFormatOptions {
  /** Facility code 0-23 or its name; default local0 (16). */
  facility?: number | SyslogFacilityName;
  /** MSG as plain text (default) or as an ArcSight CEF record. */
  msgFormat?: 'text' | 'cef';
  /** APP-NAME; default 'flowtrack'. */
  appName?: string;
  /** PROCID; default this process's pid. */
  procId?: string | number;
  /** FlowTrack's version, the CEF Device Version; default 'unknown'. */
  productVersion?: string;
  /**
   * Octets the whole SYSLOG-MSG may take (without TCP framing); MSG is shortened (ending in
   * '...') to fit, never split. No limit when absent; at least 480 (RFC 5426 §3.2).
   */
  maxBytes?: number;
}

/** Facility code of `facility`, or a FlowTrackError that names the bad value. */
export function syslogFacilityCode(facility: number | SyslogFacilityName | undefined): number {
  if (facility === undefined) return SYSLOG_FACILITIES.local0;
  if (typeof facility === 'number') {
    if (Number.isInteger(facility) && facility >= 0 && facility <= 23) return facility;
  } else if (Object.hasOwn(SYSLOG_FACILITIES, facility)) {
    return SYSLOG_FACILITIES[facility];
  }
  throw new FlowTrackError(
    'BAD_OPTION',
    `syslog facility ${JSON.stringify(facility)} is not a facility: use 0-23 or a name such as local0`,
  );
}

/**
 * One notification as an RFC 5424 SYSLOG-MSG (no trailing newline, no transport framing):
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [flowtrack@32473 ...] MSG`.
 *
 * MSG starts with a UTF-8 BOM only when it holds non-ASCII text. RFC 5424 §6.4 asks for the BOM
 * on UTF-8 MSGs, but many receivers (and CEF parsers) show it as garbage in front of the text;
 * a pure-ASCII MSG is valid as MSG-ANY and reads the same in every encoding, so the common case
 * carries no BOM and the rare non-ASCII one is announced as the RFC says.
 */
export function formatSyslog5424(n: Notification, options: SyslogFormatOptions = {}): string {
  const facility = syslogFacilityCode(options.facility);
  const severity = n.kind === 'alert' && n.alert ? SYSLOG_SEVERITY[n.alert.severity] : SYSLOG_NOTICE;
  const maxBytes = options.maxBytes ?? Infinity;
  if (!(maxBytes >= MIN_MAX_BYTES)) {
    throw new FlowTrackError(
      'BAD_OPTION',
      `syslog maxBytes ${maxBytes} is below ${MIN_MAX_BYTES} (RFC 5426)`,
    );
  }
  const headerFields = [
    `<${facility * 8 + severity}>1`,
    timestamp(n.at),
    headerField(n.host, 255),
    headerField(options.appName ?? 'flowtrack', 48),
    headerField(String(options.procId ?? process.pid), 128),
    headerField(n.kind, 32),
  ].join(' ');

  const fits = (line: string): boolean => Buffer.byteLength(line, 'utf8') <= maxBytes;
  // The SD is small in practice; it is dropped only if odd src/dst values leave no room at all.
  for (const sd of [structuredData(n), '-']) {
    const head = `${headerFields} ${sd} `;
    const line =
      options.msgFormat === 'cef'
        ? fitCef(n, options.productVersion ?? 'unknown', head, fits)
        : fitText(n, head, fits);
    if (line !== null) return line;
  }
  // Unreachable with maxBytes >= 480: the header without SD is at most ~440 octets.
  return `${headerFields} -`;
}

/** RFC 3339 with milliseconds in UTC, or the NILVALUE for a time that is no time. */
function timestamp(ms: number): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  // RFC 5424 allows only four-digit years; toISOString() would write +010000 or -000001.
  return Number.isNaN(year) || year < 0 || year > 9999 ? '-' : date.toISOString();
}

/** A header field: printable US-ASCII only (RFC 5424 §6), at most `max` octets, '-' if empty. */
function headerField(value: string, max: number): string {
  const printable = value.replace(/[^\x21-\x7e]/g, '_').slice(0, max);
  return printable === '' ? '-' : printable;
}

/** `[flowtrack@32473 id=".." type=".." ...]`: the fields a SIEM filters on, without parsing MSG. */
function structuredData(n: Notification): string {
  const params: [string, string | null | undefined][] = [['id', n.id]];
  if (n.alert) {
    params.push(
      ['type', n.alert.type],
      ['severity', n.alert.severity],
      ['src', n.alert.src],
      ['dst', n.alert.dst],
      ['alertId', n.alert.id],
    );
  }
  if (n.digest) params.push(['count', String(n.digest.count)]);
  const pairs = params
    .filter((p): p is [string, string] => p[1] !== null && p[1] !== undefined)
    .map(([name, value]) => ` ${name}="${escapeParamValue(value)}"`);
  return `[${SYSLOG_SD_ID}${pairs.join('')}]`;
}

/**
 * RFC 5424 §6.3.3: '"', '\' and ']' are escaped with a backslash. Control characters become
 * spaces: legal in a PARAM-VALUE, but a newline there cuts the message for line-based receivers.
 */
function escapeParamValue(value: string): string {
  return value.replace(CONTROL, ' ').replace(/["\\\]]/g, '\\$&');
}

/** Title and text on one line: the lines of `text` joined with ' | ', control characters as spaces. */
function oneLine(n: Notification): string {
  const lines = [n.title, ...n.text.split(/\r\n|\r|\n/)]
    .map((line) => line.replace(CONTROL_RUN, ' ').trim())
    .filter((line) => line !== '');
  const [title, ...rest] = lines;
  return rest.length === 0 ? (title ?? '') : `${title ?? ''}: ${rest.join(' | ')}`;
}

function withBom(msg: string): string {
  // eslint-disable-next-line no-control-regex -- any octet outside ASCII makes the MSG UTF-8 proper.
  return /[^\x00-\x7f]/.test(msg) ? UTF8_BOM + msg : msg;
}

function fitText(n: Notification, head: string, fits: (line: string) => boolean): string | null {
  const msg = longestPrefix(oneLine(n), (m) => fits(head + withBom(m)));
  return msg === null ? null : head + withBom(msg);
}

/**
 * `text` if `ok(text)`, else the longest prefix (whole code points) that with '...' after it is
 * ok, else null. Binary search: the octets grow with the prefix, and `ok` formats a whole line.
 */
function longestPrefix(text: string, ok: (candidate: string) => boolean): string | null {
  if (ok(text)) return text;
  const chars = Array.from(text);
  const candidate = (k: number): string => chars.slice(0, k).join('') + TRUNCATED;
  if (!ok(candidate(0))) return null;
  let lo = 0; // ok
  let hi = chars.length; // not ok (the full text without '...' was not, and '...' only adds)
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (ok(candidate(mid))) lo = mid;
    else hi = mid;
  }
  return candidate(lo);
}

// ---- CEF (ArcSight Common Event Format, "Implementing ArcSight CEF" rev. 25) ----

/** CEF header fields: '\' and '|' escaped with a backslash; a header has no room for newlines. */
function cefHeader(value: string, max: number): string {
  return Array.from(value.replace(CONTROL_RUN, ' ')).slice(0, max).join('').replace(/[\\|]/g, '\\$&');
}

/** CEF extension values: '\' and '=' escaped, newlines written as \n and \r, other controls as spaces. */
function cefValue(value: string): string {
  return value
    .replace(/[\\=]/g, '\\$&')
    .replace(/\r\n|\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(CONTROL, ' ');
}

/**
 * The CEF record for `n`. Extension keys: rt (notification time, ms), start/end (the alert's
 * evidence span, ms), src, dst, cs1 with cs1Label 'alertId', cnt (a digest's count), and msg last
 * so that it is what gets shortened. The Name is capped at CEF's 512 characters. `msgText` and
 * `name` default to the notification's text and title; the syslog formatter passes shortened ones.
 */
export function formatCef(n: Notification, productVersion: string, msgText = n.text, name = n.title): string {
  const severity = n.kind === 'alert' && n.alert ? CEF_SEVERITY[n.alert.severity] : CEF_NOTICE;
  const signature = n.kind === 'alert' && n.alert ? n.alert.type : n.kind;
  const header = [
    'CEF:0',
    'FlowTrack',
    'FlowTrack',
    cefHeader(productVersion, 63),
    cefHeader(signature, 1023),
    cefHeader(name, 512),
    String(severity),
  ].join('|');
  const ext: [string, string | number | null | undefined][] = [['rt', Math.trunc(n.at)]];
  if (n.alert) {
    ext.push(
      ['start', Math.trunc(n.alert.start / 1000)],
      ['end', Math.trunc(n.alert.end / 1000)],
      ['src', n.alert.src],
      ['dst', n.alert.dst],
      ['cs1Label', 'alertId'],
      ['cs1', n.alert.id],
    );
  }
  if (n.digest) ext.push(['cnt', n.digest.count]);
  ext.push(['msg', msgText]);
  const extension = ext
    .filter((e): e is [string, string | number] => e[1] !== null && e[1] !== undefined && e[1] !== '')
    .map(([key, value]) => `${key}=${typeof value === 'number' ? String(value) : cefValue(value)}`)
    .join(' ');
  return `${header}|${extension}`;
}

/** The CEF line that fits: msg shortened first, then (if that is not enough) the Name too. */
function fitCef(
  n: Notification,
  productVersion: string,
  head: string,
  fits: (line: string) => boolean,
): string | null {
  const line = (msgText: string, name: string): string =>
    head + withBom(formatCef(n, productVersion, msgText, name));
  const msgText = longestPrefix(n.text, (m) => fits(line(m, n.title)));
  if (msgText !== null) return line(msgText, n.title);
  const name = longestPrefix(n.title, (t) => fits(line('', t)));
  return name === null ? null : line('', name);
}

// ---- The channel ----

export interface SyslogNotifierOptions extends Omit<SyslogFormatOptions, 'maxBytes'> {
  /** The collector's host name or address. */
  host: string;
  /** Default 514 for udp and tcp, 6514 for tls (RFC 5425). */
  port?: number;
  transport: 'udp' | 'tcp' | 'tls';
  /**
   * Octets one message may take; default 2048 for udp (what RFC 5426 says receivers SHOULD
   * accept) and 8192 for tcp/tls (rsyslog's default maxMessageSize).
   */
  maxBytes?: number;
  /** TCP/TLS connect (and TLS handshake) timeout; default 5 s. */
  connectTimeoutMs?: number;
  /** TLS: CAs to trust instead of the system's, the name to check, and whether to check at all. */
  tls?: { ca?: string | Buffer; servername?: string; rejectUnauthorized?: boolean };
}

/**
 * Sends notifications to a syslog collector. UDP: one datagram per message, `send` resolves once
 * the datagram left. TCP/TLS: one persistent connection, opened on the first send and again after
 * it broke; `send` resolves once the frame was handed to the kernel. Syslog has no
 * acknowledgements: a message written just before the collector closed the connection can be lost
 * without an error (RFC 6587 §3.4.1 knows this).
 */
export class SyslogNotifier implements Notifier {
  readonly kind = 'syslog';
  readonly #options: SyslogNotifierOptions;
  readonly #format: SyslogFormatOptions;
  readonly #port: number;
  readonly #connectTimeoutMs: number;
  #udp: UdpSocket | null = null;
  #tcp: Socket | null = null;
  #connecting: Promise<Socket> | null = null;
  #closed = false;

  constructor(options: SyslogNotifierOptions) {
    const { transport } = options;
    // Config may come from YAML, where the type system has no say.
    if (!['udp', 'tcp', 'tls'].includes(transport)) {
      throw new FlowTrackError(
        'BAD_OPTION',
        `syslog transport ${JSON.stringify(transport)}: use udp, tcp or tls`,
      );
    }
    if (options.host === '')
      throw new FlowTrackError('BAD_OPTION', 'syslog host is empty: give the collector');
    this.#port = options.port ?? (transport === 'tls' ? 6514 : 514);
    if (!Number.isInteger(this.#port) || this.#port < 1 || this.#port > 65535) {
      throw new FlowTrackError('BAD_OPTION', `syslog port ${this.#port} is not a port (1-65535)`);
    }
    syslogFacilityCode(options.facility);
    this.#options = options;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? 5000;
    this.#format = { ...options, maxBytes: options.maxBytes ?? (transport === 'udp' ? 2048 : 8192) };
    // Fails here, at start-up, rather than on the first alert.
    if (this.#format.maxBytes !== undefined && !(this.#format.maxBytes >= MIN_MAX_BYTES)) {
      throw new FlowTrackError('BAD_OPTION', `syslog maxBytes must be at least ${MIN_MAX_BYTES} (RFC 5426)`);
    }
  }

  /** Where messages go, for logs: `udp://host:514`. */
  get target(): string {
    const host = isIPv6(this.#options.host) ? `[${this.#options.host}]` : this.#options.host;
    return `${this.#options.transport}://${host}:${this.#port}`;
  }

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new NotifyError(`syslog ${this.target}: the notifier is closed`, false);
    if (signal?.aborted) throw this.#error(signal.reason, 'aborted');
    const message = Buffer.from(formatSyslog5424(n, this.#format), 'utf8');
    if (this.#options.transport === 'udp') {
      await this.#sendUdp(message);
      return;
    }
    // RFC 6587 §3.4.1 octet counting: MSG-LEN SP SYSLOG-MSG, the length in octets.
    const frame = Buffer.concat([Buffer.from(`${message.length} `, 'ascii'), message]);
    const socket = await abortable(this.#connect(), signal, (reason) => this.#error(reason, 'aborted'));
    await new Promise<void>((resolve, reject) => {
      socket.write(frame, (err) => {
        if (err) {
          this.#forget(socket);
          socket.destroy();
          reject(this.#error(err, 'write failed'));
        } else {
          resolve();
        }
      });
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    const udp = this.#udp;
    this.#udp = null;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    const tcp = this.#tcp ?? (await this.#connecting?.catch(() => null)) ?? null;
    this.#tcp = null;
    if (tcp && !tcp.destroyed) {
      // end() flushes what was written; a collector that never closes its side is not waited for.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => tcp.destroy(), 1000);
        tcp.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        tcp.end();
      });
    }
  }

  #sendUdp(message: Buffer): Promise<void> {
    let socket = this.#udp;
    if (!socket) {
      const created = createSocket(isIPv6(this.#options.host) ? 'udp6' : 'udp4');
      // An error on the socket itself (not on one send) retires it; the next send makes a new one.
      created.on('error', () => {
        if (this.#udp === created) this.#udp = null;
        created.close();
      });
      this.#udp = socket = created;
    }
    const udp = socket;
    return new Promise<void>((resolve, reject) => {
      udp.send(message, this.#port, this.#options.host, (err) => {
        if (err) reject(this.#error(err, 'send failed'));
        else resolve();
      });
    });
  }

  /** The open connection, or a new one (shared by the sends that wait for it). */
  #connect(): Promise<Socket> {
    if (this.#tcp) return Promise.resolve(this.#tcp);
    this.#connecting ??= new Promise<Socket>((resolve, reject) => {
      const { host, transport, tls } = this.#options;
      const port = this.#port;
      const socket =
        transport === 'tls'
          ? tlsConnect({
              host,
              port,
              ...(tls?.ca === undefined ? {} : { ca: tls.ca }),
              ...(tls?.servername === undefined ? {} : { servername: tls.servername }),
              rejectUnauthorized: tls?.rejectUnauthorized ?? true,
            })
          : netConnect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new NotifyError(
            `syslog ${this.target}: connect timed out after ${this.#connectTimeoutMs} ms`,
            true,
          ),
        );
      }, this.#connectTimeoutMs);
      const onError = (err: Error): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(this.#error(err, 'connect failed'));
      };
      socket.once('error', onError);
      socket.once(transport === 'tls' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        // Errors after connecting surface in the next write's callback; here they only retire the socket.
        socket.on('error', () => this.#forget(socket));
        socket.on('close', () => this.#forget(socket));
        // A collector sends nothing, but reading is what makes its FIN visible ('end'): the
        // connection is then known dead before the next message is written into it.
        socket.on('end', () => this.#forget(socket));
        socket.resume();
        socket.setKeepAlive(true, 60_000);
        if (this.#closed) {
          socket.destroy();
          reject(new NotifyError(`syslog ${this.target}: the notifier is closed`, false));
          return;
        }
        this.#tcp = socket;
        resolve(socket);
      });
    }).finally(() => {
      this.#connecting = null;
    });
    return this.#connecting;
  }

  #forget(socket: Socket): void {
    if (this.#tcp === socket) this.#tcp = null;
  }

  /** Network trouble is worth another try; the collector's address carries no secret. */
  #error(err: unknown, what: string): NotifyError {
    return new NotifyError(`syslog ${this.target}: ${what}: ${describeError(err)}`, true, { cause: err });
  }
}

/** `promise`, or a rejection as soon as `signal` aborts (the shared work itself goes on). */
function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onAbort: (reason: unknown) => Error,
): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      reject(onAbort(signal.reason));
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(resolve, reject).finally(() => {
      signal.removeEventListener('abort', abort);
    });
  });
}
