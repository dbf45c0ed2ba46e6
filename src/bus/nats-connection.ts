/**
 * One connection to the NATS servers of the bus, kept up in the background: connect with the
 * configured credentials, reconnect for ever with a capped backoff, and make a new client when
 * the old one gives up (the client stops after the server refused its credentials twice).
 * Sensors and the hub ask `current` for a live connection and wait with `ready()` while it is
 * down.
 *
 * Must never: throw out of the background loop, log a password, token or seed (URLs are logged
 * without their user:password, credentials by their kind and file name only), or keep the
 * process alive after close().
 */

import { readFileSync } from 'node:fs';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import {
  connect,
  credsAuthenticator,
  errors,
  nkeyAuthenticator,
  nkeys,
  tokenAuthenticator,
  usernamePasswordAuthenticator,
  type Authenticator,
  type NatsConnection,
  type NodeConnectionOptions,
} from '@nats-io/transport-node';
import type { Logger } from 'pino';
import { describeError, ErrorCode, FlowTrackError } from '../util/errors.js';
import { backoffMs, WakeUp } from './wake-up.js';

/** How the client proves who it is (user and password may also be written in the server URL). */
export type NatsAuth =
  | { kind: 'none' }
  | { kind: 'userPassword'; user: string; password: string }
  | { kind: 'token'; token: string }
  | { kind: 'nkey'; seedFile: string }
  | { kind: 'creds'; file: string };

export interface BusConnectionOptions {
  /** nats://host:port (tls:// for TLS), one per server of the cluster; nats://user:password@host works too. */
  servers: string[];
  auth: NatsAuth;
  /** What the server's monitoring shows for this client, e.g. "flowtrack-sensor-edge1". */
  name: string;
  logger: Logger;
  /** The longest wait between two attempts to connect (default 5000 ms). */
  maxBackoffMs?: number;
  /**
   * PEM file of the certificate authority that signed the servers' TLS certificates (tls://
   * servers only); absent: the system's authorities.
   */
  tlsCaFile?: string;
}

/** The servers as the client takes them, and the credentials found in their URLs. */
export interface ServerList {
  /** host:port of each server. */
  hosts: string[];
  tls: boolean;
  /** URLs with any password masked: for logs and messages. */
  shown: string[];
  urlCredentials: { user: string; password: string } | null;
}

/** Parses the server URLs; throws BAD_OPTION naming the bad one (with its password masked). */
export function parseServerUrls(urls: readonly string[]): ServerList {
  if (urls.length === 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      'no NATS server given: pass one URL such as nats://127.0.0.1:4222',
    );
  }
  const hosts: string[] = [];
  const shown: string[] = [];
  const schemes = new Set<string>();
  let urlCredentials: ServerList['urlCredentials'] = null;
  for (const raw of urls) {
    const withScheme = /^[a-z]+:\/\//i.test(raw) ? raw : `nats://${raw}`;
    let url: URL;
    try {
      url = new URL(withScheme);
    } catch (err) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `${JSON.stringify(maskUrl(raw))} is not a NATS server URL: write it like nats://127.0.0.1:4222`,
        { cause: err },
      );
    }
    const scheme = url.protocol.slice(0, -1).toLowerCase();
    if (scheme !== 'nats' && scheme !== 'tls') {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `${JSON.stringify(maskUrl(raw))} is not a NATS server URL: the scheme must be nats:// or tls://`,
      );
    }
    if (url.hostname === '' || (url.pathname !== '' && url.pathname !== '/') || url.search !== '') {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `${JSON.stringify(maskUrl(raw))} is not a NATS server URL: give a host and port only, like nats://127.0.0.1:4222`,
      );
    }
    schemes.add(scheme);
    if (url.username !== '') {
      urlCredentials = { user: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    }
    hosts.push(`${url.hostname}:${url.port || '4222'}`);
    shown.push(`${scheme}://${url.hostname}:${url.port || '4222'}`);
  }
  if (schemes.size > 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      'the NATS servers mix nats:// and tls://: use one for all',
    );
  }
  return { hosts, tls: schemes.has('tls'), shown, urlCredentials };
}

/** A URL with its password replaced by "***", for messages. */
function maskUrl(raw: string): string {
  return raw.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/** The client's authenticator for `auth`, reading seed and creds files now (throws IO_ERROR or BAD_OPTION). */
export function authenticatorFor(
  auth: NatsAuth,
  urlCredentials: ServerList['urlCredentials'],
): { authenticator: Authenticator | null; shown: string } {
  switch (auth.kind) {
    case 'none':
      return urlCredentials === null
        ? { authenticator: null, shown: 'a connection without credentials' }
        : {
            authenticator: usernamePasswordAuthenticator(urlCredentials.user, urlCredentials.password),
            shown: `user ${JSON.stringify(urlCredentials.user)} (from the URL)`,
          };
    case 'userPassword':
      if (auth.user === '') throw new FlowTrackError(ErrorCode.BAD_OPTION, 'the NATS user name is empty');
      return {
        authenticator: usernamePasswordAuthenticator(auth.user, auth.password),
        shown: `user ${JSON.stringify(auth.user)}`,
      };
    case 'token':
      if (auth.token === '') throw new FlowTrackError(ErrorCode.BAD_OPTION, 'the NATS token is empty');
      return { authenticator: tokenAuthenticator(auth.token), shown: 'a token' };
    case 'nkey': {
      const seed = readSecretFile(auth.seedFile, 'NKey seed');
      try {
        // Checks the seed now rather than at every connection attempt.
        nkeys.fromSeed(seed);
      } catch (err) {
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          `${auth.seedFile} does not hold an NKey seed (a line starting with "SU"): create one with \`nk -gen user\``,
          { cause: err },
        );
      }
      return { authenticator: nkeyAuthenticator(seed), shown: `the NKey seed in ${auth.seedFile}` };
    }
    case 'creds': {
      const creds = readSecretFile(auth.file, 'credentials');
      const text = Buffer.from(creds).toString('utf8');
      if (!text.includes('BEGIN NATS USER JWT') || !text.includes('BEGIN USER NKEY SEED')) {
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          `${auth.file} is not a NATS credentials file (it must hold a user JWT and an NKey seed, as \`nsc\` writes them)`,
        );
      }
      return { authenticator: credsAuthenticator(creds), shown: `the credentials in ${auth.file}` };
    }
  }
}

/**
 * The file's text as bytes: trimmed for a seed; whole for a credentials file, whose parser needs
 * the line end after its last marker (a trimmed .creds file was "unable to parse credentials").
 */
function readSecretFile(path: string, what: 'NKey seed' | 'credentials'): Uint8Array {
  try {
    const text = readFileSync(path, 'utf8');
    return new TextEncoder().encode(what === 'credentials' ? text : text.trim());
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `cannot read the NATS ${what} file ${path}: ${describeError(err)}; check the path and that this user may read it`,
      { cause: err },
    );
  }
}

/**
 * Checks a server's certificate against the names and addresses the servers were given by. The
 * client checks it against "localhost" when a server is given by its IP address (nats.js issue
 * 303: it upgrades the socket without a server name), which no server's certificate names.
 * A certificate that names any of the configured servers is taken: they are one cluster.
 */
function identityOf(servers: ServerList): (host: string, cert: PeerCertificate) => Error | undefined {
  const names = servers.hosts.map((hostPort) => {
    const host = hostPort.slice(0, hostPort.lastIndexOf(':'));
    return host.startsWith('[') ? host.slice(1, -1) : host;
  });
  return (_host, cert) => {
    let first: Error | undefined;
    for (const name of names) {
      const problem = checkServerIdentity(name, cert);
      if (problem === undefined) return undefined;
      first ??= problem;
    }
    return first;
  };
}

/** What the client's TLS is given (passed on to node:tls as it is, checkServerIdentity included). */
interface BusTlsOptions {
  ca?: string;
  checkServerIdentity: (host: string, cert: PeerCertificate) => Error | undefined;
}

function tlsOptions(servers: ServerList, ca: string | null): BusTlsOptions {
  return { ...(ca === null ? {} : { ca }), checkServerIdentity: identityOf(servers) };
}

/** The PEM certificates of `path`, for tls:// servers; throws BAD_OPTION or IO_ERROR saying what to do. */
function readCaFile(path: string, servers: ServerList): string {
  if (!servers.tls) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `a TLS authority (${path}) is given for servers that do not use TLS: write them tls://HOST:4222`,
    );
  }
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `cannot read the NATS TLS authority file ${path}: ${describeError(err)}; check the path and that this user may read it`,
      { cause: err },
    );
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${path} holds no PEM certificate: give the authority's certificate (-----BEGIN CERTIFICATE-----)`,
    );
  }
  return pem;
}

export class BusConnection {
  private nc: NatsConnection | null = null;
  private up = false;
  private closing = false;
  private error: string | null = null;
  private downSince = Date.now();
  private readonly wakeUp = new WakeUp();
  private readonly readyWaiters = new WakeUp();
  private readonly loop: Promise<void>;
  private readonly servers: ServerList;
  private readonly connectOptions: NodeConnectionOptions;

  private constructor(
    servers: ServerList,
    authenticator: Authenticator | null,
    private readonly credentials: string,
    name: string,
    private readonly logger: Logger,
    private readonly maxBackoffMs: number,
    ca: string | null,
  ) {
    this.servers = servers;
    this.connectOptions = {
      servers: servers.hosts,
      name,
      ...(authenticator === null ? {} : { authenticator }),
      ...(servers.tls ? { tls: tlsOptions(servers, ca) } : {}),
      timeout: 5000,
      maxReconnectAttempts: -1,
      // The longer the server has been gone, the longer between attempts, up to the cap.
      reconnectDelayHandler: () => this.reconnectDelay(),
      reconnectJitter: 100,
      pingInterval: 20_000,
    };
    this.loop = this.run();
  }

  /**
   * Checks the URLs and credentials (throwing a FlowTrackError for a bad URL or an unreadable
   * seed or creds file) and starts connecting in the background; returns at once.
   */
  static open(options: BusConnectionOptions): BusConnection {
    const servers = parseServerUrls(options.servers);
    const { authenticator, shown } = authenticatorFor(options.auth, servers.urlCredentials);
    const maxBackoffMs = options.maxBackoffMs ?? 5000;
    if (!Number.isFinite(maxBackoffMs) || maxBackoffMs < 100) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `maxBackoffMs must be at least 100, not ${maxBackoffMs}`,
      );
    }
    const ca = options.tlsCaFile === undefined ? null : readCaFile(options.tlsCaFile, servers);
    return new BusConnection(servers, authenticator, shown, options.name, options.logger, maxBackoffMs, ca);
  }

  /** True while connected to a server. */
  get connected(): boolean {
    return this.up;
  }

  /** The live connection, or null while down. */
  get current(): NatsConnection | null {
    return this.up ? this.nc : null;
  }

  /** Why the last attempt or the connection failed (null while all is well). */
  get lastError(): string | null {
    return this.error;
  }

  /** The servers, as they can be shown. */
  get shownServers(): readonly string[] {
    return this.servers.shown;
  }

  /** Waits at most `timeoutMs` for a live connection; null when none came or the connection is closing. */
  async ready(timeoutMs: number): Promise<NatsConnection | null> {
    if (this.isClosing()) return null;
    if (this.current === null) await this.readyWaiters.wait(timeoutMs);
    return this.isClosing() ? null : this.current;
  }

  /** Stops reconnecting and closes the connection (pending messages are flushed, within 2 s). */
  async close(): Promise<void> {
    if (this.isClosing()) return this.loop;
    this.closing = true;
    this.wakeUp.wake();
    this.readyWaiters.wake();
    const nc = this.nc;
    if (nc !== null) {
      await withTimeout(this.up ? nc.flush().catch(() => undefined) : Promise.resolve(), 2000);
      await withTimeout(
        nc.close().catch(() => undefined),
        2000,
      );
    }
    await withTimeout(this.loop, 5000);
  }

  /** A method, not the field: the loops read it after awaits, where TypeScript would keep a stale narrowing. */
  private isClosing(): boolean {
    return this.closing;
  }

  private reconnectDelay(): number {
    return Math.min(this.maxBackoffMs, Math.max(250, (Date.now() - this.downSince) / 4));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.isClosing()) {
      try {
        const nc = await connect(this.connectOptions);
        if (this.isClosing()) {
          await nc.close();
          break;
        }
        failures = 0;
        this.attach(nc);
        const closedWith = await nc.closed();
        this.nc = null;
        this.markDown();
        if (!this.isClosing()) {
          if (closedWith instanceof Error) this.noteError(closedWith);
          this.logger.warn(
            { servers: this.servers.shown, err: this.error },
            'the NATS client gave up on its connection; starting a new one',
          );
        }
      } catch (err) {
        failures++;
        this.noteError(err);
        // The first failure is worth a warning; the rest of an outage only at debug level.
        const log = failures === 1 ? this.logger.warn.bind(this.logger) : this.logger.debug.bind(this.logger);
        log({ servers: this.servers.shown, err: this.error }, 'cannot connect to NATS; retrying');
      }
      if (!this.isClosing()) await this.wakeUp.wait(backoffMs(failures, this.maxBackoffMs));
    }
  }

  private attach(nc: NatsConnection): void {
    this.nc = nc;
    this.up = true;
    this.error = null;
    this.logger.info({ server: nc.getServer(), servers: this.servers.shown }, 'connected to NATS');
    this.readyWaiters.wake();
    void this.watch(nc);
  }

  /** Follows the client's status until it closes. */
  private async watch(nc: NatsConnection): Promise<void> {
    try {
      for await (const status of nc.status()) {
        switch (status.type) {
          case 'disconnect':
            this.markDown();
            this.logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
            break;
          case 'reconnect':
            this.up = true;
            this.error = null;
            this.logger.info({ server: status.server }, 'reconnected to NATS');
            this.readyWaiters.wake();
            break;
          case 'error':
            // A permission refused fails the one operation, which reports it; the connection is fine.
            if (status.error instanceof errors.PermissionViolationError) {
              this.logger.warn({ err: describeError(status.error) }, 'the NATS server refused an operation');
            } else {
              this.noteError(status.error);
              this.logger.warn({ err: this.error }, 'NATS reported an error');
            }
            break;
          default:
            break;
        }
      }
    } catch (err) {
      this.noteError(err);
    }
  }

  private markDown(): void {
    if (this.up) this.downSince = Date.now();
    this.up = false;
  }

  private noteError(err: unknown): void {
    const refused =
      err instanceof errors.AuthorizationError ||
      err instanceof errors.UserAuthenticationExpiredError ||
      /authorization violation|authentication/i.test(describeError(err));
    this.error = refused
      ? `the NATS server refused ${this.credentials}: ${describeError(err)}; check the credentials it was given`
      : describeError(err);
  }
}

async function withTimeout(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work,
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}
