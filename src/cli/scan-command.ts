/**
 * `flowtrack scan TARGETS [-p PORTS]`: scans hosts and networks for open ports, names the
 * services, and says which are dangerous and what to do about them. Needs no privileges for TCP.
 * Only networks the configuration allows are scanned (scan.allowedNetworks: by default this host
 * and its directly connected networks).
 */

import { Command, Option } from 'commander';
import { loadServiceConfig } from '../config/service-config.js';
import { runScan, type HostReport, type ScanProgress, type ScanReport } from '../scan/port-scanner.js';
import { portsToScan } from '../scan/port-list.js';
import { scopeFrom } from '../scan/scan-scope.js';
import type { Finding } from '../scan/scan-types.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

interface ScanFlags {
  ports?: string;
  tcp?: boolean;
  udp?: boolean;
  engine: 'flowtrack' | 'nmap';
  discovery: boolean;
  identify: boolean;
  rate?: string;
  timeout?: string;
  json?: boolean;
  config?: string;
}

export interface ScanCommandIo {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

export function scanCommand(io: ScanCommandIo = {}): Command {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  return new Command('scan')
    .description(
      'scan hosts for open ports, name their services and judge the risk (TCP connect scan: no privileges needed)',
    )
    .argument(
      '<targets...>',
      'addresses, prefixes (10.0.0.0/24), ranges (10.0.0.5-20), host names; IPv4 and IPv6',
    )
    .option(
      '-p, --ports <list>',
      'ports: 22,80,443  1-1024  - (all: -p-)  T:22,U:53 (default: the top 1,000 TCP ports, top 100 UDP ones)',
    )
    .option('--tcp', 'scan TCP ports (the default when --udp is not given)')
    .option('--udp', 'scan UDP ports with protocol probes (DNS, NTP, SNMP, ...)')
    .addOption(
      new Option('--engine <name>', 'flowtrack, or nmap where it is installed')
        .choices(['flowtrack', 'nmap'])
        .default('flowtrack'),
    )
    .option('-P, --no-discovery', 'scan every address, not only those that answer (nmap -Pn)')
    .option('--no-identify', 'do not connect again to open ports to identify their services')
    .option('--rate <n>', 'new probes a second at most (default: scan.maxRate, 100,000)')
    .option('--timeout <ms>', 'longest wait for a TCP answer, in milliseconds (default 1000)')
    .option('--json', 'print the report as JSON')
    .option('--config <file>', 'service configuration (scan.allowedNetworks, scan.maxRate)')
    .action(async (targets: string[], flags: ScanFlags) => {
      const config = loadServiceConfig({
        env: io.env ?? process.env,
        ...(flags.config === undefined ? {} : { file: flags.config }),
      });
      const udp = flags.udp === true;
      const tcp = flags.tcp === true || !udp;
      const ports = portsToScan(flags.ports, tcp, udp);
      const rate =
        flags.rate === undefined ? config.scan.maxRate : wholeFlag('--rate', flags.rate, 1, 1_000_000);
      if (rate > config.scan.maxRate) {
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          `--rate ${rate} is above scan.maxRate (${config.scan.maxRate}): raise it in the configuration first`,
        );
      }
      const progress = new ProgressLine(flags.json === true ? null : process.stderr);
      const report = await runScan(
        {
          targets,
          tcpPorts: ports.tcp,
          udpPorts: ports.udp,
          engine: flags.engine,
          discovery: flags.discovery,
          identify: flags.identify,
          ratePerSecond: rate,
          ...(flags.timeout !== undefined && {
            timeoutMs: wholeFlag('--timeout', flags.timeout, 10, 60_000),
          }),
        },
        { scope: scopeFrom(config.scan), onProgress: (event) => progress.show(event) },
      );
      progress.clear();
      if (flags.json) stdout(`${JSON.stringify(report, null, 2)}\n`);
      else stdout(renderReport(report));
      if (report.hosts.length === 0 && report.addresses > 0) stderr('flowtrack: no host answered\n');
    });
}

function wholeFlag(name: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${name} must be a whole number from ${min} to ${max}, not ${text}`,
    );
  }
  return n;
}

/** One line of progress on a terminal, redrawn at most four times a second. */
class ProgressLine {
  private last = 0;
  private drawn = false;

  constructor(private readonly stream: NodeJS.WriteStream | null) {}

  show(event: ScanProgress): void {
    if (!this.stream?.isTTY || event.phase === 'done') return;
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    this.drawn = true;
    const percent = event.total === 0 ? 100 : Math.floor((event.done / event.total) * 100);
    this.stream.write(
      `\r${event.phase}: ${event.done.toLocaleString('en')}/${event.total.toLocaleString('en')} (${percent}%)\x1b[K`,
    );
  }

  clear(): void {
    if (this.drawn) this.stream?.write('\r\x1b[K');
  }
}

const RISK_LABEL: Record<Finding['risk'], string> = {
  critical: 'CRITICAL',
  high: 'HIGH',
  medium: 'MEDIUM',
  low: 'LOW',
  info: 'info',
};

/** The report as text: each host's ports like nmap's table, then the findings worth acting on. */
export function renderReport(report: ScanReport): string {
  const seconds = ((report.finishedAt - report.startedAt) / 1000).toFixed(2);
  const counts = [
    report.tcpPorts > 0 ? `${report.tcpPorts.toLocaleString('en')} TCP` : null,
    report.udpPorts > 0 ? `${report.udpPorts.toLocaleString('en')} UDP` : null,
  ]
    .filter(Boolean)
    .join(' and ');
  const lines = [
    `FlowTrack scan (${report.engine}): ${report.addresses.toLocaleString('en')} address(es), ${counts} port(s) each, ${report.hosts.length} host(s) up, ${seconds} s`,
  ];
  for (const host of report.hosts) lines.push('', ...renderHost(host));
  const worth = report.findings.filter((f) => f.risk !== 'info');
  if (worth.length > 0) {
    lines.push('', 'Findings:');
    for (const f of worth) {
      lines.push(
        `  ${RISK_LABEL[f.risk].padEnd(8)} ${f.address} ${f.port}/${f.protocol} ${f.service}: ${f.title}`,
      );
      lines.push(`           why: ${f.why}`, `           fix: ${f.fix}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function renderHost(host: HostReport): string[] {
  const name = host.hostName ? ` (${host.hostName})` : '';
  const lines = [`${host.address}${name}`];
  const rows = host.ports.map((p) => [
    `${p.port}/${p.protocol}`,
    p.state,
    p.service?.name ?? '',
    [p.service?.product, p.service?.version].filter(Boolean).join(' ') || (p.service?.banner ?? ''),
  ]);
  if (rows.length > 0) {
    const table = [['PORT', 'STATE', 'SERVICE', 'DETAILS'], ...rows];
    const widths = [0, 1, 2].map((c) => Math.max(...table.map((r) => r[c]!.length)));
    for (const r of table) {
      lines.push(
        `  ${r
          .map((cell, c) => (c < 3 ? cell.padEnd(widths[c]!) : cell))
          .join('  ')
          .trimEnd()}`,
      );
    }
  }
  for (const n of host.notShown)
    lines.push(`  Not shown: ${n.count.toLocaleString('en')} ${n.state} ${n.protocol} ports`);
  if (rows.length === 0 && host.notShown.length === 0) lines.push('  no ports scanned');
  return lines;
}
