/**
 * The iptables backend, for hosts without nftables: blocked sources are entries of two ipsets
 * (hash:net, IPv4 and IPv6, each entry with its own timeout, so the kernel lifts an expired block
 * by itself) and closed ports of two port bitmaps. FlowTrack's own chains in the filter table of
 * iptables and ip6tables match them: FLOWTRACK-BLOCK (jumped to first from INPUT and FORWARD)
 * drops blocked sources, FLOWTRACK-PORTS (from INPUT) refuses closed ports (TCP reset, ICMP
 * port unreachable). No other chain is changed but for those jumps, and `flush()` takes exactly
 * what FlowTrack added. A whole new state is built in scratch sets and swapped in, so the kernel
 * never enforces half of it.
 */

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

const INSTALL = 'install iptables and ipset';
const SETS = {
  block4: 'flowtrack-block4',
  block6: 'flowtrack-block6',
  tcp: 'flowtrack-tcp',
  udp: 'flowtrack-udp',
} as const;
/** How each set is made: up to a million blocks, timeouts per entry (0: for good). */
const CREATE: Record<keyof typeof SETS, string> = {
  block4: 'hash:net family inet timeout 0 maxelem 1048576',
  block6: 'hash:net family inet6 timeout 0 maxelem 1048576',
  tcp: 'bitmap:port range 1-65535',
  udp: 'bitmap:port range 1-65535',
};
/** ipset's longest timeout (about 24 days); a longer block is renewed by reconciliation. */
const MAX_TIMEOUT_SECONDS = 2_147_483;
const BLOCK_CHAIN = 'FLOWTRACK-BLOCK';
const PORTS_CHAIN = 'FLOWTRACK-PORTS';
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
    fill('block4', entries.block4);
    fill('block6', entries.block6);
    for (const protocol of ['tcp', 'udp'] as const) {
      fill(
        protocol,
        state.closedPorts.filter((p) => p.protocol === protocol).map((p) => String(checkPort(p.port))),
      );
    }
    await this.ipset(lines);
    for (const [tool, set] of [
      ['iptables', SETS.block4],
      ['ip6tables', SETS.block6],
    ] as const) {
      const reject = tool === 'iptables' ? '' : ' --reject-with icmp6-port-unreachable';
      const rules = [
        '*filter',
        `:${BLOCK_CHAIN} - [0:0]`,
        `:${PORTS_CHAIN} - [0:0]`,
        `-F ${BLOCK_CHAIN}`,
        `-F ${PORTS_CHAIN}`,
        `-A ${BLOCK_CHAIN} -m set --match-set ${set} src -j DROP`,
        `-A ${PORTS_CHAIN} -p tcp -m set --match-set ${SETS.tcp} dst -j REJECT --reject-with tcp-reset`,
        `-A ${PORTS_CHAIN} -p udp -m set --match-set ${SETS.udp} dst -j REJECT${reject}`,
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
    await this.ipset([
      ...entries.block4.map((e) => `add ${SETS.block4} ${e} -exist`),
      ...entries.block6.map((e) => `add ${SETS.block6} ${e} -exist`),
    ]);
  }

  async unblock(addresses: readonly string[]): Promise<void> {
    await this.ipset(
      addresses.map((address) => {
        const source = parseSource(address);
        return `del ${source.family === 4 ? SETS.block4 : SETS.block6} ${address.trim()} -exist`;
      }),
    );
  }

  async read(): Promise<FirewallState | null> {
    const saved = await runTool(this.prefix, 'ipset', ['save'], INSTALL);
    const ours = new Set<string | undefined>(Object.values(SETS));
    let setUp = false;
    const state: FirewallState = { blocked: [], closedPorts: [] };
    const now = this.now();
    for (const line of saved.split('\n')) {
      const [verb, set, value, , timeout] = line.trim().split(/\s+/);
      if (verb === 'create' && ours.has(set)) setUp = true;
      if (verb !== 'add' || value === undefined) continue;
      if (set === SETS.tcp || set === SETS.udp) {
        state.closedPorts.push({ protocol: set === SETS.tcp ? 'tcp' : 'udp', port: Number(value) });
      } else if (set === SETS.block4 || set === SETS.block6) {
        const seconds = Number(timeout ?? 0);
        state.blocked.push({ address: value, expiresAt: seconds > 0 ? now + seconds * 1000 : null });
      }
    }
    return setUp ? state : null;
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

  /** The blocks as ipset entries (`ADDRESS[/LEN] [timeout N]`), by set. */
  private blockEntries(sources: readonly BlockedSource[]): { block4: string[]; block6: string[] } {
    const now = this.now();
    const entries = { block4: [] as string[], block6: [] as string[] };
    for (const { address, expiresAt } of sources) {
      const source = parseSource(address);
      const full = source.len === (source.family === 4 ? 32 : 128);
      const seconds = secondsLeft(expiresAt, now);
      const entry = full ? source.addr : `${source.addr}/${source.len}`;
      const timeout = seconds === null ? '' : ` timeout ${Math.min(seconds, MAX_TIMEOUT_SECONDS)}`;
      entries[source.family === 4 ? 'block4' : 'block6'].push(entry + timeout);
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
