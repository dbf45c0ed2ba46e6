/**
 * `flowtrack interfaces`: what live capture can listen on, the default marked, and whether
 * tcpdump is there and allowed to capture.
 */

import { Command } from 'commander';
import { spawnSync } from 'node:child_process';
import { listInterfaces } from '../capture/network-interfaces.js';

/** Whether tcpdump runs and may capture: `tcpdump -D` lists devices only when it can open them. */
function tcpdumpCheck(): string {
  const result = spawnSync('tcpdump', ['--version'], { encoding: 'utf8' });
  if (result.error) return 'tcpdump: not found (install it: apt-get install tcpdump)';
  const version = /tcpdump version (\S+)/.exec(`${result.stdout}${result.stderr}`)?.[1] ?? '?';
  const root = process.getuid?.() === 0;
  return root
    ? `tcpdump ${version}; running as root: capture allowed`
    : `tcpdump ${version}; not root: capture needs cap_net_raw on tcpdump (setcap cap_net_raw,cap_net_admin=eip $(command -v tcpdump))`;
}

export function interfacesCommand(): Command {
  return new Command('interfaces')
    .description('list the network interfaces live capture can use (* = the default)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const list = listInterfaces();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        return;
      }
      const rows = [
        ['', 'NAME', 'STATE', 'MTU', 'ADDRESSES'],
        ...list.map((i) => [
          i.defaultRoute ? '*' : '',
          i.name,
          i.state,
          i.mtu === null ? '' : String(i.mtu),
          i.addresses.join(' '),
        ]),
        ['', 'any', '', '', '(every interface at once)'],
      ];
      const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
      for (const r of rows)
        process.stdout.write(
          `${r
            .map((cell, c) => cell.padEnd(widths[c]!))
            .join('  ')
            .trimEnd()}\n`,
        );
      process.stdout.write(`${tcpdumpCheck()}\n`);
    });
}
