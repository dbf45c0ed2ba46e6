/**
 * The scan API's answers and bodies as the Scanner pages read and send them, kept by hand beside
 * the pages like web/src/api/api-types.ts. They mirror src/scan/scan-types.ts (PortResult,
 * ServiceInfo, Finding, Risk), src/scan/port-scanner.ts (ScanReport, HostReport),
 * src/scan/scan-service.ts (ScanOrder, OpenPort, the stored report's `diff`),
 * src/store/scan-repository.ts (ScanRecord) and src/api/routes/scan-routes.ts (the bodies).
 * Types only, plus the fixed lists the form and the filters offer.
 */

/** As src/store/scan-repository.ts SCAN_STATUSES. */
export const SCAN_STATUSES = ['queued', 'running', 'done', 'failed', 'cancelled'] as const;
export type ScanStatus = (typeof SCAN_STATUSES)[number];

/** From the least to the most serious, as src/scan/scan-types.ts RISKS. */
export const RISKS = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

export const SCAN_ENGINES = ['flowtrack', 'nmap'] as const;
export type ScanEngine = (typeof SCAN_ENGINES)[number];

export type ScanProtocol = 'tcp' | 'udp';

/** A port's verdict, in nmap's words. */
export type PortState = 'open' | 'closed' | 'filtered' | 'open|filtered';

/** What a service on an open port said about itself. */
export interface ServiceInfo {
  name: string;
  product?: string;
  version?: string;
  /** The first line the service sent (or the HTTP Server header), printable, at most 200 characters. */
  banner?: string;
  tls?: boolean;
  details?: Record<string, string | number | boolean>;
}

/** The verdict on one port of one address. */
export interface PortResult {
  address: string;
  protocol: ScanProtocol;
  port: number;
  state: PortState;
  /** syn-ack, conn-refused, no-response, udp-response, port-unreach, ... */
  reason: string;
  rttMs?: number;
  service?: ServiceInfo;
}

/** An open port judged by the exposure rules (src/scan/exposure-rules.json). */
export interface Finding {
  address: string;
  protocol: ScanProtocol;
  port: number;
  service: string;
  risk: Risk;
  ruleId: string;
  title: string;
  why: string;
  fix: string;
}

/** One host's part of a report. */
export interface HostReport {
  address: string;
  hostName?: string;
  up: boolean;
  /** One of the server's own addresses: its open ports can be closed by FlowTrack's firewall. */
  local: boolean;
  /** Every port not counted in `notShown`, by protocol and port. */
  ports: PortResult[];
  /** The ports in the host's most common non-open state, counted rather than listed. */
  notShown: { protocol: ScanProtocol; state: PortState; count: number }[];
}

/** An open port as the comparison with the previous run names it. */
export interface OpenPort {
  address: string;
  protocol: ScanProtocol;
  port: number;
  service?: string;
}

/** What changed since the latest done run of the same targets and ports. */
export interface ScanDiff {
  /** That run's id. */
  baselineId: string;
  opened: OpenPort[];
  closed: OpenPort[];
}

/** The report of a done scan, as stored: ScanReport plus the comparison (null: no earlier run). */
export interface ScanReport {
  engine: ScanEngine;
  /** Epoch milliseconds. */
  startedAt: number;
  finishedAt: number;
  targets: string[];
  /** How many TCP and UDP ports each address was scanned on. */
  tcpPorts: number;
  udpPorts: number;
  /** Addresses the targets named. */
  addresses: number;
  /** Hosts that answered (every address when discovery was off). */
  hosts: HostReport[];
  /** Most serious first. */
  findings: Finding[];
  diff: ScanDiff | null;
}

/** The JSON columns a damaged row could not give back. */
export type ScanJsonColumn = 'targets' | 'request' | 'report';

/** A scan as GET /api/scans/{id} gives it (the list leaves `report` out). */
export interface ScanRecord {
  /** A UUID. */
  id: string;
  /** A user name, or `schedule:<name>`. */
  requestedBy: string;
  schedule: string | null;
  targets: string[];
  /** The rest of the request as the server normalised it: ports, tcp, udp, engine, discovery, identify. */
  request: Record<string, unknown>;
  baselineKey: string;
  status: ScanStatus;
  /** Epoch milliseconds, as every time here. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Why it failed or was cancelled. */
  error: string | null;
  /** Null before the end, when it could not be read, and always in the list. */
  report?: ScanReport | null;
  openPorts: number;
  /** Findings above info. */
  findings: number;
  maxRisk: Risk | null;
  unreadable: ScanJsonColumn[];
}

/** GET /api/scans. */
export interface ScanListPage {
  items: ScanRecord[];
  nextCursor: string | null;
}

/** POST /api/scans. */
export interface NewScanBody {
  targets: string[];
  /** nmap's -p syntax; left out: the top ports of the protocols chosen. */
  ports?: string;
  tcp?: boolean;
  udp?: boolean;
  engine?: ScanEngine;
  /** Scan only the addresses that answer (with more than one address). */
  discovery?: boolean;
  identify?: boolean;
}

/** POST /api/firewall/rules for a finding's port (src/api/routes/firewall-routes.ts). */
export interface ClosePortBody {
  kind: 'close';
  protocol: ScanProtocol;
  port: number;
  comment: string;
}

/** The answer of POST /api/firewall/rules: the rule now in force (the fields this page reads). */
export interface CreatedCloseRule {
  id: number;
  protocol: ScanProtocol | null;
  port: number | null;
}
