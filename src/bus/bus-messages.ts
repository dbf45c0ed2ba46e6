/**
 * What sensors and the hub say to each other over the bus, as JSON bodies: batches of ended
 * flows, alerts, a sensor's health, and block orders from the hub. Every message is checked here
 * at the edge (zod) before anything trusts it: a malformed one is reported with what is wrong,
 * never thrown at a consumer loop.
 */

import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES, type Alert } from '../alerts/alert.js';
import type { FlowRow } from '../store/flow-repository.js';

/** A sensor's name: letters, digits, '_' and '-' (it becomes a subject token and a consumer name). */
export const SENSOR_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** Flows that ended on one sensor, sent together. `id` is unique per sensor and message (the dedupe key). */
export interface FlowBatch {
  id: string;
  sensor: string;
  flows: FlowRow[];
}

/** One alert raised on a sensor (a new alert or an update of one: the same `alert.id`, a new `id`). */
export interface AlertMessage {
  id: string;
  sensor: string;
  alert: Alert;
}

/** A sensor's vital signs, sent every few seconds; only the latest matters. */
export interface SensorHealth {
  sensor: string;
  /** Wall clock, epoch milliseconds. */
  atMs: number;
  version: string;
  hostname: string;
  /** The capture's own status (interfaces, counters), passed through as the sensor reports it. */
  capture: unknown;
  bufferedMessages: number;
  bufferedBytes: number;
  droppedMessages: number;
}

/** The hub's order to block (or lift the block of) an address or prefix on every sensor. */
export interface BlockOrder {
  id: string;
  action: 'block' | 'unblock';
  /** An address or prefix: 203.0.113.7, 198.51.100.0/24, 2001:db8::/64. */
  address: string;
  /** When the block ends (epoch ms); null: until lifted. */
  expiresAtMs: number | null;
  reason: string;
  atMs: number;
  /** Who gave the order (a user name, or "auto" for the detectors). */
  by: string;
}

const messageId = z.string().regex(/^[A-Za-z0-9_.:-]{1,160}$/, 'a message id');
const sensorName = z.string().regex(SENSOR_NAME, 'a sensor name of letters, digits, _ and -');
const count = z.number().int().min(0);
const epochMs = z.number().int().min(0).max(8.64e15);
const text = (max: number) => z.string().max(max);

const flowRowSchema = z.object({
  firstSeenUs: count,
  lastSeenUs: count,
  ipVersion: z.union([z.literal(4), z.literal(6)]),
  protocol: text(16),
  srcAddr: text(64),
  dstAddr: text(64),
  srcPort: z.number().int().min(0).max(65535),
  dstPort: z.number().int().min(0).max(65535),
  packetsToServer: count,
  bytesToServer: count,
  packetsToClient: count,
  bytesToClient: count,
  tcpFlagsToServer: text(16),
  tcpFlagsToClient: text(16),
  state: text(32),
  endReason: text(32),
  process: z
    .object({ pid: count, name: text(256), user: text(256) })
    .nullable()
    .optional(),
}) satisfies z.ZodType<FlowRow>;

const sampleFlowSchema = z.object({
  protocol: text(16),
  client: text(128),
  server: text(128),
  packets: count,
  bytes: count,
  state: text(32),
});

const alertSchema = z.object({
  id: text(256),
  type: z.enum(ALERT_TYPES),
  severity: z.enum(SEVERITIES),
  src: text(64).nullable(),
  dst: text(64).nullable(),
  start: count,
  end: count,
  counters: z.record(z.string().max(64), z.number()),
  summary: text(2000),
  evidence: z.object({
    thresholds: z.array(z.object({ metric: text(64), value: z.number(), threshold: z.number() })).max(100),
    sampleFlows: z.array(sampleFlowSchema).max(1000),
    topSources: z.array(z.object({ address: text(64), packets: count })).max(1000),
  }),
  updates: count,
  detectedSeverity: z.enum(SEVERITIES).nullable().optional(),
  suppressedBy: z.number().int().nullable().optional(),
}) satisfies z.ZodType<Alert>;

/** The schemas of the four messages, for whoever reads one off the bus. */
export const flowBatchSchema = z.object({
  id: messageId,
  sensor: sensorName,
  flows: z.array(flowRowSchema).min(1).max(10_000),
}) satisfies z.ZodType<FlowBatch>;

export const alertMessageSchema = z.object({
  id: messageId,
  sensor: sensorName,
  alert: alertSchema,
}) satisfies z.ZodType<AlertMessage>;

export const sensorHealthSchema = z.object({
  sensor: sensorName,
  atMs: epochMs,
  version: text(64),
  hostname: text(255),
  capture: z.unknown(),
  bufferedMessages: count,
  bufferedBytes: count,
  droppedMessages: count,
}) satisfies z.ZodType<SensorHealth>;

export const blockOrderSchema = z.object({
  id: messageId,
  action: z.enum(['block', 'unblock']),
  address: text(64).min(2),
  expiresAtMs: epochMs.nullable(),
  reason: text(500),
  atMs: epochMs,
  by: text(128),
}) satisfies z.ZodType<BlockOrder>;

/** A body read and checked, or what is wrong with it (one line, for the log). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/** Parses a JSON body against `schema`; never throws. */
export function parseBody<T>(schema: z.ZodType<T>, body: Uint8Array): Parsed<T> {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'));
  } catch (err) {
    return { ok: false, problem: `not JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const problems = result.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(body)'}: ${issue.message}`);
  const more = result.error.issues.length > 3 ? ` and ${result.error.issues.length - 3} more` : '';
  return { ok: false, problem: problems.join('; ') + more };
}

/** A message read off a sensor subject, by the kind its subject says it is. */
export type SensorMessage =
  | { kind: 'flows'; body: FlowBatch }
  | { kind: 'alerts'; body: AlertMessage }
  | { kind: 'health'; body: SensorHealth };

/** Parses the body of a sensor message of `kind`; never throws. */
export function parseSensorMessage(kind: SensorMessage['kind'], body: Uint8Array): Parsed<SensorMessage> {
  switch (kind) {
    case 'flows': {
      const parsed = parseBody(flowBatchSchema, body);
      return parsed.ok ? { ok: true, value: { kind, body: parsed.value } } : parsed;
    }
    case 'alerts': {
      const parsed = parseBody(alertMessageSchema, body);
      return parsed.ok ? { ok: true, value: { kind, body: parsed.value } } : parsed;
    }
    case 'health': {
      const parsed = parseBody(sensorHealthSchema, body);
      return parsed.ok ? { ok: true, value: { kind, body: parsed.value } } : parsed;
    }
  }
}
