/**
 * The names on the bus: the two JetStream streams, their subjects and their configuration, all
 * derived from one prefix so that several FlowTrack sites (or tests) can share a NATS server.
 *
 *   <P>_SENSORS   <p>.sensor.<name>.flows | .alerts | .health   what sensors send to the hub
 *   <P>_BLOCKS    <p>.blocks.<address>                          the hub's orders, the latest per address
 *
 * Must never: let a name from outside (a sensor, an address) put a '.', '*' or '>' into a subject.
 */

import { nanos } from '@nats-io/transport-node';
import { DiscardPolicy, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { parseSource, addressValue } from '../respond/firewall-backend.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { SENSOR_NAME } from './bus-messages.js';

export const DEFAULT_BUS_PREFIX = 'flowtrack';

/** What a sensor sends; the last token of its subjects. */
export type SensorMessageKind = 'flows' | 'alerts' | 'health';
export const SENSOR_MESSAGE_KINDS: readonly SensorMessageKind[] = ['flows', 'alerts', 'health'];

export interface BusNames {
  sensorsStream: string;
  blocksStream: string;
  /** `<p>.sensor.>`: everything every sensor sends. */
  sensorsFilter: string;
  /** `<p>.blocks.>` */
  blocksFilter: string;
  sensorSubject(sensor: string, kind: SensorMessageKind): string;
  /** The sensor and the kind of a sensor subject, or null when it is not one. */
  parseSensorSubject(subject: string): { sensor: string; kind: SensorMessageKind } | null;
  /** One subject per address or prefix, whatever way it is written (throws BAD_REQUEST for a bad one). */
  blockSubject(address: string): string;
}

/** The names for `prefix` (letters, digits, '_' and '-'; default "flowtrack"). */
export function busNames(prefix: string = DEFAULT_BUS_PREFIX): BusNames {
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(prefix)) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `the bus prefix ${JSON.stringify(prefix)} must be 1 to 32 letters, digits, _ or -`,
    );
  }
  const streamPrefix = prefix.toUpperCase();
  const p = prefix.toLowerCase();
  return {
    sensorsStream: `${streamPrefix}_SENSORS`,
    blocksStream: `${streamPrefix}_BLOCKS`,
    sensorsFilter: `${p}.sensor.>`,
    blocksFilter: `${p}.blocks.>`,
    sensorSubject(sensor, kind) {
      checkSensorName(sensor);
      return `${p}.sensor.${sensor}.${kind}`;
    },
    parseSensorSubject(subject) {
      const parts = subject.split('.');
      const [first, second, sensor, kind] = parts;
      if (parts.length !== 4 || first !== p || second !== 'sensor' || sensor === undefined) return null;
      if (!SENSOR_NAME.test(sensor) || !SENSOR_MESSAGE_KINDS.includes(kind as SensorMessageKind)) return null;
      return { sensor, kind: kind as SensorMessageKind };
    },
    blockSubject(address) {
      const source = parseSource(address);
      // The address as a number and its prefix length: 2001:DB8::1 and 2001:db8:0::1 are one subject.
      return `${p}.blocks.v${source.family}_${addressValue(source).toString(16)}_${source.len}`;
    },
  };
}

/** Throws BAD_OPTION unless `name` can name a sensor. */
export function checkSensorName(name: string): void {
  if (!SENSOR_NAME.test(name)) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `the sensor name ${JSON.stringify(name)} must be 1 to 64 letters, digits, _ or - (e.g. the host name)`,
    );
  }
}

/** How long and how much the SENSORS stream keeps (what the hub has not read yet is lost past these). */
export interface SensorsRetention {
  /** Default 7 days. */
  maxAgeMs?: number;
  /** Default 1 GiB. */
  maxBytes?: number;
}

/** How long the SENSORS stream keeps a message unless configured otherwise. */
export const SENSORS_MAX_AGE_MS = 7 * 86_400_000;

/** JetStream drops a second message with the same Nats-Msg-Id within this window. */
export const DUPLICATE_WINDOW_MS = 10 * 60_000;

/** The SENSORS stream: on disk, kept for an age and a size, duplicates dropped by message id. */
export function sensorsStreamConfig(
  names: BusNames,
  retention: SensorsRetention = {},
): Partial<StreamConfig> {
  const maxAgeMs = retention.maxAgeMs ?? SENSORS_MAX_AGE_MS;
  const maxBytes = retention.maxBytes ?? 1 << 30;
  if (!Number.isSafeInteger(maxAgeMs) || maxAgeMs < DUPLICATE_WINDOW_MS) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `the sensors stream's maxAgeMs must be at least ${DUPLICATE_WINDOW_MS}`,
    );
  }
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 1 << 20) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `the sensors stream's maxBytes must be at least 1 MiB`);
  }
  return {
    name: names.sensorsStream,
    subjects: [names.sensorsFilter],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(maxAgeMs),
    max_bytes: maxBytes,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
}

/** The BLOCKS stream: on disk, the latest order per address and nothing older. */
export function blocksStreamConfig(names: BusNames): Partial<StreamConfig> {
  return {
    name: names.blocksStream,
    subjects: [names.blocksFilter],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
  };
}
