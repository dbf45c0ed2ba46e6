/** GET /api/traffic, as src/api/routes/traffic-routes.ts sends it. */

export interface TrafficBucket {
  /** Epoch ms of the bucket's start. */
  start: number;
  packets: number;
  bytes: number;
  flows: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
}

export interface TrafficAnswer {
  from: number;
  to: number;
  bucketSeconds: number;
  series: TrafficBucket[];
  /** With split=protocol: each protocol's series (only protocols with traffic in the range). */
  byProtocol?: Record<string, TrafficBucket[]>;
  topTalkers: { host: string; bytes: number; packets: number }[];
  /** TCP and UDP service ports (the server's port), largest first by the request's `by`. */
  topPorts: { protocol: string; port: number; packets: number; bytes: number; flows: number }[];
}
