/**
 * Service identification on an open TCP port, in the manner of nmap's version detection but
 * small: connect and listen for a greeting first (nmap's "NULL probe": SSH, FTP, SMTP, POP3, IMAP,
 * MySQL, VNC and telnet speak first; then empty lines, nmap's "GenericLines"), and when the
 * service waits for the client, ask it in the protocols it most likely speaks, the port's usual
 * one first (HTTP, TLS, Redis, PostgreSQL, MongoDB, memcached). Each probe is a fresh connection;
 * at most three run, all inside one time budget. An answer that points at another protocol (Redis
 * answering an HTTP request line) sends the next probe there. A service that speaks something we
 * do not know is `unknown` with its first line as the banner. The pure parsers are exported so
 * that they are tested on bytes.
 *
 * Must never: send anything that changes a service's state (only greetings, version and
 * capability questions, and an anonymous FTP login that quits at once); connect anywhere but the
 * address and port it was given (no name resolution, no redirects followed); throw, hang or grow
 * for whatever a peer sends (reads are capped at MAX_REPLY_BYTES, banners cleaned and cut to 200
 * characters); outlive its budget.
 */

import { X509Certificate } from 'node:crypto';
import { isIP, connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { ServiceInfo } from './scan-types.js';

/** Bytes kept from one connection: enough for any greeting, an HTTP head and a JSON answer. */
export const MAX_REPLY_BYTES = 16 * 1024;
/** ServiceInfo.banner's limit (scan-types.ts). */
const MAX_BANNER_CHARS = 200;
const DEFAULT_BUDGET_MS = 3000;
/** How long a silent service gets to greet before it is asked (nmap waits 6 s; we have 3 in all). */
const BANNER_WAIT_MS = 1500;
/** After the first bytes of a greeting, time for the rest of its first line or packet. */
const GREETING_REST_MS = 500;
/** How long a silent service gets to answer empty lines after its silence. */
const GENERIC_LINES_MS = 300;
/** How long a request line alone waits for a line-based service's answer before the HTTP headers. */
const EARLY_ANSWER_MS = 150;
/** One request and its answer inside a conversation (FEAT, EHLO, INFO, ...). */
const STEP_MS = 1000;
/** Time for a polite goodbye's answer before the socket is closed anyway. */
const QUIT_MS = 300;
const MAX_PROBES = 3;
/** A probe started with less time than this could not finish a handshake. */
const MIN_PROBE_MS = 50;

type Details = Record<string, string | number | boolean>;

// ---------------------------------------------------------------------------------------------
// Text

/**
 * A banner as ServiceInfo keeps it: runs of characters outside printable ASCII become one space,
 * spaces are collapsed, the ends trimmed, and the whole cut to 200 characters.
 */
export function cleanBanner(text: string): string {
  return text
    .replace(/[^\x20-\x7e]+/g, ' ')
    .replace(/ {2,}/g, ' ')
    .trim()
    .slice(0, MAX_BANNER_CHARS)
    .trimEnd();
}

/** The first line of `data` (up to the first LF, at most 1 KiB), cleaned. */
function firstLine(data: Buffer): string {
  const lf = data.indexOf(0x0a);
  return cleanBanner(data.toString('latin1', 0, lf === -1 ? Math.min(data.length, 1024) : lf));
}

function hasLine(data: Buffer): boolean {
  return data.includes(0x0a);
}

interface ProductPattern {
  re: RegExp;
  product: string;
}

/** The first pattern that matches names the product; its first group, if any, is the version. */
function matchProduct(
  text: string,
  patterns: readonly ProductPattern[],
): { product?: string; version?: string } {
  for (const { re, product } of patterns) {
    const m = re.exec(text);
    if (m) return m[1] === undefined ? { product } : { product, version: cleanBanner(m[1]) };
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Greetings: what a server-first service says on connect

const SSH_PRODUCTS: Readonly<Record<string, string>> = {
  dropbear: 'Dropbear',
  OpenSSH_for_Windows: 'OpenSSH for Windows',
};

/**
 * An SSH identification string (RFC 4253 section 4.2), `SSH-protoversion-softwareversion comments`:
 * `SSH-2.0-OpenSSH_9.2p1 Debian-2` is OpenSSH 9.2p1 speaking protocol 2.0.
 */
export function parseSshBanner(line: string): ServiceInfo | null {
  const banner = cleanBanner(line);
  const m = /^SSH-(\d+\.\d+)-(\S+)/.exec(banner);
  if (!m) return null;
  const protocol = m[1] ?? '';
  const software = m[2] ?? '';
  // "OpenSSH_9.2p1", "dropbear_2022.83", "libssh-0.9.6", "OpenSSH_for_Windows_8.1"; else just a name.
  const sw = /^([A-Za-z][\w.-]*?)[_-]v?(\d[\w.+~-]*)$/.exec(software);
  const name = sw?.[1] ?? software;
  return {
    name: 'ssh',
    product: SSH_PRODUCTS[name] ?? name,
    ...(sw?.[2] !== undefined && { version: sw[2] }),
    banner,
    details: { protocol },
  };
}

/** A VNC server's ProtocolVersion message (RFC 6143 section 7.1.1): `RFB 003.008`. */
export function parseVncBanner(line: string): ServiceInfo | null {
  const m = /^RFB (\d{3})\.(\d{3})$/.exec(cleanBanner(line));
  if (!m) return null;
  return { name: 'vnc', version: `${Number(m[1])}.${Number(m[2])}`, banner: m[0] };
}

/**
 * The security types a VNC server offers after the version exchange (RFC 6143 section 7.1.2):
 * a count and a list from 3.7 on (`listForm`), one 32-bit type in 3.3. Type 1 is "None": anyone
 * who reaches the port gets the screen. Null when the server refused (count or type 0) or the
 * bytes are incomplete.
 */
export function parseVncSecurity(
  data: Buffer,
  listForm: boolean,
): { auth: 'none' | 'required'; types: number[] } | null {
  let types: number[];
  if (listForm) {
    const count = data[0];
    if (count === undefined || count === 0 || data.length < 1 + count) return null;
    types = [...data.subarray(1, 1 + count)];
  } else {
    if (data.length < 4) return null;
    const type = data.readUInt32BE(0);
    if (type === 0) return null;
    types = [type];
  }
  return { auth: types.includes(1) ? 'none' : 'required', types };
}

const IAC = 0xff;
const TELNET_SB = 250;
const TELNET_SE = 240;
const TELNET_WILL = 251;
const TELNET_WONT = 252;
const TELNET_DO = 253;
const TELNET_DONT = 254;

/** One option negotiation (RFC 854): WILL/WONT/DO/DONT and the option number. */
export interface TelnetCommand {
  verb: number;
  option: number;
}

/** Separates telnet option negotiation (IAC sequences, subnegotiations) from the text around it. */
export function splitTelnet(data: Buffer): { commands: TelnetCommand[]; text: string } {
  const commands: TelnetCommand[] = [];
  const text: number[] = [];
  for (let i = 0; i < data.length;) {
    const byte = data[i]!;
    if (byte !== IAC) {
      text.push(byte);
      i++;
      continue;
    }
    const verb = data[i + 1];
    if (verb === undefined) break;
    if (verb === IAC) {
      text.push(IAC);
      i += 2;
    } else if (verb >= TELNET_WILL && verb <= TELNET_DONT) {
      const option = data[i + 2];
      if (option === undefined) break;
      commands.push({ verb, option });
      i += 3;
    } else if (verb === TELNET_SB) {
      // Skip to IAC SE; an unterminated subnegotiation swallows the rest.
      let j = i + 2;
      while (j < data.length && !(data[j] === IAC && data[j + 1] === TELNET_SE)) j++;
      i = j + 2;
    } else {
      i += 2;
    }
  }
  return { commands, text: Buffer.from(text).toString('latin1') };
}

/**
 * The answers of a client that wants as little as possible: it lets the server echo and suppress
 * go-ahead (what every server asks, and what makes it show its login prompt) and refuses the rest.
 */
export function telnetAnswers(commands: readonly TelnetCommand[]): Buffer {
  const out: number[] = [];
  for (const { verb, option } of commands) {
    if (verb === TELNET_DO) out.push(IAC, TELNET_WONT, option);
    else if (verb === TELNET_WILL)
      out.push(IAC, option === 1 || option === 3 ? TELNET_DO : TELNET_DONT, option);
  }
  return Buffer.from(out);
}

/**
 * A MySQL or MariaDB server's first packet: the Initial Handshake (protocol 10; 9 for very old
 * servers) with its version string, or an ERR packet (0xff) when it refuses this client, e.g.
 * "Host '192.0.2.9' is not allowed to connect to this MariaDB server". MariaDB 10 once prefixed
 * its version with "5.5.5-" for old replication clients; the prefix is dropped.
 */
export function parseMysqlHandshake(data: Buffer): ServiceInfo | null {
  if (data.length < 6) return null;
  const length = data.readUIntLE(0, 3);
  if (data[3] !== 0 || length < 2 || length > 4096) return null;
  const payload = data.subarray(4, 4 + length);
  const kind = payload[0];
  if (kind === 10 || kind === 9) {
    const nul = payload.indexOf(0, 1);
    if (nul === -1) return null;
    const serverVersion = payload.toString('latin1', 1, nul);
    const version = /^(?:5\.5\.5-)?(\d+\.\d+\.\d+)/.exec(serverVersion)?.[1];
    if (version === undefined) return null;
    return {
      name: 'mysql',
      product: /mariadb/i.test(serverVersion) ? 'MariaDB' : 'MySQL',
      version,
      banner: cleanBanner(serverVersion),
    };
  }
  if (kind === 0xff && payload.length >= 4) {
    const code = payload.readUInt16LE(1);
    let message = payload.toString('latin1', 3);
    // A SQL state ("#HY000") follows the code once the client said it speaks protocol 4.1.
    if (/^#[0-9A-Z]{5}/.test(message)) message = message.slice(6);
    // Server error codes start at 1000; a printable message tells this from random binary.
    if (code < 1000 || !/^[\x20-\x7e]{4,}/.test(message)) return null;
    const product = /mariadb/i.test(message) ? 'MariaDB' : /mysql/i.test(message) ? 'MySQL' : undefined;
    return {
      name: 'mysql',
      ...(product && { product }),
      banner: cleanBanner(message),
      details: { error: code },
    };
  }
  return null;
}

const FTP_PRODUCTS: readonly ProductPattern[] = [
  { re: /\(vsFTPd ([\d.]+)\)/i, product: 'vsftpd' },
  { re: /ProFTPD(?: ([\d.]+[a-z]?))?/i, product: 'ProFTPD' },
  { re: /Pure-FTPd/i, product: 'Pure-FTPd' },
  { re: /FileZilla Server(?: version)?(?: ([\d.]+))?/i, product: 'FileZilla Server' },
  { re: /Microsoft FTP Service/i, product: 'Microsoft ftpd' },
];

const SMTP_PRODUCTS: readonly ProductPattern[] = [
  { re: /\bPostfix\b/, product: 'Postfix' },
  { re: /\bExim ([\d.]+)/, product: 'Exim' },
  { re: /\bSendmail ([\d.]+[\w.]*)/, product: 'Sendmail' },
  { re: /\bOpenSMTPD\b/, product: 'OpenSMTPD' },
  { re: /Microsoft ESMTP MAIL Service(?:, Version: ([\d.]+))?/, product: 'Microsoft ESMTP' },
  { re: /\bHaraka(?:\/([\d.]+))?/, product: 'Haraka' },
];

const MAILBOX_PRODUCTS: readonly ProductPattern[] = [
  { re: /\bDovecot\b/, product: 'Dovecot' },
  { re: /\bCourier\b/, product: 'Courier' },
  { re: /\bCyrus (?:POP3|IMAP)[^ ]* v?([\d.]+)/, product: 'Cyrus' },
];

const FTP_PORTS: ReadonlySet<number> = new Set([21, 990, 2121]);
const SMTP_PORTS: ReadonlySet<number> = new Set([25, 465, 587, 2525]);

/**
 * What a server-first service is from its greeting: telnet (option negotiation), MySQL/MariaDB
 * (binary handshake), SSH, VNC, FTP or SMTP (a 220 reply: the words in it, else the port, decide),
 * POP3 (+OK) or IMAP (* OK). A 220 that names neither FTP nor SMTP on neither's port is `unknown`
 * for now (the conversation asks it); other text is `unknown` with its first line as the banner;
 * null for no bytes.
 */
export function identifyGreeting(data: Buffer, port: number): ServiceInfo | null {
  if (data.length === 0) return null;
  if (data[0] === IAC) {
    const { commands, text } = splitTelnet(data);
    if (commands.length > 0) {
      const banner = cleanBanner(text);
      return { name: 'telnet', ...(banner !== '' && { banner }) };
    }
  }
  const mysql = parseMysqlHandshake(data);
  if (mysql) return mysql;
  const line = firstLine(data);
  const known = parseSshBanner(line) ?? parseVncBanner(line);
  if (known) return known;
  // Multi-line greetings ("220-" lines) often name the product after the first line.
  const text = data.toString('latin1', 0, Math.min(data.length, 2048));
  if (/^220[ -]/.test(line)) {
    const smtpWords = /\bE?SMTP\b|Postfix|Exim|Sendmail|OpenSMTPD|Haraka/i.test(text);
    const ftpWords = /FTP|FileZilla/i.test(text);
    const name =
      smtpWords && !ftpWords
        ? 'smtp'
        : ftpWords && !smtpWords
          ? 'ftp'
          : SMTP_PORTS.has(port)
            ? 'smtp'
            : FTP_PORTS.has(port)
              ? 'ftp'
              : 'unknown';
    if (name === 'unknown') return { name, banner: line };
    return { name, ...matchProduct(text, name === 'smtp' ? SMTP_PRODUCTS : FTP_PRODUCTS), banner: line };
  }
  if (/^\+OK\b/.test(line)) return { name: 'pop3', ...matchProduct(text, MAILBOX_PRODUCTS), banner: line };
  if (/^\* (?:OK|PREAUTH)\b/i.test(line)) {
    const capability = /\[CAPABILITY ([^\]]*)\]/i.exec(line)?.[1];
    return {
      name: 'imap',
      ...matchProduct(text, MAILBOX_PRODUCTS),
      banner: line,
      ...(capability !== undefined && { details: { starttls: /\bSTARTTLS\b/i.test(capability) } }),
    };
  }
  return line === '' ? null : { name: 'unknown', banner: line };
}

/** An FTP or SMTP reply (RFC 959 section 4.2, RFC 5321 section 4.2): its code and cleaned lines. */
export interface TextReply {
  code: number;
  lines: string[];
}

/**
 * A complete FTP/SMTP reply at the start of `data`, single-line (`250 ok`) or multi-line
 * (`211-Features` ... `211 End`); null while it is incomplete or when `data` is not a reply.
 */
export function parseTextReply(data: Buffer): TextReply | null {
  const lines = data.toString('latin1').split('\n');
  // The last element is what follows the last LF: an unfinished line or ''.
  const first = /^(\d{3})([ -])/.exec(lines[0] ?? '');
  if (!first || lines.length < 2) return null;
  const code = first[1] ?? '';
  if (first[2] === ' ') return { code: Number(code), lines: [cleanBanner(lines[0] ?? '')] };
  for (let i = 1; i < lines.length - 1; i++) {
    if (lines[i]!.startsWith(`${code} `)) {
      return { code: Number(code), lines: lines.slice(0, i + 1).map(cleanBanner) };
    }
  }
  return null;
}

/** True once `data` holds a complete reply, or shows it never will (a line that is no reply). */
function textReplyDone(data: Buffer): boolean {
  if (parseTextReply(data) !== null) return true;
  return hasLine(data) && !/^\d{3}[ -]/.test(data.toString('latin1', 0, 4));
}

// ---------------------------------------------------------------------------------------------
// HTTP

/** An HTTP response as far as it was read. Header names are lower case; the first of each is kept. */
export interface HttpResponse {
  status: number;
  statusLine: string;
  headers: ReadonlyMap<string, string>;
  /** The body as received (possibly cut at MAX_REPLY_BYTES), UTF-8. */
  body: string;
}

/** Parses the start of an HTTP/1.x response; null when `data` does not start with a status line. */
export function parseHttpResponse(data: Buffer): HttpResponse | null {
  const text = data.toString('latin1');
  const m = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(text);
  if (!m) return null;
  let headEnd = text.indexOf('\r\n\r\n');
  let bodyStart = headEnd + 4;
  if (headEnd === -1) {
    headEnd = text.indexOf('\n\n');
    bodyStart = headEnd + 2;
  }
  const head = headEnd === -1 ? text : text.slice(0, headEnd);
  const lines = head.split(/\r?\n/);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1, 101)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(colon + 1).trim());
  }
  return {
    status: Number(m[1]),
    statusLine: cleanBanner(lines[0] ?? ''),
    headers,
    // latin1 maps one byte to one character, so the text offset is the byte offset.
    body: headEnd === -1 ? '' : data.subarray(bodyStart).toString('utf8'),
  };
}

/** True once a whole HTTP response is in: its head and Content-Length bytes of body. */
function httpResponseDone(data: Buffer): boolean {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd === -1) return false;
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(data.toString('latin1', 0, headEnd))?.[1];
  // Without a length the body ends when the server closes (we asked with HTTP/1.0).
  return length !== undefined && data.length - (headEnd + 4) >= Number(length);
}

/**
 * The product and version in an HTTP Server header: `nginx/1.22.1`, `Apache/2.4.57 (Debian)`,
 * `Microsoft-IIS/10.0`; a bare name has no version.
 */
export function parseHttpServer(value: string): { product?: string; version?: string } {
  const m = /^([^\s/()]+)(?:\/([^\s()]+))?/.exec(cleanBanner(value));
  if (!m) return {};
  const product = m[1] ?? '';
  const version = m[2];
  return version !== undefined && /\d/.test(version) ? { product, version } : { product };
}

function parseJsonObject(body: string): Record<string, unknown> | null {
  const trimmed = body.trim();
  if (!trimmed.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    // Cut at MAX_REPLY_BYTES, or not JSON after all.
    return null;
  }
}

/** A string at `path` inside parsed JSON, cleaned; undefined when absent or not a string. */
function jsonString(value: unknown, ...path: string[]): string | undefined {
  let at = value;
  for (const key of path) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, key)) return undefined;
    at = (at as Record<string, unknown>)[key];
  }
  return typeof at === 'string' ? cleanBanner(at) : undefined;
}

/**
 * What answers HTTP: Elasticsearch/OpenSearch (its JSON greeting, or its security realm),
 * the Docker Engine API (Api-Version header, `Docker/` server, /version JSON), the Kubernetes
 * API (a `kind: Status` error, or /version with gitVersion), MongoDB's "you are trying to access
 * MongoDB over HTTP" page, else plain http or https with the Server header's product.
 * `banner` is the Server header, or the status line when there is none.
 */
export function identifyHttpService(response: HttpResponse, overTls: boolean): ServiceInfo {
  const serverHeader = response.headers.get('server');
  const server = serverHeader === undefined ? {} : parseHttpServer(serverHeader);
  const bannerText = cleanBanner(serverHeader ?? '');
  const base: ServiceInfo = {
    name: overTls ? 'https' : 'http',
    banner: bannerText === '' ? response.statusLine : bannerText,
    ...(overTls && { tls: true }),
  };
  const json = parseJsonObject(response.body);
  const denied = response.status === 401 || response.status === 403;

  const tagline = jsonString(json, 'tagline');
  if (
    tagline?.includes('for Search') === true ||
    (json !== null && jsonString(json, 'cluster_name') !== undefined)
  ) {
    const version = jsonString(json, 'version', 'number');
    return {
      ...base,
      name: 'elasticsearch',
      product: jsonString(json, 'version', 'distribution') === 'opensearch' ? 'OpenSearch' : 'Elasticsearch',
      ...(version !== undefined && { version }),
      details: { auth: 'none' },
    };
  }
  const realm = response.headers.get('www-authenticate') ?? '';
  if (
    response.headers.has('x-elastic-product') ||
    (denied && /realm="security"/i.test(realm)) ||
    jsonString(json, 'error', 'type') === 'security_exception'
  ) {
    return {
      ...base,
      name: 'elasticsearch',
      product: 'Elasticsearch',
      details: { auth: denied ? 'required' : 'none' },
    };
  }

  const apiVersion = cleanBanner(response.headers.get('api-version') ?? '') || jsonString(json, 'ApiVersion');
  if (apiVersion !== undefined || server.product === 'Docker') {
    const version = jsonString(json, 'Version') ?? server.version;
    return {
      ...base,
      name: 'docker',
      product: 'Docker',
      ...(version !== undefined && { version }),
      // The Engine API has no authentication of its own: an answer means anyone may drive it.
      details: { auth: 'none', ...(apiVersion !== undefined && { apiVersion }) },
    };
  }

  if (json !== null && json.kind === 'Status' && typeof json.apiVersion === 'string') {
    return {
      ...base,
      name: 'kubernetes',
      product: 'Kubernetes',
      ...(denied && { details: { auth: 'required' } }),
    };
  }
  const gitVersion = jsonString(json, 'gitVersion');
  if (gitVersion !== undefined && /^v\d/.test(gitVersion) && jsonString(json, 'goVersion') !== undefined) {
    // /version is public on a default API server, so it says nothing about authentication.
    return { ...base, name: 'kubernetes', product: 'Kubernetes', version: gitVersion.slice(1) };
  }

  if (response.body.includes('trying to access MongoDB over HTTP')) {
    return { ...base, name: 'mongodb', product: 'MongoDB' };
  }
  return { ...base, ...server };
}

/**
 * The request the HTTP probe sends: HTTP/1.0 so that the server closes when done. The Host field
 * carries the port when it is not the scheme's default (RFC 9110 section 7.2).
 */
export function httpRequest(host: string, port: number, path: string, overTls: boolean): string {
  const name = host.includes(':') ? `[${host}]` : host;
  const authority = port === (overTls ? 443 : 80) ? name : `${name}:${port}`;
  return `GET ${path} HTTP/1.0\r\nHost: ${authority}\r\nUser-Agent: FlowTrack-scan\r\n\r\n`;
}

// ---------------------------------------------------------------------------------------------
// Redis, PostgreSQL, memcached

/**
 * What a Redis server's first line says about authentication: `+PONG` to PING means none;
 * `-NOAUTH` (Redis 6+), `-WRONGPASS` or `-ERR operation not permitted` (before 6) mean required;
 * `-DENIED` is protected mode (only loopback clients are served). Null for anything else.
 */
export function parseRedisReply(line: string): ServiceInfo | null {
  const banner = cleanBanner(line);
  if (/^\+PONG\b/.test(banner)) return { name: 'redis', product: 'Redis', banner, details: { auth: 'none' } };
  if (/^-(?:NOAUTH|WRONGPASS)\b|^-ERR operation not permitted|^-ERR .*\bauth/i.test(banner)) {
    return { name: 'redis', product: 'Redis', banner, details: { auth: 'required' } };
  }
  if (/^-DENIED\b/.test(banner))
    return { name: 'redis', product: 'Redis', banner, details: { protectedMode: true } };
  return null;
}

/**
 * The product and version in the bulk string INFO server returns (`$<n>` then `key:value` lines):
 * `redis_version:7.0.15`; Valkey also says `server_name:valkey` and its own `valkey_version`.
 */
export function parseRedisInfo(bulk: Buffer): { product: string; version?: string } | null {
  const text = bulk.toString('latin1');
  if (!text.startsWith('$')) return null;
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) fields.set(line.slice(0, colon), cleanBanner(line.slice(colon + 1)));
  }
  if (fields.get('server_name') === 'valkey') {
    const version = fields.get('valkey_version') ?? fields.get('redis_version');
    return { product: 'Valkey', ...(version !== undefined && { version }) };
  }
  const version = fields.get('redis_version');
  return version === undefined ? null : { product: 'Redis', version };
}

function redisBulkDone(data: Buffer): boolean {
  const m = /^\$(-?\d+)\r\n/.exec(data.toString('latin1', 0, 16));
  if (!m) return hasLine(data);
  return data.length >= m[0].length + Number(m[1]) + 2;
}

/**
 * PostgreSQL's SSLRequest (protocol section 53.2.10): length 8 and the code 80877103. The server
 * answers one byte before anything else: `S` (it will speak TLS) or `N` (plain only).
 */
export const POSTGRES_SSL_REQUEST: Buffer = Buffer.from([0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f]);

/**
 * PostgreSQL's answer to POSTGRES_SSL_REQUEST: exactly one byte `S` or `N`, or (a server from before
 * 7.0 that does not know the request) an ErrorResponse `E` with a severity field.
 */
export function parsePostgresSslReply(data: Buffer): ServiceInfo | null {
  if (data.length === 1 && (data[0] === 0x53 || data[0] === 0x4e)) {
    return { name: 'postgresql', product: 'PostgreSQL', details: { ssl: data[0] === 0x53 } };
  }
  if (data[0] === 0x45 && data.length >= 9) {
    const length = data.readUInt32BE(1);
    const fields = data.toString('latin1', 5, Math.min(data.length, 1 + length));
    if (length < 2000 && /^S(?:FATAL|ERROR|PANIC)\0/.test(fields)) {
      const message = /\0M([^\0]*)/.exec(fields)?.[1];
      return {
        name: 'postgresql',
        product: 'PostgreSQL',
        ...(message !== undefined && { banner: cleanBanner(message) }),
      };
    }
  }
  return null;
}

/**
 * memcached's answer to `version` on its text protocol: `VERSION 1.6.18`. A server with SASL
 * authentication answers `CLIENT_ERROR unauthenticated` (or does not speak text at all).
 */
export function parseMemcachedVersion(line: string): ServiceInfo | null {
  const banner = cleanBanner(line);
  const version = /^VERSION (\S+)/.exec(banner)?.[1];
  if (version !== undefined) {
    return { name: 'memcached', product: 'memcached', version, banner, details: { auth: 'none' } };
  }
  if (/^CLIENT_ERROR .*auth/i.test(banner)) {
    return { name: 'memcached', product: 'memcached', banner, details: { auth: 'required' } };
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// MongoDB: a little BSON and the wire protocol

/** A decoded BSON value: scalars as JS values, nested documents and arrays as documents. */
export type BsonField = string | number | boolean | null | BsonDocument;
export interface BsonDocument {
  [key: string]: BsonField;
}

/** Encodes a flat command document (strings, numbers, booleans) as BSON. */
export function encodeBson(doc: Readonly<Record<string, string | number | boolean>>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(doc)) {
    const name = Buffer.from(`${key}\u0000`, 'utf8');
    if (typeof value === 'string') {
      const text = Buffer.from(value, 'utf8');
      const head = Buffer.alloc(5 + name.length);
      head[0] = 0x02;
      name.copy(head, 1);
      head.writeInt32LE(text.length + 1, 1 + name.length);
      parts.push(head, text, Buffer.from([0]));
    } else if (typeof value === 'boolean') {
      parts.push(Buffer.from([0x08]), name, Buffer.from([value ? 1 : 0]));
    } else if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) {
      const field = Buffer.alloc(4);
      field.writeInt32LE(value);
      parts.push(Buffer.from([0x10]), name, field);
    } else {
      const field = Buffer.alloc(8);
      field.writeDoubleLE(value);
      parts.push(Buffer.from([0x01]), name, field);
    }
  }
  const body = Buffer.concat(parts);
  const out = Buffer.alloc(body.length + 5);
  out.writeInt32LE(out.length);
  body.copy(out, 4);
  return out;
}

/**
 * Decodes a BSON document, tolerant of hostile bytes: a field that runs past the end or a type it
 * does not know ends the document with what was read; binary and decimal values decode as null;
 * nesting deeper than 8 as null. Null when the header itself is wrong.
 */
export function decodeBson(data: Buffer, depth = 0): BsonDocument | null {
  if (data.length < 5) return null;
  const size = data.readInt32LE(0);
  if (size < 5 || size > data.length) return null;
  const doc: BsonDocument = {};
  const end = size - 1;
  let at = 4;
  while (at < end) {
    const type = data[at]!;
    const nameEnd = data.indexOf(0, at + 1);
    if (nameEnd === -1 || nameEnd >= end) break;
    const key = data.toString('utf8', at + 1, nameEnd);
    at = nameEnd + 1;
    const fixed = (n: number): boolean => at + n <= end;
    let value: BsonField;
    if (type === 0x01 && fixed(8)) {
      value = data.readDoubleLE(at);
      at += 8;
    } else if ((type === 0x02 || type === 0x0d || type === 0x0e) && fixed(4)) {
      const length = data.readInt32LE(at);
      if (length < 1 || !fixed(4 + length)) break;
      value = data.toString('utf8', at + 4, at + 4 + length - 1);
      at += 4 + length;
    } else if ((type === 0x03 || type === 0x04) && fixed(4)) {
      const length = data.readInt32LE(at);
      if (length < 5 || !fixed(length)) break;
      value = depth < 8 ? decodeBson(data.subarray(at, at + length), depth + 1) : null;
      at += length;
    } else if (type === 0x05 && fixed(5)) {
      const length = data.readInt32LE(at);
      if (length < 0 || !fixed(5 + length)) break;
      value = null;
      at += 5 + length;
    } else if (type === 0x06 || type === 0x0a || type === 0x7f || type === 0xff) {
      value = null;
    } else if (type === 0x07 && fixed(12)) {
      value = data.toString('hex', at, at + 12);
      at += 12;
    } else if (type === 0x08 && fixed(1)) {
      value = data[at] === 1;
      at += 1;
    } else if ((type === 0x09 || type === 0x11 || type === 0x12) && fixed(8)) {
      value = Number(data.readBigInt64LE(at));
      at += 8;
    } else if (type === 0x10 && fixed(4)) {
      value = data.readInt32LE(at);
      at += 4;
    } else if (type === 0x13 && fixed(16)) {
      value = null;
      at += 16;
    } else {
      break;
    }
    // A hostile "__proto__" key must not reach the object's prototype.
    if (key !== '__proto__') doc[key] = value;
  }
  return doc;
}

const MONGO_OP_REPLY = 1;
const MONGO_OP_QUERY = 2004;
const MONGO_OP_MSG = 2013;

function mongoHeader(length: number, requestId: number, opCode: number): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(length, 0);
  header.writeInt32LE(requestId, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(opCode, 12);
  return header;
}

/**
 * A command as a legacy OP_QUERY on `admin.$cmd`: the one form every MongoDB server takes for the
 * handshake (`isMaster`), including 6.0 and later, which refuse OP_QUERY for anything else.
 */
export function mongoQuery(
  requestId: number,
  command: Readonly<Record<string, string | number | boolean>>,
): Buffer {
  const collection = Buffer.from('admin.$cmd\u0000', 'latin1');
  const fields = Buffer.alloc(8);
  fields.writeInt32LE(0, 0); // numberToSkip
  fields.writeInt32LE(-1, 4); // numberToReturn: one document, close the cursor
  const body = Buffer.concat([Buffer.alloc(4), collection, fields, encodeBson(command)]);
  return Buffer.concat([mongoHeader(16 + body.length, requestId, MONGO_OP_QUERY), body]);
}

/** A command as OP_MSG (MongoDB 3.6+, wire version 6): flags 0, one body section; `$db` is added. */
export function mongoMsg(
  requestId: number,
  command: Readonly<Record<string, string | number | boolean>>,
): Buffer {
  const body = Buffer.concat([Buffer.alloc(5), encodeBson({ ...command, $db: 'admin' })]);
  return Buffer.concat([mongoHeader(16 + body.length, requestId, MONGO_OP_MSG), body]);
}

/** The document in a MongoDB reply (OP_REPLY or OP_MSG) to request `requestId`; null otherwise. */
export function parseMongoReply(data: Buffer, requestId: number): BsonDocument | null {
  if (data.length < 21) return null;
  const length = data.readInt32LE(0);
  if (length < 21 || length > data.length || data.readInt32LE(8) !== requestId) return null;
  const opCode = data.readInt32LE(12);
  if (opCode === MONGO_OP_REPLY && length >= 36 + 5) return decodeBson(data.subarray(36, length));
  if (opCode === MONGO_OP_MSG && data[20] === 0) return decodeBson(data.subarray(21, length));
  return null;
}

function mongoReplyDone(data: Buffer): boolean {
  return data.length >= 4 && data.length >= data.readInt32LE(0);
}

// ---------------------------------------------------------------------------------------------
// Connections

/** Why a connection could not be used: refused (nothing listens any more) or anything else. */
type OpenFailure = 'refused' | 'failed';

interface ProbeContext {
  address: string;
  /** The host name the address was resolved from: TLS SNI and the HTTP Host field. Never resolved. */
  hostName: string | undefined;
  port: number;
  /** Date.now() by which everything is over. */
  deadline: number;
  signal: AbortSignal | undefined;
}

function remaining(ctx: ProbeContext): number {
  return ctx.deadline - Date.now();
}

/**
 * One connection's received bytes, capped at MAX_REPLY_BYTES (the socket is closed when the cap is
 * reached), and waits on them that end at a condition, the peer's close, a time limit or the budget.
 */
class Wire {
  /** Received and not yet consumed. */
  data: Buffer = Buffer.alloc(0);
  ended = false;
  readonly connected: Promise<'ok' | OpenFailure>;
  private received = 0;
  private wake: (() => void) | null = null;
  private readonly onAbort = (): void => {
    this.socket.destroy();
  };

  constructor(
    readonly socket: Socket,
    /** The same socket when it speaks TLS. */
    readonly tls: TLSSocket | null,
    private readonly ctx: ProbeContext,
  ) {
    const secure = tls !== null;
    this.connected = new Promise((resolve) => {
      const timer = setTimeout(
        () => {
          resolve('failed');
          socket.destroy();
        },
        Math.max(0, remaining(ctx)),
      );
      socket.once(secure ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve('ok');
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'failed');
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve('failed');
      });
    });
    socket.on('data', (chunk: Buffer) => {
      this.take(chunk);
    });
    // Errors after the connection (a reset) end the data; what came before still counts.
    socket.on('error', () => {
      this.finish();
    });
    socket.on('end', () => {
      this.finish();
    });
    socket.on('close', () => {
      this.finish();
    });
    if (ctx.signal?.aborted === true) socket.destroy();
    else ctx.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Waits until `enough(data)`, the peer closes, `waitMs` passes or the budget ends; never rejects. */
  wait(enough: (data: Buffer) => boolean, waitMs: number): Promise<Buffer> {
    const until = Math.min(this.ctx.deadline, Date.now() + waitMs);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.wake = null;
        resolve(this.data);
      };
      const timer = setTimeout(done, Math.max(0, until - Date.now()));
      const check = (): void => {
        if (this.ended || enough(this.data)) done();
      };
      this.wake = check;
      check();
    });
  }

  send(bytes: string | Buffer): void {
    if (!this.ended && this.socket.writable) this.socket.write(bytes);
  }

  consume(): void {
    this.data = Buffer.alloc(0);
  }

  close(): void {
    this.ctx.signal?.removeEventListener('abort', this.onAbort);
    this.socket.destroy();
  }

  private take(chunk: Buffer): void {
    const room = MAX_REPLY_BYTES - this.received;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.received += kept.length;
    this.data = this.data.length === 0 ? kept : Buffer.concat([this.data, kept]);
    if (this.received >= MAX_REPLY_BYTES) this.socket.destroy();
    this.wake?.();
  }

  private finish(): void {
    this.ended = true;
    this.wake?.();
  }
}

/** Connects (over TLS when `secure`, accepting any certificate: we look at it, we do not trust it). */
async function open(ctx: ProbeContext, secure: boolean): Promise<Wire | OpenFailure> {
  if (ctx.signal?.aborted === true || remaining(ctx) < MIN_PROBE_MS) return 'failed';
  const tls = secure
    ? tlsConnect({
        host: ctx.address,
        port: ctx.port,
        // SNI carries host names only (RFC 6066 section 3): the name the target came from, if any.
        ...(ctx.hostName !== undefined && { servername: ctx.hostName }),
        rejectUnauthorized: false,
        // Old protocol versions and ciphers are what a scan should find, not fail on.
        minVersion: 'TLSv1',
        ciphers: 'DEFAULT:@SECLEVEL=0',
        ALPNProtocols: ['http/1.1'],
      })
    : null;
  const socket = tls ?? netConnect({ host: ctx.address, port: ctx.port });
  socket.setNoDelay(true);
  const wire = new Wire(socket, tls, ctx);
  const result = await wire.connected;
  if (result === 'ok') return wire;
  wire.close();
  return result;
}

/** Reads one FTP/SMTP reply and consumes it; null when none came. */
async function readTextReply(wire: Wire, waitMs = STEP_MS): Promise<TextReply | null> {
  const data = await wire.wait(textReplyDone, waitMs);
  const reply = parseTextReply(data);
  wire.consume();
  return reply;
}

/** Says goodbye and waits briefly for the answer, so that the server logs a clean end. */
async function quit(wire: Wire, command: string): Promise<void> {
  wire.consume();
  wire.send(command);
  await wire.wait(hasLine, QUIT_MS);
}

// ---------------------------------------------------------------------------------------------
// Probes

/** The probes, each a fresh connection: a greeting, or a question in one protocol. */
export type TcpProbeName = 'banner' | 'http' | 'tls' | 'redis' | 'postgresql' | 'mongodb' | 'memcached';

interface ProbeOutcome {
  /** What the probe learned: final unless `next` names a probe likely to learn more, or it is `unknown`. */
  service: ServiceInfo | null;
  next?: TcpProbeName;
  /** The connection was refused: nothing listens, so nothing more can be learned. */
  stop?: boolean;
}

const NOTHING: ProbeOutcome = { service: null };

function failed(failure: OpenFailure): ProbeOutcome {
  return failure === 'refused' ? { service: null, stop: true } : NOTHING;
}

/**
 * True when `data` could be a whole greeting: telnet's negotiation (it waits for our answers), a
 * whole MySQL packet (whose protocol byte 10 is an LF, so a line says nothing), a line, or all we
 * will keep.
 */
function greetingDone(data: Buffer): boolean {
  if (data.length >= MAX_REPLY_BYTES || (data[0] === IAC && data.length >= 3)) return true;
  if (data.length >= 4 && data[3] === 0) {
    const length = data.readUIntLE(0, 3);
    if (length >= 2 && length <= 4096) return data.length >= 4 + length;
  }
  return hasLine(data);
}

/** True when an answer to a request is complete enough to judge. */
function answerDone(data: Buffer): boolean {
  if (data.length >= 5 && data.toString('latin1', 0, 5) === 'HTTP/') return httpResponseDone(data);
  if (data.length > 0 && data.length < 5 && 'HTTP/'.startsWith(data.toString('latin1'))) return false;
  return greetingDone(data);
}

/**
 * Judges what came back to a request: an HTTP response; a greeting (the service speaks first and
 * ignored us: the banner probe will hold the proper conversation); a hint at another protocol
 * (Redis's or memcached's error for a line it does not know, PostgreSQL's error packet); else
 * `unknown` with the first line.
 */
function judgeAnswer(data: Buffer, ctx: ProbeContext, overTls: boolean): ProbeOutcome {
  if (data.length === 0) return NOTHING;
  const http = parseHttpResponse(data);
  if (http) {
    const service = identifyHttpService(http, overTls);
    return service.name === 'mongodb' && !overTls ? { service, next: 'mongodb' } : { service };
  }
  const greeting = identifyGreeting(data, ctx.port);
  if (greeting && greeting.name !== 'unknown') {
    return overTls ? { service: { ...greeting, tls: true } } : { service: greeting, next: 'banner' };
  }
  if (!overTls) {
    // PostgreSQL answers a request it cannot parse with an ErrorResponse ('E'), never S or N.
    const postgres = data[0] === 0x45 ? parsePostgresSslReply(data) : null;
    if (postgres) return { service: { name: 'postgresql', product: 'PostgreSQL' }, next: 'postgresql' };
    const line = firstLine(data);
    const redis = parseRedisReply(line);
    if (redis) return { service: redis, next: 'redis' };
    if (/^-ERR (?:wrong number of arguments|unknown command)/.test(line))
      return { service: null, next: 'redis' };
    if (/^(?:ERROR|CLIENT_ERROR)\b/.test(line)) return { service: null, next: 'memcached' };
  }
  const line = firstLine(data);
  return line === '' ? NOTHING : { service: { name: 'unknown', banner: line } };
}

/**
 * The answer to a request: until it is complete (an HTTP response with its Content-Length body,
 * or a line), the peer closes, or the budget ends; an HTTP body without a length gets STEP_MS
 * after its head, since a server that should close (we asked with HTTP/1.0) may not.
 */
async function readAnswer(wire: Wire, ctx: ProbeContext): Promise<Buffer> {
  const headEnded = (d: Buffer): boolean => d.toString('latin1', 0, 5) === 'HTTP/' && d.includes('\r\n\r\n');
  const data = await wire.wait((d) => answerDone(d) || headEnded(d), remaining(ctx));
  return answerDone(data) || wire.ended ? data : wire.wait(answerDone, STEP_MS);
}

/** Paths whose answer names the service better than `/` does. */
const HTTP_PATHS: ReadonlyMap<number, string> = new Map([
  [2375, '/version'],
  [2376, '/version'],
  [6443, '/version'],
]);

/**
 * GET / over plain TCP. Off the usual HTTP ports the request line goes first, alone, for a moment:
 * an HTTP server waits for the header lines, but a line-based service answers the line at once,
 * and Redis must be heard then, because the "Host:" line that follows makes it hang up without a
 * word (its guard against cross-protocol scripting).
 */
async function httpProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, false);
  if (typeof wire === 'string') return failed(wire);
  try {
    const request = httpRequest(
      ctx.hostName ?? ctx.address,
      ctx.port,
      HTTP_PATHS.get(ctx.port) ?? '/',
      false,
    );
    if (FIRST_PROBE.get(ctx.port) !== 'http') {
      const lineEnd = request.indexOf('\r\n') + 2;
      wire.send(request.slice(0, lineEnd));
      const early = await wire.wait(hasLine, EARLY_ANSWER_MS);
      if (early.length > 0) return judgeAnswer(await wire.wait(answerDone, GREETING_REST_MS), ctx, false);
      wire.send(request.slice(lineEnd));
    } else {
      wire.send(request);
    }
    return judgeAnswer(await readAnswer(wire, ctx), ctx, false);
  } finally {
    wire.close();
  }
}

/** TLS facts: protocol version, the certificate's subject and issuer common names, self-signed. */
function describeTls(socket: TLSSocket): Details {
  const details: Details = { tlsVersion: socket.getProtocol() ?? 'unknown' };
  const cert = socket.getPeerX509Certificate();
  if (!cert) return details;
  const subject = commonName(cert.subject);
  const issuer = commonName(cert.issuer);
  if (subject !== '') details.certSubject = subject;
  if (issuer !== '') details.certIssuer = issuer;
  details.selfSigned = isSelfSigned(cert);
  return details;
}

/** The CN of an X.509 name as Node prints it ("C=US\nO=Example\nCN=host"), else the whole name. */
function commonName(name: string): string {
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(name)?.[1];
  return cleanBanner(cn ?? name.replace(/\n/g, ', '));
}

function isSelfSigned(cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(cert) && cert.verify(cert.publicKey);
  } catch {
    // A key type OpenSSL cannot check: judge by the names alone.
    return cert.subject === cert.issuer;
  }
}

/**
 * TLS handshake, then an HTTP request inside it. A server-first protocol under TLS (IMAPS, SMTPS)
 * greets before it reads the request, so its greeting names it. A handshake with nothing behind it
 * that we know is still a finding: `tls` with the certificate's facts.
 */
async function tlsProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, true);
  if (typeof wire === 'string') return failed(wire);
  try {
    const tlsDetails = wire.tls ? describeTls(wire.tls) : {};
    wire.send(httpRequest(ctx.hostName ?? ctx.address, ctx.port, HTTP_PATHS.get(ctx.port) ?? '/', true));
    const { service } = judgeAnswer(await readAnswer(wire, ctx), ctx, true);
    if (!service || service.name === 'unknown') {
      const tlsOnly: ServiceInfo = { name: 'tls', tls: true, details: tlsDetails };
      if (service?.banner !== undefined) tlsOnly.banner = service.banner;
      return { service: tlsOnly };
    }
    return { service: { ...service, tls: true, details: { ...tlsDetails, ...service.details } } };
  } finally {
    wire.close();
  }
}

async function redisProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, false);
  if (typeof wire === 'string') return failed(wire);
  try {
    wire.send('PING\r\n');
    const data = await wire.wait(hasLine, remaining(ctx));
    const service = parseRedisReply(firstLine(data));
    if (!service) return judgeAnswer(data, ctx, false);
    if (service.details?.auth === 'none') {
      wire.consume();
      wire.send('INFO server\r\n');
      const info = parseRedisInfo(await wire.wait(redisBulkDone, STEP_MS));
      if (info) return { service: { ...service, ...info } };
    }
    return { service };
  } finally {
    wire.close();
  }
}

async function postgresProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, false);
  if (typeof wire === 'string') return failed(wire);
  try {
    wire.send(POSTGRES_SSL_REQUEST);
    let data = await wire.wait((d) => d.length > 0, remaining(ctx));
    // The answer is one byte on its own; a greeting that starts with S or N goes on.
    if (data.length === 1) data = await wire.wait((d) => d.length > 1, 150);
    const service = parsePostgresSslReply(data);
    return service ? { service } : judgeAnswer(data, ctx, false);
  } finally {
    wire.close();
  }
}

async function memcachedProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, false);
  if (typeof wire === 'string') return failed(wire);
  try {
    wire.send('version\r\n');
    const data = await wire.wait(hasLine, remaining(ctx));
    const service = parseMemcachedVersion(firstLine(data));
    return service ? { service } : judgeAnswer(data, ctx, false);
  } finally {
    wire.close();
  }
}

/**
 * MongoDB: the isMaster handshake (names it), buildInfo (its version, allowed before login), and
 * listDatabases, which only an unauthenticated server answers (auth none) or refuses with
 * Unauthorized, code 13 (auth required). Nothing is read from any database.
 */
async function mongoProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, false);
  if (typeof wire === 'string') return failed(wire);
  try {
    let requestId = 0x464c5400 + Math.floor(Math.random() * 0xff);
    wire.send(mongoQuery(requestId, { isMaster: 1 }));
    let data = await wire.wait(mongoReplyDone, remaining(ctx));
    const hello = parseMongoReply(data, requestId);
    if (!hello) return judgeAnswer(data, ctx, false);
    const service: ServiceInfo = { name: 'mongodb', product: 'MongoDB' };
    const ask = async (command: Record<string, string | number | boolean>): Promise<BsonDocument | null> => {
      requestId++;
      wire.consume();
      const modern = typeof hello.maxWireVersion === 'number' && hello.maxWireVersion >= 6;
      wire.send(modern ? mongoMsg(requestId, command) : mongoQuery(requestId, command));
      data = await wire.wait(mongoReplyDone, STEP_MS);
      return parseMongoReply(data, requestId);
    };
    const build = await ask({ buildInfo: 1 });
    if (typeof build?.version === 'string') service.version = cleanBanner(build.version);
    const list = await ask({ listDatabases: 1, nameOnly: true });
    if (list?.ok === 1) service.details = { auth: 'none' };
    else if (list && (list.code === 13 || (typeof list.errmsg === 'string' && /auth/i.test(list.errmsg)))) {
      service.details = { auth: 'required' };
    }
    return { service };
  } finally {
    wire.close();
  }
}

/** FEAT: whether the server offers TLS (AUTH TLS, RFC 4217). Undefined when it does not answer FEAT. */
async function ftpStarttls(wire: Wire): Promise<boolean | undefined> {
  wire.send('FEAT\r\n');
  const feat = await readTextReply(wire);
  if (feat?.code !== 211) return undefined;
  return feat.lines.some((line) => /\bAUTH\s+(?:TLS|SSL)\b/i.test(line));
}

/**
 * Tries the anonymous login (RFC 1635): USER anonymous, PASS scanner@. Returns the reply code to
 * USER (null when there was none) and whether the login worked, when the server said so.
 */
async function ftpAnonymous(wire: Wire): Promise<{ userCode: number | null; anonymous?: boolean }> {
  wire.send('USER anonymous\r\n');
  const user = await readTextReply(wire);
  if (!user) return { userCode: null };
  if (user.code === 230) return { userCode: user.code, anonymous: true };
  if (user.code >= 500) return { userCode: user.code, anonymous: false };
  if (user.code !== 331) return { userCode: user.code };
  wire.send('PASS scanner@\r\n');
  const pass = await readTextReply(wire);
  if (pass?.code === 230) return { userCode: user.code, anonymous: true };
  if (pass && pass.code >= 500) return { userCode: user.code, anonymous: false };
  return { userCode: user.code };
}

async function ftpConversation(wire: Wire, greeting: ServiceInfo): Promise<ServiceInfo> {
  const details: Details = { ...greeting.details };
  const starttls = await ftpStarttls(wire);
  if (starttls !== undefined) details.starttls = starttls;
  const { anonymous } = await ftpAnonymous(wire);
  if (anonymous !== undefined) details.anonymous = anonymous;
  await quit(wire, 'QUIT\r\n');
  return { ...greeting, ...(Object.keys(details).length > 0 && { details }) };
}

/** EHLO: the extensions the server lists, STARTTLS among them (RFC 3207). Null when EHLO is refused. */
async function smtpEhlo(wire: Wire): Promise<TextReply | null> {
  wire.send('EHLO flowtrack-scan\r\n');
  const ehlo = await readTextReply(wire);
  return ehlo?.code === 250 ? ehlo : null;
}

function smtpStarttls(ehlo: TextReply): boolean {
  return ehlo.lines.slice(1).some((line) => /^250[ -]STARTTLS\b/i.test(line));
}

async function smtpConversation(wire: Wire, greeting: ServiceInfo): Promise<ServiceInfo> {
  const ehlo = await smtpEhlo(wire);
  await quit(wire, 'QUIT\r\n');
  return ehlo ? { ...greeting, details: { ...greeting.details, starttls: smtpStarttls(ehlo) } } : greeting;
}

/** A 220 greeting that names neither: SMTP answers EHLO with 250; FTP refuses it and knows USER. */
async function ftpOrSmtpConversation(wire: Wire, greeting: ServiceInfo, text: string): Promise<ServiceInfo> {
  const ehlo = await smtpEhlo(wire);
  if (ehlo) {
    await quit(wire, 'QUIT\r\n');
    return {
      ...greeting,
      name: 'smtp',
      ...matchProduct(text, SMTP_PRODUCTS),
      details: { starttls: smtpStarttls(ehlo) },
    };
  }
  const { userCode, anonymous } = await ftpAnonymous(wire);
  await quit(wire, 'QUIT\r\n');
  if (userCode !== 230 && userCode !== 331 && userCode !== 332 && userCode !== 530) return greeting;
  return {
    ...greeting,
    name: 'ftp',
    ...matchProduct(text, FTP_PRODUCTS),
    ...(anonymous !== undefined && { details: { anonymous } }),
  };
}

async function pop3Conversation(wire: Wire, greeting: ServiceInfo): Promise<ServiceInfo> {
  wire.consume();
  wire.send('CAPA\r\n');
  // A capability list ends with a line holding one dot (RFC 2449); a refusal is one -ERR line.
  const data = await wire.wait(
    (d) => (/^-ERR/.test(d.toString('latin1', 0, 4)) ? hasLine(d) : /\n\.\r?\n$/.test(d.toString('latin1'))),
    STEP_MS,
  );
  const text = data.toString('latin1');
  await quit(wire, 'QUIT\r\n');
  if (!text.startsWith('+OK') || !/\n\.\r?\n$/.test(text)) return greeting;
  return { ...greeting, details: { ...greeting.details, starttls: /^STLS\b/im.test(text) } };
}

async function imapConversation(wire: Wire, greeting: ServiceInfo): Promise<ServiceInfo> {
  if (greeting.details?.starttls !== undefined) {
    await quit(wire, 'a1 LOGOUT\r\n');
    return greeting;
  }
  wire.consume();
  wire.send('a1 CAPABILITY\r\n');
  const data = await wire.wait((d) => /(?:^|\n)a1 /.test(d.toString('latin1')) && d.at(-1) === 0x0a, STEP_MS);
  const capability = /^\* CAPABILITY (.*)$/im.exec(data.toString('latin1'))?.[1];
  await quit(wire, 'a2 LOGOUT\r\n');
  return capability === undefined
    ? greeting
    : { ...greeting, details: { ...greeting.details, starttls: /\bSTARTTLS\b/i.test(capability) } };
}

/** Completes the version exchange and reads the security types (RFC 6143 sections 7.1.1-2). */
async function vncConversation(wire: Wire, greeting: ServiceInfo): Promise<ServiceInfo> {
  const minor = Number(/\.(\d+)$/.exec(greeting.version ?? '')?.[1] ?? 3);
  const listForm = minor >= 7;
  wire.consume();
  wire.send(minor >= 8 ? 'RFB 003.008\n' : listForm ? 'RFB 003.007\n' : 'RFB 003.003\n');
  const data = await wire.wait(
    (d) => (listForm ? d.length >= 1 && (d[0] === 0 || d.length >= 1 + d[0]!) : d.length >= 4),
    STEP_MS,
  );
  const security = parseVncSecurity(data, listForm);
  return security ? { ...greeting, details: { auth: security.auth } } : greeting;
}

/** Answers the option negotiation so that the server shows its login prompt, the banner. */
async function telnetConversation(wire: Wire, greeting: ServiceInfo): Promise<ServiceInfo> {
  wire.send(telnetAnswers(splitTelnet(wire.data).commands));
  const data = await wire.wait((d) => {
    const text = splitTelnet(d).text;
    return /(?:login|user ?name|password)\s*:\s*$/i.test(text) || text.length > 1024;
  }, STEP_MS);
  const banner = cleanBanner(splitTelnet(data).text);
  return banner === '' ? greeting : { ...greeting, banner };
}

/** Listens for a greeting; when one comes, holds the conversation its protocol allows. */
async function bannerProbe(ctx: ProbeContext): Promise<ProbeOutcome> {
  const wire = await open(ctx, false);
  if (typeof wire === 'string') return failed(wire);
  try {
    // Half of what is left at most, so that a silent service still leaves time to ask it.
    const first = await wire.wait((d) => d.length > 0, Math.min(BANNER_WAIT_MS, remaining(ctx) / 2));
    if (first.length === 0) {
      if (wire.ended) return NOTHING;
      // nmap's GenericLines: empty lines, which HTTP servers and Redis ignore but memcached and
      // many line-based services answer with an error that names them.
      wire.send('\r\n\r\n');
      const answer = await wire.wait(answerDone, GENERIC_LINES_MS);
      const outcome = judgeAnswer(answer, ctx, false);
      // An HTTP server's "400 Bad Request" to empty lines rarely names the application (Docker,
      // Elasticsearch): a proper request will.
      return parseHttpResponse(answer) ? { ...outcome, next: 'http' } : outcome;
    }
    const data = await wire.wait(greetingDone, GREETING_REST_MS);
    const greeting = identifyGreeting(data, ctx.port);
    if (!greeting) return NOTHING;
    const text = data.toString('latin1', 0, Math.min(data.length, 2048));
    // FTP and SMTP greetings may span lines: read the whole reply before speaking.
    if (/^220[ -]/.test(text)) await readTextReply(wire, GREETING_REST_MS);
    switch (greeting.name) {
      case 'ftp':
        return { service: await ftpConversation(wire, greeting) };
      case 'smtp':
        return { service: await smtpConversation(wire, greeting) };
      case 'pop3':
        return { service: await pop3Conversation(wire, greeting) };
      case 'imap':
        return { service: await imapConversation(wire, greeting) };
      case 'vnc':
        return { service: await vncConversation(wire, greeting) };
      case 'telnet':
        return { service: await telnetConversation(wire, greeting) };
      case 'unknown':
        return {
          service: /^220[ -]/.test(text) ? await ftpOrSmtpConversation(wire, greeting, text) : greeting,
        };
      default:
        return { service: greeting };
    }
  } finally {
    wire.close();
  }
}

const PROBES: Readonly<Record<TcpProbeName, (ctx: ProbeContext) => Promise<ProbeOutcome>>> = {
  banner: bannerProbe,
  http: httpProbe,
  tls: tlsProbe,
  redis: redisProbe,
  postgresql: postgresProbe,
  mongodb: mongoProbe,
  memcached: memcachedProbe,
};

// ---------------------------------------------------------------------------------------------
// The plan and the orchestration

/** The port's usual client-first service: its probe goes first. Server-first ports start with the banner. */
const FIRST_PROBE: ReadonlyMap<number, TcpProbeName> = new Map<number, TcpProbeName>([
  ...[80, 81, 591, 3000, 5000, 5601, 8000, 8008, 8080, 8081, 8086, 8888, 9000, 9090, 9200, 2375, 10255].map(
    (port): [number, TcpProbeName] => [port, 'http'],
  ),
  ...[443, 465, 636, 990, 993, 995, 2376, 4443, 5986, 6443, 8443, 9443, 10250].map(
    (port): [number, TcpProbeName] => [port, 'tls'],
  ),
  [6379, 'redis'],
  [5432, 'postgresql'],
  [5433, 'postgresql'],
  [27017, 'mongodb'],
  [27018, 'mongodb'],
  [27019, 'mongodb'],
  [11211, 'memcached'],
]);

/** After the port's own probe: listen, then ask the two protocols most services speak. */
const GENERIC_PLAN: readonly TcpProbeName[] = ['banner', 'http', 'tls'];

/**
 * The probes tried on `port`, in order, before any answer redirects them: the port's usual
 * service first, then a greeting, HTTP and TLS; at most three.
 */
export function tcpProbePlan(port: number): readonly TcpProbeName[] {
  const first = FIRST_PROBE.get(port);
  const plan = first === undefined ? [...GENERIC_PLAN] : [first, ...GENERIC_PLAN.filter((p) => p !== first)];
  return plan.slice(0, MAX_PROBES);
}

export interface IdentifyOptions {
  /** The whole budget for every probe on the port (default 3000 ms). */
  timeoutMs?: number;
  /** Ends the probing at once; the promise then resolves with what was learned so far. */
  signal?: AbortSignal;
  /**
   * The host name `address` was resolved from (ScanTarget.hostName): sent as TLS SNI and in the
   * HTTP Host field, so that a name-based virtual host shows its own certificate. Never resolved.
   */
  hostName?: string;
}

/**
 * What service listens on an open TCP port of `address` (an IP address, never a name): its name,
 * product, version, first line and the facts that decide a risk (ServiceInfo). Null when the port
 * said nothing we could read in the time; `name: 'unknown'` with a banner when it spoke a protocol
 * we do not know. Never rejects for anything the peer does (silence, resets, floods, garbage);
 * rejects with FlowTrackError BAD_OPTION for an address that is not an IP, a port outside
 * 1-65535 or a budget that is not a positive number.
 */
export async function identifyTcpService(
  address: string,
  port: number,
  options: IdentifyOptions = {},
): Promise<ServiceInfo | null> {
  if (isIP(address) === 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `Service identification needs an IP address, not ${JSON.stringify(address.slice(0, 100))}.`,
    );
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `Port ${port} is not a TCP port: use 1-65535.`);
  }
  if (options.hostName !== undefined && !/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})$/.test(options.hostName)) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${JSON.stringify(options.hostName.slice(0, 100))} is not a host name.`,
    );
  }
  const budget = options.timeoutMs ?? DEFAULT_BUDGET_MS;
  if (!(budget > 0) || !Number.isFinite(budget)) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `Identification budget ${budget} ms is not a positive number.`,
    );
  }
  const ctx: ProbeContext = {
    address,
    hostName: options.hostName,
    port,
    deadline: Date.now() + budget,
    signal: options.signal,
  };
  const queue = [...tcpProbePlan(port)];
  const tried = new Set<TcpProbeName>();
  let best: ServiceInfo | null = null;
  while (tried.size < MAX_PROBES && remaining(ctx) >= MIN_PROBE_MS && options.signal?.aborted !== true) {
    const probe = queue.shift();
    if (probe === undefined) break;
    if (tried.has(probe)) continue;
    tried.add(probe);
    let outcome: ProbeOutcome;
    try {
      outcome = await PROBES[probe](ctx);
    } catch {
      // Nothing in a probe should throw; if something does, the port is merely unidentified by it.
      outcome = NOTHING;
    }
    if (outcome.stop === true) break;
    const { service, next } = outcome;
    const worthMore = next !== undefined && !tried.has(next);
    if (service && service.name !== 'unknown' && !worthMore) return service;
    if (service && (best === null || best.name === 'unknown')) best = service;
    if (worthMore) queue.unshift(next);
  }
  return best;
}
