/**
 * How the Scanner pages order and word a scan: risks, durations, a port's details, the list's
 * filter and path, and how often to ask again. Pure: the clock is a parameter, so tests do not
 * depend on it.
 */

import { queryString } from '../../api/queries';
import { formatCount } from '../../lib/format';
import {
  RISKS,
  SCAN_STATUSES,
  type Finding,
  type HostReport,
  type PortResult,
  type Risk,
  type ScanListPage,
  type ScanRecord,
  type ScanReport,
  type ScanStatus,
} from './scan-types';

/** Scans a page of the list holds. */
export const SCAN_PAGE_SIZE = 25;

/** How often the list asks again: quickly while a scan is on its way, slowly otherwise. */
export const LIST_REFRESH_ACTIVE_MS = 2000;
export const LIST_REFRESH_IDLE_MS = 15_000;
/** A queued or running scan's page, every second until it ends; then its report stays as it is. */
export const REPORT_REFRESH_ACTIVE_MS = 1000;

/** Whether the scan has yet to end (queued or running). */
export function isActive(status: ScanStatus): boolean {
  return status === 'queued' || status === 'running';
}

/** The list's pace: fast while any scan on the page is queued or running. */
export function listRefreshMs(page: ScanListPage | undefined): number {
  return page?.items.some((scan) => isActive(scan.status)) === true
    ? LIST_REFRESH_ACTIVE_MS
    : LIST_REFRESH_IDLE_MS;
}

/**
 * A scan page's pace: every second while it runs, never again once it has ended. Before the first
 * answer (or after a failed one) every 5 s, so a page that cannot load does not ask every second.
 */
export function reportRefreshMs(scan: ScanRecord | undefined): number | false {
  if (scan === undefined) return 5000;
  return isActive(scan.status) ? REPORT_REFRESH_ACTIVE_MS : false;
}

/** 0 for info up to 4 for critical; an unknown risk (a newer server) ranks as info. */
export function riskRank(risk: string): number {
  return Math.max(0, RISKS.indexOf(risk as Risk));
}

/**
 * Findings most serious first. The sort is stable, so within one risk the server's order (by
 * address, then port) stays as it sent it.
 */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => riskRank(b.risk) - riskRank(a.risk));
}

/**
 * The findings worth acting on (low and above) and the informational ones (every other open
 * port), each most serious first. The list's "findings" count is the first's length.
 */
export function splitFindings(findings: readonly Finding[]): { worth: Finding[]; info: Finding[] } {
  const sorted = sortFindings(findings);
  return { worth: sorted.filter((f) => f.risk !== 'info'), info: sorted.filter((f) => f.risk === 'info') };
}

/** "6379/tcp", the firewall's own spelling. */
export function portLabel(port: { port: number; protocol: string }): string {
  return `${port.port}/${port.protocol}`;
}

/** Whether the finding's address is one of the server's own: only then can its firewall close it. */
export function isOnLocalHost(finding: Pick<Finding, 'address'>, hosts: readonly HostReport[]): boolean {
  return hosts.some((host) => host.address === finding.address && host.local);
}

/** What a service said of itself: product and version, else its banner; '' when nothing. */
export function portDetails(port: Pick<PortResult, 'service'>): string {
  const service = port.service;
  if (service === undefined) return '';
  const named = [service.product, service.version]
    .filter((part) => part !== undefined && part !== '')
    .join(' ');
  return named !== '' ? named : (service.banner ?? '');
}

/** nmap's line for the ports counted rather than listed: "Not shown: 1,019 closed tcp ports". */
export function notShownText(n: HostReport['notShown'][number]): string {
  return `Not shown: ${formatCount(n.count)} ${n.state} ${n.protocol} port${n.count === 1 ? '' : 's'}`;
}

/** Hosts that answered. */
export function hostsUp(report: Pick<ScanReport, 'hosts'>): number {
  return report.hosts.filter((host) => host.up).length;
}

/** A span to the precision a reader needs: "0.4 s", "12 s", "3 min 20 s", "1 h 5 min". */
export function formatScanDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const seconds = ms / 1000;
  if (seconds < 10) return `${Number(seconds.toFixed(1))} s`;
  const whole = Math.round(seconds);
  if (whole < 60) return `${whole} s`;
  const [h, m, s] = [Math.floor(whole / 3600), Math.floor((whole % 3600) / 60), whole % 60];
  if (h > 0) return m > 0 ? `${h} h ${m} min` : `${h} h`;
  return s > 0 ? `${m} min ${s} s` : `${m} min`;
}

/** How long the scan took, or has been running at `now`; '–' while queued or without a start. */
export function scanDuration(
  scan: Pick<ScanRecord, 'status' | 'startedAt' | 'finishedAt'>,
  now: number,
): string {
  if (scan.startedAt === null) return '–';
  if (scan.status === 'running') return formatScanDuration(Math.max(0, now - scan.startedAt));
  if (scan.finishedAt === null) return '–';
  return formatScanDuration(scan.finishedAt - scan.startedAt);
}

/** The targets as one line: "192.0.2.0/24, 198.51.100.7". */
export function targetsText(targets: readonly string[]): string {
  return targets.length === 0 ? '(unreadable)' : targets.join(', ');
}

/**
 * What was asked for besides the targets, in words, from the request as the server normalised it
 * (unknown or missing keys are left out rather than guessed).
 */
export function requestSummary(request: Record<string, unknown>): string {
  const tcp = request.tcp === true;
  const udp = request.udp === true;
  const protocols = [tcp && 'TCP', udp && 'UDP'].filter(Boolean).join(' and ');
  const ports =
    typeof request.ports === 'string' && request.ports !== ''
      ? `ports ${request.ports}${protocols === '' ? '' : ` (${protocols})`}`
      : protocols === ''
        ? null
        : `the top ${protocols} ports`;
  const parts = [
    ports,
    typeof request.engine === 'string' ? `engine ${request.engine}` : null,
    request.discovery === false ? 'every address (no discovery)' : null,
    request.identify === false ? 'services not identified' : null,
  ];
  return parts.filter((part) => part !== null).join(', ');
}

/** The list's status filter from the page's query string; missing or unknown: any. */
export function readStatusFilter(query: URLSearchParams): ScanStatus | undefined {
  const value = query.get('status');
  return SCAN_STATUSES.find((status) => status === value);
}

/** GET path of one page of the list; `cursor` undefined: the first (newest) page. */
export function scanListPath(status: ScanStatus | undefined, cursor?: string): string {
  return `/api/scans${queryString({ status, limit: SCAN_PAGE_SIZE, cursor })}`;
}

/** The dashboard's page of one scan. */
export function scanPath(id: string): string {
  return `/scans/${encodeURIComponent(id)}`;
}
