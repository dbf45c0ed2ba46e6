/**
 * A private Ethernet LAN of Linux network namespaces for the live attack tests: one namespace
 * holds a bridge, each host namespace has one veth (`eth0`) into it, and tests run real tools
 * (servers, tcpdump, nmap, hping3, curl) inside those namespaces.
 *
 * Must never: touch the root namespace (no interface, address or route there), give a namespace
 * a default route (only the LAN's own subnet is reachable, so nothing can leave the machine), or
 * leave a namespace or a process behind: every command has a time limit, `Lan.remove` ends every
 * process it started and every process still inside its namespaces, then deletes them, and
 * `removeStaleLans` clears namespaces a killed earlier run left.
 */

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';

/** Every namespace this helper creates is named `ftlive-<pid>-<random>-<role>`. */
export const NETNS_PREFIX = 'ftlive-';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Hard limit; the command is killed after it (default 30 s). */
  timeoutSeconds?: number;
  /** Resolve with the exit code instead of rejecting when it is not 0. */
  allowFailure?: boolean;
}

/** Runs `cmd` (no shell) with a time limit; rejects on a non-zero exit unless `allowFailure`. */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
  const seconds = options.timeoutSeconds ?? 30;
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      args,
      { timeout: (seconds + 5) * 1000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        if (error && !options.allowFailure) {
          reject(new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.trim()}`, { cause: error }));
        } else {
          resolve({ code, stdout, stderr });
        }
      },
    );
  });
}

/** The `ip netns exec` prefix, with coreutils `timeout` so the command ends even if we crash. */
function inNetns(ns: string, seconds: number, cmd: string, args: readonly string[]): string[] {
  return ['netns', 'exec', ns, 'timeout', String(seconds), cmd, ...args];
}

/** Runs `cmd` inside namespace `ns` and waits for it to end (at most `timeoutSeconds`). */
export function netnsExec(
  ns: string,
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<CommandResult> {
  const seconds = options.timeoutSeconds ?? 30;
  return run('ip', inNetns(ns, seconds, cmd, args), { ...options, timeoutSeconds: seconds });
}

/** A process running in the background inside a namespace. */
export class BackgroundProcess {
  readonly exited: Promise<number>;
  private output = '';

  constructor(readonly child: ChildProcess) {
    const collect = (chunk: Buffer): void => {
      // Only the start matters (readiness lines, errors); keep memory bounded.
      if (this.output.length < 65536) this.output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    this.exited = new Promise((resolve) => {
      child.on('error', () => resolve(-1));
      child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : -1)));
    });
  }

  /** Standard output and error so far (the first 64 kB). */
  get text(): string {
    return this.output;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once the output matches `pattern`; rejects when the process ends first or on timeout. */
  async waitFor(pattern: RegExp, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.output)) {
      if (!this.running) throw new Error(`process ended before printing ${pattern}: ${this.output}`);
      if (Date.now() > deadline) throw new Error(`no ${pattern} within ${timeoutMs} ms: ${this.output}`);
      await sleep(20);
    }
  }

  /** Sends `signal`, waits up to `graceMs` for the exit, then kills it. Returns the exit code. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<number> {
    if (this.running) this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `everyMs` until it gives a value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | null>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export interface LanHostSpec {
  /** Short name (letters), part of the namespace and interface names. */
  role: string;
  /** IPv4 addresses on its `eth0`, first one primary; all inside the LAN's /24. */
  addresses: readonly string[];
}

export interface LanHost {
  role: string;
  ns: string;
  iface: string;
  address: string;
  addresses: readonly string[];
}

/** True while process `pid` exists (signal 0 only checks). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function listNamespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((name) => name.startsWith(NETNS_PREFIX));
}

/** Ends every process inside `ns` (by pid) and deletes it. */
async function deleteNamespace(ns: string): Promise<void> {
  const { stdout } = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
  const pids = stdout.split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  await run('ip', ['netns', 'delete', ns], { allowFailure: true });
}

/** Deletes namespaces left by earlier runs of this helper whose process no longer exists. */
export async function removeStaleLans(): Promise<string[]> {
  const stale = (await listNamespaces()).filter((name) => {
    const pid = Number(/^ftlive-(\d+)-/.exec(name)?.[1]);
    return Number.isInteger(pid) && pid !== process.pid && !isAlive(pid);
  });
  for (const ns of stale) await deleteNamespace(ns);
  return stale;
}

/** A bridged LAN of namespaces; `remove()` tears all of it down. */
export class Lan {
  readonly hosts = new Map<string, LanHost>();
  private readonly processes = new Set<BackgroundProcess>();
  private readonly namespaces: string[] = [];

  private constructor(readonly id: string) {}

  /** Namespace name for `role` in this LAN. */
  nsName(role: string): string {
    return `${NETNS_PREFIX}${this.id}-${role}`;
  }

  get bridgeNs(): string {
    return this.nsName('br');
  }

  /**
   * Builds the LAN: a bridge namespace and one namespace per host, each with a veth into the
   * bridge and only its /24's connected route. Removes what it built if any step fails.
   */
  static async create(hosts: readonly LanHostSpec[]): Promise<Lan> {
    const lan = new Lan(`${process.pid}-${randomBytes(3).toString('hex')}`);
    try {
      await lan.addNamespace(lan.bridgeNs);
      const br = lan.bridgeNs;
      await run('ip', ['-n', br, 'link', 'set', 'lo', 'up']);
      await run('ip', ['-n', br, 'link', 'add', 'br0', 'type', 'bridge']);
      await run('ip', ['-n', br, 'link', 'set', 'br0', 'up']);
      for (const spec of hosts) {
        const ns = lan.nsName(spec.role);
        await lan.addNamespace(ns);
        // The veth is created inside the bridge namespace with its peer straight in the host's:
        // neither end ever exists in the root namespace.
        const port = `p-${spec.role}`.slice(0, 15);
        await run('ip', ['-n', br, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
        await run('ip', ['-n', br, 'link', 'set', port, 'master', 'br0', 'up']);
        await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
        for (const address of spec.addresses) {
          await run('ip', ['-n', ns, 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
        }
        await run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
        const { stdout } = await run('ip', ['-n', ns, 'route', 'show', 'default']);
        if (stdout.trim() !== '') throw new Error(`namespace ${ns} has a default route: ${stdout}`);
        const address = spec.addresses[0];
        if (address === undefined) throw new Error(`host ${spec.role} needs an address`);
        lan.hosts.set(spec.role, { role: spec.role, ns, iface: 'eth0', address, addresses: spec.addresses });
      }
    } catch (error) {
      await lan.remove();
      throw error;
    }
    return lan;
  }

  private async addNamespace(ns: string): Promise<void> {
    await run('ip', ['netns', 'add', ns]);
    this.namespaces.push(ns);
  }

  host(role: string): LanHost {
    const host = this.hosts.get(role);
    if (!host) throw new Error(`no host ${role} in this LAN`);
    return host;
  }

  /** Runs `cmd` in `role`'s namespace and waits for it (see netnsExec). */
  exec(role: string, cmd: string, args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return netnsExec(this.host(role).ns, cmd, args, options);
  }

  /** Starts `cmd` in `role`'s namespace in the background; it is killed after `timeoutSeconds` at the latest. */
  /**
   * An HTTP request with curl from `role`'s namespace (5 s at most): the status, and the body
   * parsed as JSON (null when empty, or when `out` took it to a file).
   */
  async curl(
    role: string,
    url: string,
    options: { method?: string; body?: unknown; token?: string; out?: string } = {},
  ): Promise<{ status: number; body: unknown }> {
    const args = ['-s', '-m', '5', '-w', '\n%{http_code}', '-X', options.method ?? 'GET'];
    if (options.token) args.push('-H', `authorization: Bearer ${options.token}`);
    if (options.body !== undefined)
      args.push('-H', 'content-type: application/json', '--data', JSON.stringify(options.body));
    if (options.out) args.push('-o', options.out);
    const { stdout } = await this.exec(role, 'curl', [...args, url], { timeoutSeconds: 10 });
    const cut = stdout.lastIndexOf('\n');
    const text = stdout.slice(0, cut);
    return {
      status: Number(stdout.slice(cut + 1)),
      body: text === '' ? null : (JSON.parse(text) as unknown),
    };
  }

  start(role: string, cmd: string, args: readonly string[], timeoutSeconds: number): BackgroundProcess {
    const child = spawn('ip', inNetns(this.host(role).ns, timeoutSeconds, cmd, args), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new BackgroundProcess(child);
    this.processes.add(proc);
    void proc.exited.then(() => this.processes.delete(proc));
    return proc;
  }

  /**
   * Starts tcpdump on `role`'s interface writing `file` (128-byte snap length: headers only,
   * written packet by packet) and resolves once it is listening. Stop it with
   * `stop('SIGINT')` so it flushes the file before the capture is read.
   */
  async capture(role: string, file: string, timeoutSeconds = 120): Promise<BackgroundProcess> {
    const { iface } = this.host(role);
    const tcpdump = this.start(
      role,
      'tcpdump',
      // --immediate-mode: each packet reaches the file at once. Without it libpcap hands packets over
      // in blocks retired up to a second later, and the SIGINT that ends the capture lost the last
      // short connection (the eighth page load of the live test, in one run of three).
      ['-i', iface, '-n', '-U', '--immediate-mode', '-s', '128', '-Z', 'root', '-w', file],
      timeoutSeconds,
    );
    await tcpdump.waitFor(/listening on/);
    return tcpdump;
  }

  /** Ends every process this LAN started and every process left in its namespaces, then deletes them. */
  async remove(): Promise<void> {
    // SIGTERM reaches the command through `timeout`; whatever survives is killed by pid below.
    await Promise.all([...this.processes].map((p) => p.stop('SIGTERM', 2000)));
    for (const ns of this.namespaces.reverse()) await deleteNamespace(ns);
    this.namespaces.length = 0;
  }
}
