/**
 * The API's answers the flow and host pages read, as the server sends them
 * (src/api/routes/traffic-routes.ts, src/store/flow-repository.ts, the alert and firewall routes).
 * Kept by hand, like api/api-types.ts; only the fields these pages use are named.
 */

import type { Severity } from '../../api/api-types';

/** What GET /api/flows sorts by (`sort`), in the server's order. */
export const FLOW_SORTS = ['time', 'bytes', 'packets', 'duration'] as const;
export type FlowSort = (typeof FLOW_SORTS)[number];
export type SortOrder = 'desc' | 'asc';

/** The states a flow ends in (src/flows/flow-table.ts FLOW_STATE_NAMES). */
export const FLOW_STATES = [
  'active',
  'attempted',
  'established',
  'closed-fin',
  'closed-rst',
  'rejected',
  'midstream',
] as const;

/** A stored flow; `src` is the client, the side that sent the first packet. Times in epoch µs. */
export interface Flow {
  id: number;
  firstSeenUs: number;
  lastSeenUs: number;
  ipVersion: number;
  protocol: string;
  srcAddr: string;
  dstAddr: string;
  srcPort: number;
  dstPort: number;
  packetsToServer: number;
  bytesToServer: number;
  packetsToClient: number;
  bytesToClient: number;
  tcpFlagsToServer: string;
  tcpFlagsToClient: string;
  state: string;
  endReason: string;
  /** The process on this host that owned the flow's socket, when the server saw it. */
  process?: FlowProcess | null;
  /** The sensor or exporter (`exporter:<address>`) it came from; absent or null: this host's capture. */
  sensor?: string | null;
}

/** A process of the FlowTrack host (src/store/flow-repository.ts FlowProcess). */
export interface FlowProcess {
  pid: number;
  name: string;
  user: string;
}

/** GET /api/flows. */
export interface FlowPage {
  items: Flow[];
  nextCursor: string | null;
}

export interface GraphNode {
  address: string;
  bytes: number;
  packets: number;
  flows: number;
}

/** Two hosts that talked, whoever began; bytes of both directions. */
export interface GraphEdge {
  a: string;
  b: string;
  bytes: number;
  packets: number;
  flows: number;
}

/** GET /api/flows/graph. Times in epoch ms. */
export interface FlowGraphView {
  from: number;
  to: number;
  nodes: GraphNode[];
  edges: GraphEdge[];
}

export interface HostPeer {
  address: string;
  bytesSent: number;
  bytesReceived: number;
  bytes: number;
  packets: number;
  flows: number;
}

export interface HostPort {
  protocol: string;
  port: number;
  bytes: number;
  flows: number;
}

/** GET /api/hosts/:address. Times in epoch ms. */
export interface HostView {
  address: string;
  from: number;
  to: number;
  totals: { bytesSent: number; bytesReceived: number; packets: number; flows: number };
  peers: HostPeer[];
  localPorts: HostPort[];
  remotePorts: HostPort[];
  /** Processes on FlowTrack's own host behind these flows (its programs, or those that talked to it). */
  processes: { pid: number; name: string; user: string; bytes: number; flows: number }[];
}

/** One bucket of GET /api/traffic's series; `start` in epoch ms. */
export interface TrafficBucket {
  start: number;
  packets: number;
  bytes: number;
  flows: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
}

/** GET /api/traffic (its top talkers are not read here). */
export interface TrafficView {
  from: number;
  to: number;
  bucketSeconds: number;
  series: TrafficBucket[];
}

/** An alert as GET /api/anomalies lists it; `start` and `end` in epoch µs. */
export interface HostAlert {
  id: string;
  type: string;
  severity: Severity;
  src: string | null;
  dst: string | null;
  start: number;
  end: number;
  summary: string;
  status: 'open' | 'acknowledged' | 'resolved';
}

export interface HostAlertPage {
  items: HostAlert[];
  nextCursor: string | null;
}

/** A rule of GET /api/firewall/rules; times in epoch ms. */
export interface FirewallRuleView {
  id: number;
  kind: 'block' | 'allow' | 'close' | 'open';
  source: string | null;
  comment: string | null;
  alertId: string | null;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
}
