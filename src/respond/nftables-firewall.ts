/**
 * The nftables backend: everything FlowTrack enforces lives in its own table (`inet flowtrack`),
 * so it never touches a rule it did not create and `flush()` removes all of its own at once.
 * Blocked sources are elements of four sets: IPv4 and IPv6, each for any interface and limited to
 * one (the address or prefix joined to an interface name); every element has its own timeout, so
 * the kernel lifts an expired block by itself. Closed ports are elements of four port sets (TCP,
 * UDP; any interface, or joined to one). Two chains, on the input and forward hooks just before
 * the usual filter priority, drop packets from blocked sources, and the input chain refuses
 * connections to closed ports (a TCP reset, an ICMP port unreachable for UDP). Every change is one
 * `nft -j -f FILE` transaction: it applies whole or not at all.
 */

import { FlowTrackError } from '../util/errors.js';
import {
  checkInterface,
  checkPort,
  parseSource,
  runTool,
  runToolWithFile,
  secondsLeft,
  sourceKey,
  type BackendOptions,
  type BlockedSource,
  type ClosedPort,
  type FirewallBackend,
  type FirewallState,
} from './firewall-backend.js';

export interface NftablesOptions extends BackendOptions {
  /** The table's name (default 'flowtrack'). */
  table?: string;
}

const INSTALL = 'install nftables (scripts/setup.sh does)';

type NftObject = Record<string, unknown>;

/** An address or prefix as nft's JSON writes it. */
type NftAddress = string | { prefix: { addr: string; len: number } };

/** The block sets by family, for any interface and limited to one. */
const BLOCK_SETS = {
  4: { any: 'block_v4', on: 'block_if_v4' },
  6: { any: 'block_v6', on: 'block_if_v6' },
} as const;
const PORT_SETS = {
  tcp: { any: 'closed_tcp', on: 'closed_if_tcp' },
  udp: { any: 'closed_udp', on: 'closed_if_udp' },
} as const;

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
    // Interval and timeout on a concatenated type (`ipv4_addr . ifname`) need the kernel's
    // concatenated-range set (Linux 5.6, nft 0.9.4); tried with nft 1.0.6 on Linux 6.18.
    const blockSet = (name: string, type: string | string[]): NftObject => ({
      add: { set: { ...t, name, type, flags: ['interval', 'timeout'] } },
    });
    const commands: NftObject[] = [
      // Added first so that the delete finds it: the table is rebuilt from nothing.
      { add: { table: { family: 'inet', name: this.table } } },
      { delete: { table: { family: 'inet', name: this.table } } },
      { add: { table: { family: 'inet', name: this.table } } },
      blockSet(BLOCK_SETS[4].any, 'ipv4_addr'),
      blockSet(BLOCK_SETS[6].any, 'ipv6_addr'),
      blockSet(BLOCK_SETS[4].on, ['ipv4_addr', 'ifname']),
      blockSet(BLOCK_SETS[6].on, ['ipv6_addr', 'ifname']),
    ];
    for (const sets of Object.values(PORT_SETS)) {
      commands.push(
        { add: { set: { ...t, name: sets.any, type: 'inet_service' } } },
        { add: { set: { ...t, name: sets.on, type: ['ifname', 'inet_service'] } } },
      );
    }
    const iifname = { meta: { key: 'iifname' } };
    for (const hook of ['input', 'forward']) {
      commands.push({
        add: { chain: { ...t, name: hook, type: 'filter', hook, prio: -10, policy: 'accept' } },
      });
      for (const [protocol, sets] of [
        ['ip', BLOCK_SETS[4]],
        ['ip6', BLOCK_SETS[6]],
      ] as const) {
        const saddr = { payload: { protocol, field: 'saddr' } };
        commands.push(
          rule(t, hook, [match(saddr, `@${sets.any}`), { drop: null }]),
          rule(t, hook, [match({ concat: [saddr, iifname] }, `@${sets.on}`), { drop: null }]),
        );
      }
    }
    for (const protocol of ['tcp', 'udp'] as const) {
      const dport = { payload: { protocol, field: 'dport' } };
      const reject = protocol === 'tcp' ? { reject: { type: 'tcp reset' } } : { reject: null };
      commands.push(
        rule(t, 'input', [match(dport, `@${PORT_SETS[protocol].any}`), reject]),
        rule(t, 'input', [match({ concat: [iifname, dport] }, `@${PORT_SETS[protocol].on}`), reject]),
      );
    }
    commands.push(...this.blockElements('add', state.blocked), ...this.portElements(state.closedPorts));
    await this.run(commands);
  }

  /** Adds blocks to the table (which `apply` must have made). */
  async block(sources: readonly BlockedSource[]): Promise<void> {
    await this.run(this.blockElements('add', sources));
  }

  /**
   * Lifts the blocks of these addresses or prefixes on every interface. The blocks are read
   * first: the interfaces are not given, and deleting an element that is not there fails the
   * whole transaction.
   */
  async unblock(addresses: readonly string[]): Promise<void> {
    const wanted = new Set(addresses.map(sourceKey));
    const state = await this.read();
    if (state === null) return;
    const present = state.blocked.filter((b) => wanted.has(sourceKey(b.address)));
    // Each element is added (a no-op when it is there) before it is deleted, in the same
    // transaction: a block that expired since the listing would otherwise fail the delete.
    await this.run([
      ...this.blockElements(
        'add',
        present.map((b) => ({ ...b, expiresAt: null })),
      ),
      ...this.blockElements('delete', present),
    ]);
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
    const blockSets = new Map<string, boolean>([
      [BLOCK_SETS[4].any, false],
      [BLOCK_SETS[6].any, false],
      [BLOCK_SETS[4].on, true],
      [BLOCK_SETS[6].on, true],
    ]);
    const portSets = new Map<string, [ClosedPort['protocol'], boolean]>([
      [PORT_SETS.tcp.any, ['tcp', false]],
      [PORT_SETS.tcp.on, ['tcp', true]],
      [PORT_SETS.udp.any, ['udp', false]],
      [PORT_SETS.udp.on, ['udp', true]],
    ]);
    for (const item of (JSON.parse(listed) as { nftables: NftObject[] }).nftables) {
      const set = item.set as { name: string; elem?: unknown[] } | undefined;
      if (!set) continue;
      const onInterface = blockSets.get(set.name);
      const ports = portSets.get(set.name);
      for (const element of set.elem ?? []) {
        if (onInterface !== undefined) state.blocked.push(blockedSourceOf(element, onInterface, now));
        else if (ports) state.closedPorts.push(closedPortOf(element, ...ports));
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
    const bySet = new Map<string, unknown[]>();
    for (const { address, expiresAt, interface: on } of sources) {
      const source = parseSource(address);
      const full = source.len === (source.family === 4 ? 32 : 128);
      const addr: NftAddress = full ? source.addr : { prefix: { addr: source.addr, len: source.len } };
      const val = on === undefined ? addr : { concat: [addr, checkInterface(on)] };
      const seconds = verb === 'add' ? secondsLeft(expiresAt, now) : null;
      const name = BLOCK_SETS[source.family][on === undefined ? 'any' : 'on'];
      bySet.set(name, [
        ...(bySet.get(name) ?? []),
        seconds === null ? val : { elem: { val, timeout: seconds } },
      ]);
    }
    return this.elements(verb, bySet);
  }

  private portElements(ports: readonly ClosedPort[]): NftObject[] {
    const bySet = new Map<string, unknown[]>();
    for (const { protocol, port, interface: on } of ports) {
      const val = on === undefined ? checkPort(port) : { concat: [checkInterface(on), checkPort(port)] };
      const name = PORT_SETS[protocol][on === undefined ? 'any' : 'on'];
      bySet.set(name, [...(bySet.get(name) ?? []), val]);
    }
    return this.elements('add', bySet);
  }

  private elements(verb: 'add' | 'delete', bySet: Map<string, unknown[]>): NftObject[] {
    return [...bySet].map(([name, elem]) => ({
      [verb]: { element: { family: 'inet', table: this.table, name, elem } },
    }));
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

/** A set element as `nft -j list` prints it: its value, and its seconds left when it has a timeout. */
function unwrap(element: unknown): { val: unknown; expires: number | undefined } {
  if (typeof element === 'object' && element !== null && 'elem' in element) {
    const { val, expires } = (element as { elem: { val: unknown; expires?: number } }).elem;
    return { val, expires };
  }
  return { val: element, expires: undefined };
}

/** A block set's element back as a BlockedSource (`ADDRESS . IFNAME` in the interface sets). */
function blockedSourceOf(element: unknown, onInterface: boolean, now: number): BlockedSource {
  const { val, expires } = unwrap(element);
  const [addr, on] = onInterface
    ? (val as { concat: [NftAddress, string] }).concat
    : [val as NftAddress, undefined];
  const source: BlockedSource = {
    address: typeof addr === 'string' ? addr : `${addr.prefix.addr}/${addr.prefix.len}`,
    expiresAt: expires === undefined ? null : now + expires * 1000,
  };
  if (on !== undefined) source.interface = on;
  return source;
}

/** A port set's element back as a ClosedPort (`IFNAME . PORT` in the interface sets). */
function closedPortOf(element: unknown, protocol: ClosedPort['protocol'], onInterface: boolean): ClosedPort {
  const { val } = unwrap(element);
  if (!onInterface) return { protocol, port: Number(val) };
  const [on, port] = (val as { concat: [string, number] }).concat;
  return { protocol, port, interface: on };
}
