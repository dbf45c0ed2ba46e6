/**
 * The iptables backend, for hosts without nftables: blocked sources are entries of four ipsets
 * (IPv4 and IPv6; hash:net for any interface, hash:net,iface for blocks limited to one; each entry
 * with its own timeout, so the kernel lifts an expired block by itself) and closed ports of two
 * port bitmaps, or rules of their own when limited to an interface. FlowTrack's own chains in the
 * filter table of iptables and ip6tables match them: FLOWTRACK-BLOCK (jumped to first from INPUT
 * and FORWARD) drops blocked sources, FLOWTRACK-PORTS (from INPUT) refuses closed ports (TCP
 * reset, ICMP port unreachable). No other chain is changed but for those jumps, and `flush()`
 * takes exactly what FlowTrack added. A whole new state is built in scratch sets and swapped in,
 * and each chain is rebuilt in one restore commit, so the kernel never enforces half of it.
 */

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

const INSTALL = 'install iptables and ipset';
const SETS = {
  block4: 'flowtrack-block4',
  block6: 'flowtrack-block6',
  blockIf4: 'flowtrack-block4-if',
  blockIf6: 'flowtrack-block6-if',
  tcp: 'flowtrack-tcp',
  udp: 'flowtrack-udp',
} as const;
/** How each set is made: up to a million blocks, timeouts per entry (0: for good). */
const CREATE: Record<keyof typeof SETS, string> = {
  block4: 'hash:net family inet timeout 0 maxelem 1048576',
  block6: 'hash:net family inet6 timeout 0 maxelem 1048576',
  blockIf4: 'hash:net,iface family inet timeout 0 maxelem 1048576',
  blockIf6: 'hash:net,iface family inet6 timeout 0 maxelem 1048576',
  tcp: 'bitmap:port range 1-65535',
  udp: 'bitmap:port range 1-65535',
};
/** ipset's longest timeout (about 24 days); a longer block is renewed by reconciliation. */
const MAX_TIMEOUT_SECONDS = 2_147_483;
const BLOCK_CHAIN = 'FLOWTRACK-BLOCK';
const PORTS_CHAIN = 'FLOWTRACK-PORTS';
/** The sets of blocks, by family and by whether they are limited to an interface. */
type BlockSet = 'block4' | 'block6' | 'blockIf4' | 'blockIf6';
const BLOCK_SETS: readonly BlockSet[] = ['block4', 'block6', 'blockIf4', 'blockIf6'];
/** The jumps FlowTrack adds to the built-in chains, in the order they are inserted at the top. */
const JUMPS = [
  ['INPUT', PORTS_CHAIN],
  ['INPUT', BLOCK_CHAIN],
  ['FORWARD', BLOCK_CHAIN],
] as const;

export class IptablesFirewall implements FirewallBackend {
  readonly name = 'iptables';
  private readonly prefix: readonly string[];
  private readonly now: () => number;

  constructor(options: BackendOptions = {}) {
    this.prefix = options.prefix ?? [];
    this.now = options.now ?? Date.now;
  }

  async apply(state: FirewallState): Promise<void> {
    const lines = Object.entries(SETS).map(
      ([key, name]) => `create ${name} ${CREATE[key as keyof typeof SETS]} -exist`,
    );
    const fill = (key: keyof typeof SETS, entries: string[]): void => {
      const scratch = `${SETS[key]}-new`;
      lines.push(`create ${scratch} ${CREATE[key]} -exist`, `flush ${scratch}`);
      for (const entry of entries) lines.push(`add ${scratch} ${entry} -exist`);
      lines.push(`swap ${scratch} ${SETS[key]}`, `destroy ${scratch}`);
    };
    const entries = this.blockEntries(state.blocked);
    for (const set of BLOCK_SETS) fill(set, entries[set]);
    const anyInterface = state.closedPorts.filter((p) => p.interface === undefined);
    for (const protocol of ['tcp', 'udp'] as const) {
      fill(
        protocol,
        anyInterface.filter((p) => p.protocol === protocol).map((p) => String(checkPort(p.port))),
      );
    }
    // A port closed on one interface is a rule of its own: a bitmap cannot hold the interface,
    // and few ports are closed (blocks, which may be many, stay in sets). Once each, as a set would.
    const onInterface = new Map<string, Required<ClosedPort>>();
    for (const { protocol, port, interface: on } of state.closedPorts) {
      if (on === undefined) continue;
      const closed = { protocol, port: checkPort(port), interface: checkInterface(on) };
      onInterface.set(portKey(closed), closed);
    }
    await this.ipset(lines);
    for (const [tool, set, ifSet] of [
      ['iptables', SETS.block4, SETS.blockIf4],
      ['ip6tables', SETS.block6, SETS.blockIf6],
    ] as const) {
      const unreachable = tool === 'iptables' ? 'icmp-port-unreachable' : 'icmp6-port-unreachable';
      const reject = { tcp: 'tcp-reset', udp: unreachable } as const;
      const rules = [
        '*filter',
        `:${BLOCK_CHAIN} - [0:0]`,
        `:${PORTS_CHAIN} - [0:0]`,
        `-F ${BLOCK_CHAIN}`,
        `-F ${PORTS_CHAIN}`,
        `-A ${BLOCK_CHAIN} -m set --match-set ${set} src -j DROP`,
        // src,src: the entry's address against the source, its interface against the one the packet came in on.
        `-A ${BLOCK_CHAIN} -m set --match-set ${ifSet} src,src -j DROP`,
        `-A ${PORTS_CHAIN} -p tcp -m set --match-set ${SETS.tcp} dst -j REJECT --reject-with ${reject.tcp}`,
        `-A ${PORTS_CHAIN} -p udp -m set --match-set ${SETS.udp} dst -j REJECT --reject-with ${reject.udp}`,
        ...[...onInterface.values()].map(
          (p) =>
            `-A ${PORTS_CHAIN} -i ${p.interface} -p ${p.protocol} --dport ${p.port} -j REJECT --reject-with ${reject[p.protocol]}`,
        ),
        'COMMIT',
        '',
      ];
      await runToolWithFile(this.prefix, `${tool}-restore`, ['--noflush'], rules.join('\n'), INSTALL);
      for (const [chain, target] of JUMPS) {
        if (!(await this.hasJump(tool, chain, target)))
          await runTool(this.prefix, tool, ['-I', chain, '1', '-j', target], INSTALL);
      }
    }
  }

  async block(sources: readonly BlockedSource[]): Promise<void> {
    const entries = this.blockEntries(sources);
    await this.ipset(BLOCK_SETS.flatMap((set) => entries[set].map((e) => `add ${SETS[set]} ${e} -exist`)));
  }

  /** Lifts the blocks of these addresses on any interface (the interface entries are looked up). */
  async unblock(addresses: readonly string[]): Promise<void> {
    const wanted = new Set(addresses.map(sourceKey));
    const onInterface = ((await this.readSets())?.blocked ?? []).flatMap(({ address, interface: on }) =>
      on !== undefined && wanted.has(sourceKey(address)) ? [{ address, on }] : [],
    );
    await this.ipset([
      ...addresses.map((address) => {
        const source = parseSource(address);
        return `del ${source.family === 4 ? SETS.block4 : SETS.block6} ${address.trim()} -exist`;
      }),
      ...onInterface.map(({ address, on }) => {
        const set = parseSource(address).family === 4 ? SETS.blockIf4 : SETS.blockIf6;
        return `del ${set} ${address},${on} -exist`;
      }),
    ]);
  }

  async read(): Promise<FirewallState | null> {
    const state = await this.readSets();
    if (state === null) return null;
    const [rules4, rules6] = await Promise.all(['iptables', 'ip6tables'].map((tool) => this.portRules(tool)));
    // A port counts as closed on an interface when both families refuse it there: one missing
    // (a half-done apply) should show, so that reconciliation applies the state again.
    const v6 = new Set(rules6?.map(portKey));
    state.closedPorts.push(...(rules4 ?? []).filter((p) => v6.has(portKey(p))));
    return state;
  }

  async flush(): Promise<void> {
    for (const tool of ['iptables', 'ip6tables']) {
      for (const [chain, target] of JUMPS) {
        while (await this.hasJump(tool, chain, target))
          await runTool(this.prefix, tool, ['-D', chain, '-j', target], INSTALL);
      }
      for (const chain of [BLOCK_CHAIN, PORTS_CHAIN]) {
        // A chain that is not there is what flush wants.
        await runTool(this.prefix, tool, ['-F', chain], INSTALL).catch(() => undefined);
        await runTool(this.prefix, tool, ['-X', chain], INSTALL).catch(() => undefined);
      }
    }
    for (const name of Object.values(SETS))
      await runTool(this.prefix, 'ipset', ['destroy', name], INSTALL).catch(() => undefined);
  }

  /** The blocks and the closed ports of the bitmaps (`ipset save`); null when no set is there. */
  private async readSets(): Promise<FirewallState | null> {
    const saved = await runTool(this.prefix, 'ipset', ['save'], INSTALL);
    const ours = new Set<string | undefined>(Object.values(SETS));
    let setUp = false;
    const state: FirewallState = { blocked: [], closedPorts: [] };
    const now = this.now();
    for (const line of saved.split('\n')) {
      const [verb, set, value, , timeout] = line.trim().split(/\s+/);
      if (verb === 'create' && ours.has(set)) setUp = true;
      if (verb !== 'add' || value === undefined) continue;
      const seconds = Number(timeout ?? 0);
      const expiresAt = seconds > 0 ? now + seconds * 1000 : null;
      if (set === SETS.tcp || set === SETS.udp) {
        state.closedPorts.push({ protocol: set === SETS.tcp ? 'tcp' : 'udp', port: Number(value) });
      } else if (set === SETS.block4 || set === SETS.block6) {
        state.blocked.push({ address: value, expiresAt });
      } else if (set === SETS.blockIf4 || set === SETS.blockIf6) {
        // ADDRESS,IFNAME: neither an address nor an interface name holds a comma.
        const comma = value.lastIndexOf(',');
        state.blocked.push({ address: value.slice(0, comma), expiresAt, interface: value.slice(comma + 1) });
      }
    }
    return setUp ? state : null;
  }

  /** The ports closed on one interface, from the rules of FLOWTRACK-PORTS; null without the chain. */
  private async portRules(tool: string): Promise<ClosedPort[] | null> {
    let listed: string;
    try {
      listed = await runTool(this.prefix, tool, ['-S', PORTS_CHAIN], INSTALL);
    } catch {
      // The chain is not there (apply has not run, or flush has): no rule closes a port.
      return null;
    }
    const closed: ClosedPort[] = [];
    // As `-S` prints what apply added: -A FLOWTRACK-PORTS -i eth0 -p tcp -m tcp --dport 22 -j REJECT ...
    const pattern = new RegExp(
      `^-A ${PORTS_CHAIN} -i (\\S+) -p (tcp|udp) (?:-m \\w+ )?--dport (\\d+) -j REJECT`,
    );
    for (const line of listed.split('\n')) {
      const [, on, protocol, port] = pattern.exec(line.trim()) ?? [];
      if (on === undefined || port === undefined) continue;
      closed.push({ protocol: protocol === 'tcp' ? 'tcp' : 'udp', port: Number(port), interface: on });
    }
    return closed;
  }

  /** The blocks as ipset entries (`ADDRESS[/LEN][,IFNAME] [timeout N]`), by set. */
  private blockEntries(sources: readonly BlockedSource[]): Record<BlockSet, string[]> {
    const now = this.now();
    const entries: Record<BlockSet, string[]> = { block4: [], block6: [], blockIf4: [], blockIf6: [] };
    for (const { address, expiresAt, interface: on } of sources) {
      const source = parseSource(address);
      const full = source.len === (source.family === 4 ? 32 : 128);
      const seconds = secondsLeft(expiresAt, now);
      const entry = full ? source.addr : `${source.addr}/${source.len}`;
      const timeout = seconds === null ? '' : ` timeout ${Math.min(seconds, MAX_TIMEOUT_SECONDS)}`;
      if (on === undefined) entries[source.family === 4 ? 'block4' : 'block6'].push(entry + timeout);
      else
        entries[source.family === 4 ? 'blockIf4' : 'blockIf6'].push(
          `${entry},${checkInterface(on)}${timeout}`,
        );
    }
    return entries;
  }

  private async hasJump(tool: string, chain: string, target: string): Promise<boolean> {
    try {
      await runTool(this.prefix, tool, ['-C', chain, '-j', target], INSTALL);
      return true;
    } catch {
      return false;
    }
  }

  private async ipset(lines: string[]): Promise<void> {
    if (lines.length === 0) return;
    await runToolWithFile(this.prefix, 'ipset', ['restore', '-file'], `${lines.join('\n')}\n`, INSTALL);
  }
}

/** One key per closed port and interface. */
function portKey(p: ClosedPort): string {
  return `${p.protocol}/${p.port}/${p.interface ?? ''}`;
}
