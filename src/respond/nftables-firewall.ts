/**
 * The nftables backend: everything FlowTrack enforces lives in its own table (`inet flowtrack`),
 * so it never touches a rule it did not create and `flush()` removes all of its own at once.
 * Blocked sources are elements of two sets (IPv4, IPv6; addresses and prefixes, each with its
 * own timeout, so the kernel lifts an expired block by itself); closed ports are elements of two
 * port sets. Two chains, on the input and forward hooks just before the usual filter priority,
 * drop packets from blocked sources, and the input chain refuses connections to closed ports (a
 * TCP reset, an ICMP port unreachable for UDP). Every change is one `nft -j -f FILE` transaction:
 * it applies whole or not at all.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** A source whose packets are dropped until `expiresAt` (epoch ms), or for good when null. */
export interface BlockedSource {
  /** An address or a prefix: 203.0.113.7, 198.51.100.0/24, 2001:db8::/64. */
  address: string;
  expiresAt: number | null;
}

export interface ClosedPort {
  protocol: 'tcp' | 'udp';
  port: number;
}

/** What the firewall enforces. */
export interface FirewallState {
  blocked: BlockedSource[];
  closedPorts: ClosedPort[];
}

export interface NftablesOptions {
  /** The command and its first arguments (default ['nft']; tests run it in a namespace). */
  command?: readonly string[];
  /** The table's name (default 'flowtrack'). */
  table?: string;
  /** Wall clock, epoch milliseconds. */
  now?: () => number;
}

/** A parsed source: family, address and prefix length. */
interface Source {
  family: 4 | 6;
  addr: string;
  len: number;
}

type NftObject = Record<string, unknown>;

const PORT_SETS = { tcp: 'closed_tcp', udp: 'closed_udp' } as const;

/** Parses an address or prefix; throws BAD_REQUEST saying what is wrong with it. */
export function parseSource(text: string): Source {
  const [addr = '', len, ...rest] = text.trim().split('/');
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : null;
  if (family === null || rest.length > 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `${JSON.stringify(text)} is not an IP address or prefix: write it like 203.0.113.7, 198.51.100.0/24 or 2001:db8::/64`,
    );
  }
  const max = family === 4 ? 32 : 128;
  const bits = len === undefined ? max : Number(len);
  if (!/^\d{1,3}$/.test(len ?? String(max)) || bits < 0 || bits > max) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `the prefix length of ${JSON.stringify(text)} must be a whole number from 0 to ${max}`,
    );
  }
  return { family, addr, len: bits };
}

export class NftablesFirewall {
  private readonly command: readonly string[];
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: NftablesOptions = {}) {
    this.command = options.command ?? ['nft'];
    this.table = options.table ?? 'flowtrack';
    this.now = options.now ?? Date.now;
  }

  /** Replaces the whole table with `state` in one transaction (start-up, reconciliation). */
  async apply(state: FirewallState): Promise<void> {
    const t = { family: 'inet', table: this.table };
    const commands: NftObject[] = [
      // Added first so that the delete finds it: the table is rebuilt from nothing.
      { add: { table: { family: 'inet', name: this.table } } },
      { delete: { table: { family: 'inet', name: this.table } } },
      { add: { table: { family: 'inet', name: this.table } } },
      { add: { set: { ...t, name: 'block_v4', type: 'ipv4_addr', flags: ['interval', 'timeout'] } } },
      { add: { set: { ...t, name: 'block_v6', type: 'ipv6_addr', flags: ['interval', 'timeout'] } } },
      { add: { set: { ...t, name: PORT_SETS.tcp, type: 'inet_service' } } },
      { add: { set: { ...t, name: PORT_SETS.udp, type: 'inet_service' } } },
    ];
    for (const hook of ['input', 'forward']) {
      commands.push({
        add: { chain: { ...t, name: hook, type: 'filter', hook, prio: -10, policy: 'accept' } },
      });
      for (const [protocol, set] of [
        ['ip', 'block_v4'],
        ['ip6', 'block_v6'],
      ] as const) {
        commands.push(
          rule(t, hook, [match({ payload: { protocol, field: 'saddr' } }, `@${set}`), { drop: null }]),
        );
      }
    }
    commands.push(
      rule(t, 'input', [
        match({ payload: { protocol: 'tcp', field: 'dport' } }, `@${PORT_SETS.tcp}`),
        { reject: { type: 'tcp reset' } },
      ]),
      rule(t, 'input', [
        match({ payload: { protocol: 'udp', field: 'dport' } }, `@${PORT_SETS.udp}`),
        { reject: null },
      ]),
    );
    commands.push(...this.blockElements('add', state.blocked));
    for (const protocol of ['tcp', 'udp'] as const) {
      const ports = state.closedPorts.filter((p) => p.protocol === protocol).map((p) => checkPort(p.port));
      if (ports.length > 0)
        commands.push({ add: { element: { ...t, name: PORT_SETS[protocol], elem: ports } } });
    }
    await this.run(commands);
  }

  /** Adds blocks to the table (which `apply` must have made). */
  async block(sources: readonly BlockedSource[]): Promise<void> {
    await this.run(this.blockElements('add', sources));
  }

  /** Lifts the blocks of these addresses or prefixes, written as they were blocked. */
  async unblock(addresses: readonly string[]): Promise<void> {
    await this.run(
      this.blockElements(
        'delete',
        addresses.map((address) => ({ address, expiresAt: null })),
      ),
    );
  }

  /** What the kernel enforces now (expired blocks are gone from it); null when there is no table. */
  async read(): Promise<FirewallState | null> {
    let listed: string;
    try {
      listed = await this.exec(['-j', 'list', 'table', 'inet', this.table]);
    } catch (err) {
      if (err instanceof FlowTrackError && /No such file or directory/i.test(err.message)) return null;
      throw err;
    }
    const state: FirewallState = { blocked: [], closedPorts: [] };
    const now = this.now();
    for (const item of (JSON.parse(listed) as { nftables: NftObject[] }).nftables) {
      const set = item.set as { name: string; elem?: unknown[] } | undefined;
      if (!set) continue;
      for (const element of set.elem ?? []) {
        if (set.name === PORT_SETS.tcp || set.name === PORT_SETS.udp) {
          state.closedPorts.push({
            protocol: set.name === PORT_SETS.tcp ? 'tcp' : 'udp',
            port: Number(element),
          });
        } else {
          state.blocked.push(blockedSourceOf(element, now));
        }
      }
    }
    return state;
  }

  /** Removes FlowTrack's table and with it every rule FlowTrack made (nothing else). */
  async flush(): Promise<void> {
    await this.run([
      { add: { table: { family: 'inet', name: this.table } } },
      { delete: { table: { family: 'inet', name: this.table } } },
    ]);
  }

  private blockElements(verb: 'add' | 'delete', sources: readonly BlockedSource[]): NftObject[] {
    const now = this.now();
    const bySet: Record<'block_v4' | 'block_v6', unknown[]> = { block_v4: [], block_v6: [] };
    for (const { address, expiresAt } of sources) {
      const source = parseSource(address);
      const full = source.len === (source.family === 4 ? 32 : 128);
      const val = full ? source.addr : { prefix: { addr: source.addr, len: source.len } };
      // The kernel counts whole seconds; a block never ends early for being rounded.
      const seconds = expiresAt === null ? null : Math.max(1, Math.ceil((expiresAt - now) / 1000));
      bySet[source.family === 4 ? 'block_v4' : 'block_v6'].push(
        verb === 'add' && seconds !== null ? { elem: { val, timeout: seconds } } : val,
      );
    }
    return Object.entries(bySet)
      .filter(([, elem]) => elem.length > 0)
      .map(([name, elem]) => ({ [verb]: { element: { family: 'inet', table: this.table, name, elem } } }));
  }

  private async run(commands: NftObject[]): Promise<void> {
    if (commands.length === 0) return;
    // Through a file of our own: nft cannot open a socket as its standard input (Node's pipes to
    // a child are sockets), and a command-line argument is limited to 128 KiB.
    const dir = await mkdtemp(join(tmpdir(), 'flowtrack-nft-'));
    try {
      const file = join(dir, 'changes.json');
      await writeFile(file, JSON.stringify({ nftables: commands }), { mode: 0o600 });
      await this.exec(['-j', '-f', file]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private exec(args: readonly string[]): Promise<string> {
    const [program = 'nft', ...first] = this.command;
    return new Promise((resolve, reject) => {
      const child = spawn(program, [...first, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
      child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
      child.on('error', (err) =>
        reject(
          new FlowTrackError(
            ErrorCode.IO_ERROR,
            `cannot run ${program} (${err.message}): install nftables (scripts/setup.sh does) or choose the dry-run firewall`,
          ),
        ),
      );
      child.on('close', (code) => {
        if (code === 0) resolve(stdout);
        else
          reject(
            new FlowTrackError(
              ErrorCode.IO_ERROR,
              `nftables refused the change (${stderr.trim().split('\n')[0] ?? `status ${String(code)}`}): FlowTrack needs root or cap_net_admin to manage its firewall table`,
            ),
          );
      });
    });
  }
}

function match(left: NftObject, right: string): NftObject {
  return { match: { op: '==', left, right } };
}

function rule(t: { family: string; table: string }, chain: string, expr: NftObject[]): NftObject {
  return { add: { rule: { ...t, chain, expr } } };
}

function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `port ${String(port)} is not a port number from 1 to 65535`,
    );
  }
  return port;
}

/** A set element as `nft -j list` prints it, back as a BlockedSource. */
function blockedSourceOf(element: unknown, now: number): BlockedSource {
  const e = element as
    | string
    | { prefix: { addr: string; len: number } }
    | { elem: { val: string | { prefix: { addr: string; len: number } }; expires?: number } };
  const inner = typeof e === 'object' && 'elem' in e ? e.elem : null;
  const val = inner ? inner.val : (e as string | { prefix: { addr: string; len: number } });
  const address = typeof val === 'string' ? val : `${val.prefix.addr}/${val.prefix.len}`;
  const expires = inner?.expires;
  return { address, expiresAt: expires === undefined ? null : now + expires * 1000 };
}
