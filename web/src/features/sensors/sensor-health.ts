/**
 * Reads what a sensor or exporter last reported (GET /api/sensors `health`), which the server
 * passes through as it came: from another host, of another version, possibly cut short. Every
 * field is checked before use and a missing or odd one is left out, so the page shows what is
 * there and never fails on what is not. Pure.
 */

/** One capture interface of a sensor, as far as its report says. */
export interface InterfaceHealth {
  name: string;
  /** starting, running, restarting, failed, stopped; "unknown" when not said. */
  state: string;
  packets?: number;
  kernelDropped?: number;
  /** Why the capture failed, in the sensor's words. */
  failure?: string;
}

/** A sensor's latest report, the fields it had. */
export interface SensorHealthView {
  /** When the sensor made it, by its own clock (epoch ms). */
  reportedAtMs?: number;
  version?: string;
  hostname?: string;
  bufferedMessages?: number;
  bufferedBytes?: number;
  droppedMessages?: number;
  interfaces: InterfaceHealth[];
  /** The capture's last second. */
  packetsPerSecond?: number;
  bytesPerSecond?: number;
}

/** One count of an exporter's report, with the words it is shown with. */
export interface ExporterCount {
  key: string;
  label: string;
  value: number;
}

/** Interfaces shown per sensor; a report naming more is cut here (the rest are counted). */
export const MAX_INTERFACES = 16;

/** Counts shown per exporter, known ones first. */
export const MAX_EXPORTER_COUNTS = 8;

const EXPORTER_LABELS: Record<string, string> = {
  datagrams: 'datagrams',
  records: 'records',
  flows: 'flows',
  dropped: 'dropped',
  malformed: 'malformed',
};

/** A sensor's report, or null when `health` is no object at all (none yet, or unreadable). */
export function readSensorHealth(health: unknown): SensorHealthView | null {
  if (!isRecord(health)) return null;
  const capture = isRecord(health.capture) ? health.capture : {};
  const live = isRecord(capture.live) ? capture.live : {};
  const interfaces = Array.isArray(capture.interfaces) ? capture.interfaces : [];
  return {
    reportedAtMs: nonNegative(health.atMs),
    version: text(health.version),
    hostname: text(health.hostname),
    bufferedMessages: nonNegative(health.bufferedMessages),
    bufferedBytes: nonNegative(health.bufferedBytes),
    droppedMessages: nonNegative(health.droppedMessages),
    interfaces: interfaces.slice(0, MAX_INTERFACES).flatMap((i) => {
      const read = readInterface(i);
      return read === null ? [] : [read];
    }),
    packetsPerSecond: nonNegative(live.packetsPerSecond),
    bytesPerSecond: nonNegative(live.bytesPerSecond),
  };
}

/** How many interfaces the report names beyond those shown. */
export function interfacesLeftOut(health: unknown): number {
  if (!isRecord(health) || !isRecord(health.capture) || !Array.isArray(health.capture.interfaces)) return 0;
  return Math.max(0, health.capture.interfaces.length - MAX_INTERFACES);
}

/**
 * An exporter's counts (datagrams, records, ...): every number at the top of its report, the
 * known ones first in a fixed order, so a newer collector's extra counts show up as they are named.
 * Times (`lastSeenMs`, `...At`) are not counts and are left out: the Last contact column has them.
 */
const TIME_KEY = /(Ms|Us|At)$/;

export function readExporterCounts(health: unknown): ExporterCount[] {
  if (!isRecord(health)) return [];
  const known = Object.keys(EXPORTER_LABELS);
  const keys = [
    ...known.filter((key) => key in health),
    ...Object.keys(health)
      .filter((key) => !(key in EXPORTER_LABELS) && !TIME_KEY.test(key))
      .sort(),
  ];
  return keys
    .flatMap((key) => {
      const value = nonNegative(health[key]);
      return value === undefined ? [] : [{ key, label: EXPORTER_LABELS[key] ?? spaced(key), value }];
    })
    .slice(0, MAX_EXPORTER_COUNTS);
}

function readInterface(value: unknown): InterfaceHealth | null {
  if (!isRecord(value)) return null;
  const name = text(value.interface) ?? text(value.name);
  if (name === undefined) return null;
  const counters = isRecord(value.counters) ? value.counters : {};
  return {
    name,
    state: text(value.state) ?? 'unknown',
    packets: nonNegative(counters.packets),
    kernelDropped: nonNegative(counters.kernelDropped),
    failure: text(value.failure),
  };
}

/** "bytesDropped" -> "bytes dropped" (cut short: the name comes from another host). */
function spaced(key: string): string {
  return key
    .slice(0, 40)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite, non-negative number, or undefined. */
function nonNegative(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** Non-empty text, cut to a length a table cell can hold, or undefined. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value.slice(0, 200) : undefined;
}
