/**
 * The real `flowtrack serve` CLI (the built dist/cli/main.js) in one namespace of a test LAN
 * (./netns.ts), capturing on its eth0, as the netns tests of serve share it: a temporary data
 * dir, users made with `flowtrack user add`, serve started and waited for until tcpdump runs,
 * every user signed in, and the API called with curl from a namespace of the LAN.
 *
 * Must never leave anything behind: `stop()` (call it in afterAll) ends serve, removes the LAN and
 * deletes the directory, whatever `start()` got to before it failed.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GOOD_PASSWORD } from './api-server.js';
import { Lan, removeStaleLans, waitFor, type BackgroundProcess } from './netns.js';
import { CLI } from './serve-process.js';

export interface NetnsServeOptions {
  /** Prefix of the temporary directory's name, e.g. 'flowtrack-serve-live-'. */
  tmpPrefix: string;
  /** The LAN's hosts: role to its address (or addresses, first one primary), see `Lan.create`. */
  hosts: Readonly<Record<string, string | readonly string[]>>;
  /** The host whose namespace runs serve (capturing on its eth0). */
  serveOn: string;
  /** FLOWTRACK_SERVER_PORT: each namespace has its own port space, so no clash with the host. */
  port: number;
  /**
   * The host whose namespace curl calls the API from. Serve's own (the default): at 127.0.0.1, where
   * serve listens by default. Another: serve listens on every address (FLOWTRACK_SERVER_HOST=0.0.0.0)
   * and is called at its LAN address, so the API sees the caller's own address.
   */
  apiFrom?: string;
  /** Settings besides the data dir, port and host, e.g. FLOWTRACK_FIREWALL_MODE. */
  env?: Readonly<Record<string, string>>;
  /** Users (name to role) made before serve starts and signed in once it runs; `api` calls as the first. */
  users: Readonly<Record<string, string>>;
  /** Runs once the LAN and the users exist, before serve starts (a service serve must find running). */
  beforeServe?: (lan: Lan) => Promise<void>;
}

export interface ApiOptions {
  method?: string;
  body?: unknown;
  /** A file curl writes the body to (the answer's body is then null). */
  out?: string;
  /** The signed-in user to call as (default the first of `users`). */
  as?: string;
}

/** `flowtrack serve` in a namespace of a test LAN: `start()` in beforeAll, `stop()` in afterAll. */
export class NetnsServe {
  private lanValue: Lan | undefined;
  private serveValue: BackgroundProcess | undefined;
  private dirValue = '';
  private readonly tokens = new Map<string, string>();

  constructor(private readonly options: NetnsServeOptions) {}

  /** The LAN (after `start()`). */
  get lan(): Lan {
    if (!this.lanValue) throw new Error('no LAN: start() first');
    return this.lanValue;
  }

  /** serve as it runs now (a new process after `startServe()`). */
  get serve(): BackgroundProcess {
    if (!this.serveValue) throw new Error('serve not started: start() first');
    return this.serveValue;
  }

  /** The temporary directory, deleted by `stop()`; the data dir is its `data`. */
  get dir(): string {
    if (!this.dirValue) throw new Error('no directory: start() first');
    return this.dirValue;
  }

  get dataDir(): string {
    return join(this.dir, 'data');
  }

  /** The access token of signed-in user `name`. */
  token(name: string): string {
    const token = this.tokens.get(name);
    if (token === undefined) throw new Error(`${name} is not signed in`);
    return token;
  }

  /** The API through curl from `apiFrom`'s namespace, as the first user unless `as` names another. */
  readonly api = (path: string, options: ApiOptions = {}): Promise<{ status: number; body: unknown }> => {
    const { as, ...request } = options;
    const token = this.token(as ?? this.firstUser);
    return this.lan.curl(this.apiFrom, `${this.apiUrl}${path}`, { ...request, token });
  };

  /** Builds the LAN, makes the users, runs `beforeServe`, then starts serve (see `startServe`). */
  async start(): Promise<void> {
    await removeStaleLans();
    this.dirValue = mkdtempSync(join(tmpdir(), this.options.tmpPrefix));
    this.lanValue = await Lan.create(
      Object.entries(this.options.hosts).map(([role, address]) => ({
        role,
        addresses: typeof address === 'string' ? [address] : address,
      })),
    );
    for (const [name, role] of Object.entries(this.options.users)) {
      execFileSync(process.execPath, [CLI, 'user', 'add', name, '--role', role, '--password-stdin'], {
        // In the store serve will use (a PostgreSQL one when the settings name it).
        env: {
          ...process.env,
          FLOWTRACK_DATA_DIR: this.dataDir,
          ...(this.options.env?.FLOWTRACK_STORE_URL !== undefined && {
            FLOWTRACK_STORE_URL: this.options.env.FLOWTRACK_STORE_URL,
          }),
        },
        input: `${GOOD_PASSWORD}\n`,
      });
    }
    await this.options.beforeServe?.(this.lanValue);
    await this.startServe();
  }

  /**
   * Starts serve (again, once a test stopped it) and resolves when it captures on eth0, every
   * user is signed in anew and the capture status says tcpdump is running.
   */
  async startServe(): Promise<void> {
    if (this.serveValue?.running) throw new Error('serve is still running');
    const env = Object.entries({
      ...this.options.env,
      FLOWTRACK_DATA_DIR: this.dataDir,
      FLOWTRACK_SERVER_PORT: String(this.options.port),
      ...(this.calledFromLan ? { FLOWTRACK_SERVER_HOST: '0.0.0.0' } : {}),
    }).map(([name, value]) => `${name}=${value}`);
    this.serveValue = this.lan.start(
      this.options.serveOn,
      'env',
      [...env, process.execPath, CLI, 'serve', '-i', 'eth0'],
      300,
    );
    await this.serveValue.waitFor(/capturing on eth0/, 20_000);
    this.tokens.clear();
    for (const name of Object.keys(this.options.users)) {
      const login = await this.lan.curl(this.apiFrom, `${this.apiUrl}/api/auth/login`, {
        method: 'POST',
        body: { username: name, password: GOOD_PASSWORD },
      });
      const token = (login.body as { accessToken?: unknown } | null)?.accessToken;
      if (typeof token !== 'string')
        throw new Error(`${name} could not sign in (${login.status}): ${JSON.stringify(login.body)}`);
      this.tokens.set(name, token);
    }
    await waitFor(
      'tcpdump running',
      async () => {
        const capture = (await this.api('/api/capture')).body as { interfaces: { state: string }[] };
        return capture.interfaces[0]?.state === 'running' ? true : null;
      },
      10_000,
    );
  }

  /** Ends serve, removes the LAN and deletes the directory: each even when one before it failed. */
  async stop(): Promise<void> {
    const serve = this.serveValue;
    const lan = this.lanValue;
    const dir = this.dirValue;
    this.serveValue = undefined;
    this.lanValue = undefined;
    this.dirValue = '';
    try {
      await serve?.stop('SIGTERM', 10_000);
    } finally {
      try {
        await lan?.remove();
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  private get apiFrom(): string {
    return this.options.apiFrom ?? this.options.serveOn;
  }

  private get calledFromLan(): boolean {
    return this.apiFrom !== this.options.serveOn;
  }

  private get apiUrl(): string {
    const host = this.calledFromLan ? this.lan.host(this.options.serveOn).address : '127.0.0.1';
    return `http://${host}:${this.options.port}`;
  }

  private get firstUser(): string {
    const [first] = Object.keys(this.options.users);
    if (first === undefined) throw new Error('NetnsServe needs at least one user');
    return first;
  }
}
