/**
 * Chooses the firewall backend the configuration asks for: dry-run until enforcement is on, then
 * nftables or iptables with ipset ('auto': nftables where `nft` can list the ruleset, else
 * iptables where both it and ipset work). A backend that cannot work here fails with what to
 * install or which right is missing, and that dry-run is the way to run without one.
 */

import type { FirewallConfig } from './firewall-service.js';
import { runTool, type BackendOptions, type FirewallBackend } from './firewall-backend.js';
import { DryRunFirewall } from './dry-run-firewall.js';
import { IptablesFirewall } from './iptables-firewall.js';
import { NftablesFirewall } from './nftables-firewall.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

export async function openFirewall(
  config: Pick<FirewallConfig, 'mode' | 'backend'>,
  options: BackendOptions = {},
): Promise<FirewallBackend> {
  if (config.mode === 'dry-run') return new DryRunFirewall(options);
  const prefix = options.prefix ?? [];
  const works = (tool: string, args: string[]): Promise<boolean> =>
    runTool(prefix, tool, args, '').then(
      () => true,
      () => false,
    );
  const nftables = (): Promise<boolean> => works('nft', ['list', 'tables']);
  const iptables = async (): Promise<boolean> =>
    (await works('iptables', ['-w', '-S', 'INPUT'])) && (await works('ipset', ['list', '-n']));
  if (config.backend !== 'iptables' && (await nftables())) return new NftablesFirewall(options);
  if (config.backend !== 'nftables' && (await iptables())) return new IptablesFirewall(options);
  const wanted = config.backend === 'auto' ? 'nftables or iptables with ipset' : config.backend;
  throw new FlowTrackError(
    ErrorCode.IO_ERROR,
    `firewall.mode is enforce but ${wanted} cannot be used here: install it (scripts/setup.sh does) and run FlowTrack as root or with cap_net_admin, or set firewall.mode: dry-run`,
  );
}

/**
 * The kernel's firewalls other than `inUse` that still hold what FlowTrack set up (an earlier
 * run's nftables table after a switch to dry-run, say): nothing manages those rules any more.
 * With `remove`, they are removed. A firewall that cannot be read (a tool missing, no right to)
 * is left alone.
 */
export async function leftovers(
  inUse: FirewallBackend['name'],
  remove: boolean,
  options: BackendOptions = {},
): Promise<string[]> {
  const found: string[] = [];
  for (const other of [new NftablesFirewall(options), new IptablesFirewall(options)]) {
    if (other.name === inUse) continue;
    const state = await other.read().catch(() => null);
    if (state === null) continue;
    if (remove) await other.flush();
    found.push(other.name);
  }
  return found;
}
