/**
 * The terminal form of an analysis report: short sections of aligned columns a person reads
 * top to bottom. Pure: returns a string.
 */

import type { AnalysisReport } from './analyze-capture.js';

/** Renders `report` for a terminal. */
export function renderReportText(report: AnalysisReport): string {
  const out: string[] = [];
  const { input } = report;
  out.push(
    `Capture    ${input.file === '-' ? 'standard input' : input.file} (${input.format}${input.compressed ? ', gzip' : ''}; ${input.linkTypes.join(', ') || 'no interfaces'})`,
  );
  out.push(
    `Packets    ${count(report.packets)}, ${size(report.bytes)} on the wire, ${size(report.capturedBytes)} captured`,
  );
  if (report.firstSeen !== null && report.lastSeen !== null) {
    out.push(
      `Time       ${time(report.firstSeen)} to ${time(report.lastSeen)} (${report.durationSeconds.toFixed(3)} s)`,
    );
  }
  if (input.readError) {
    out.push(`Stopped    at byte ${input.readError.offset}: ${input.readError.reason}`);
    out.push(`           (everything before that byte was analysed)`);
  }
  if (input.skippedRecords > 0)
    out.push(`Skipped    ${count(input.skippedRecords)} records (undeclared interface)`);

  const protos = Object.entries(report.protocols).filter(([, n]) => n > 0);
  if (protos.length > 0) {
    out.push('', 'Protocols (frames containing each)');
    out.push(
      ...table(
        ['protocol', 'frames', 'share'],
        protos.map(([name, n]) => [name, count(n), pct(n, report.packets)]),
      ),
    );
  }

  const f = report.flows;
  out.push('', `Flows      ${count(f.total)}${f.total > 0 ? ` (${entries(f.byProtocol)})` : ''}`);
  if (Object.keys(f.byState).length > 0) out.push(`States     ${entries(f.byState)}`);
  out.push(`Evicted    ${count(f.evicted)} (table cap ${count(report.settings.maxFlows)})`);
  if (f.fragmentsJoined > 0)
    out.push(`Fragments  ${count(f.fragmentsJoined)} later fragments joined to their flow`);

  const approx = report.talkersApproximate ? ' (estimates: more hosts than tracked exactly)' : '';
  if (report.topTalkersByBytes.length > 0) {
    out.push('', `Top talkers by bytes${approx}`);
    out.push(
      ...table(
        ['host', 'bytes', 'packets'],
        report.topTalkersByBytes.map((t) => [t.address, size(t.bytes), count(t.packets)]),
      ),
    );
    out.push('', `Top talkers by packets${approx}`);
    out.push(
      ...table(
        ['host', 'packets', 'bytes'],
        report.topTalkersByPackets.map((t) => [t.address, count(t.packets), size(t.bytes)]),
      ),
    );
  }
  if (report.topPorts.length > 0) {
    out.push('', 'Top server ports');
    out.push(
      ...table(
        ['port', 'flows', 'packets', 'bytes'],
        report.topPorts.map((p) => [
          `${p.port}/${p.protocol}`,
          count(p.flows),
          count(p.packets),
          size(p.bytes),
        ]),
      ),
    );
  }
  if (report.topFlows.length > 0) {
    out.push('', 'Top flows by bytes');
    out.push(
      ...table(
        ['protocol', 'client', 'server', 'packets', 'bytes', 'state'],
        report.topFlows.map((fl) => [
          fl.protocol,
          endpoint(fl.clientAddress, fl.clientPort, fl.protocol),
          endpoint(fl.serverAddress, fl.serverPort, fl.protocol),
          count(fl.packetsToServer + fl.packetsToClient),
          size(fl.bytesToServer + fl.bytesToClient),
          fl.state,
        ]),
        3,
      ),
    );
  }
  out.push('');
  if (report.alerts.length === 0) out.push('Alerts: none');
  else {
    out.push(`Alerts (${count(report.alerts.length)})`);
    out.push(
      ...table(
        ['severity', 'type', 'source', 'target', 'start', 'summary'],
        report.alerts.map((a) => [a.severity, a.type, a.src ?? '-', a.dst ?? '-', time(a.start), a.summary]),
        6,
      ),
    );
    if (report.alertsDropped > 0) out.push(`  (${count(report.alertsDropped)} more alerts not kept)`);
  }
  const problems = Object.entries(report.decodeProblems);
  out.push('');
  if (problems.length === 0) out.push('Decode problems: none');
  else {
    out.push('Decode problems (frames counted and skipped)');
    out.push(
      ...table(
        ['reason', 'frames'],
        problems.map(([reason, n]) => [reason, count(n)]),
      ),
    );
  }
  return out.join('\n') + '\n';
}

/** Aligned columns: the first `leftColumns` columns (names, text) to the left, numbers to the right. */
function table(header: string[], rows: string[][], leftColumns = 1): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    '  ' +
    cells
      .map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}

function endpoint(address: string, port: number, protocol: string): string {
  if (protocol !== 'tcp' && protocol !== 'udp') return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function entries(record: Record<string, number>): string {
  return Object.entries(record)
    .map(([k, v]) => `${k} ${count(v)}`)
    .join(', ');
}

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function pct(n: number, total: number): string {
  return total > 0 ? `${((100 * n) / total).toFixed(1)}%` : '-';
}

function size(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

/** ISO-like UTC time, or the raw microseconds when the capture's clock is out of range. */
export function time(micros: number): string {
  const d = new Date(micros / 1000);
  if (Number.isNaN(d.getTime())) return `${micros} µs`;
  return d.toISOString().replace('T', ' ').replace('Z', ' UTC');
}
