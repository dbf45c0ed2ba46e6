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

import { FlowTrackError } from '../util/errors.js';
import {
  checkPort,
  parseSource,
  runTool,
  runToolWithFile,
  secondsLeft,
  type BackendOptions,
  type BlockedSource,
  type FirewallBackend,
  type FirewallState,
} from './firewall-backend.js';

export interface NftablesOptions extends BackendOptions {
  /** The table's name (default 'flowtrack'). */
  table?: string;
}

const INSTALL = 'install nftables (scripts/setup.sh does)';

type NftObject = Record<string, unknown>;

const PORT_SETS = { tcp: 'closed_tcp', udp: 'closed_udp' } as const;

export class NftablesFirewall implements FirewallBackend {
  readonly name = 'nftables';
  private readonly prefix: readonly string[];
  private readonly table: string;
  private readonly now: () => number;

  constructor(options: NftablesOptions = {}) {
    this.prefix = options.prefix ?? [];
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
      listed = await runTool(this.prefix, 'nft', ['-j', 'list', 'table', 'inet', this.table], INSTALL);
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
      const seconds = secondsLeft(expiresAt, now);
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
    await runToolWithFile(this.prefix, 'nft', ['-j', '-f'], JSON.stringify({ nftables: commands }), INSTALL);
  }
}

function match(left: NftObject, right: string): NftObject {
  return { match: { op: '==', left, right } };
}

function rule(t: { family: string; table: string }, chain: string, expr: NftObject[]): NftObject {
  return { add: { rule: { ...t, chain, expr } } };
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
