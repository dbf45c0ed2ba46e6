/**
 * Every detector FlowTrack has, with its options: builds the configured set and parses option
 * settings such as `connection_flood.perMinute=200` (command line now, config file later).
 * Unknown names and bad values are reported all at once with what is valid.
 */

import type { AlertTracker } from '../alerts/alert-tracker.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Detector, DetectorFactory, DetectorOptions } from './detector.js';
import { synFloodFactory } from './syn-flood/syn-flood.js';
import { volumeFloodFactory } from './volume-flood/volume-flood.js';
import { amplificationFactory } from './amplification/amplification.js';
import { hostSweepFactory } from './host-sweep/host-sweep.js';
import { portScanFactory } from './port-scan/port-scan.js';
import { bruteForceFactory } from './brute-force/brute-force.js';
import { connectionFloodFactory } from './connection-flood/connection-flood.js';
import { trafficAnomalyFactory } from './traffic-anomaly/traffic-anomaly.js';

/** Each detector adds its factory here (one line each). */
export const DETECTOR_FACTORIES: readonly DetectorFactory[] = [
  // scans
  portScanFactory,
  hostSweepFactory,
  // floods
  synFloodFactory,
  volumeFloodFactory,
  amplificationFactory,
  // brute force, connection flood and anomalies
  bruteForceFactory,
  connectionFloodFactory,
  trafficAnomalyFactory,
];

/** Option overrides per detector name. */
export type DetectionSettings = Record<string, DetectorOptions>;

/** Builds every detector with its defaults overridden by `settings`. */
export function createDetectors(alerts: AlertTracker, settings: DetectionSettings = {}): Detector[] {
  return DETECTOR_FACTORIES.map((f) => f.create({ ...f.defaults, ...settings[f.name] }, alerts));
}

/**
 * Parses settings like "port_scan.minPorts=20" into DetectionSettings; throws one FlowTrackError
 * that lists every bad setting.
 */
export function parseDetectionSettings(items: readonly string[]): DetectionSettings {
  const settings: DetectionSettings = {};
  const problems: string[] = [];
  for (const item of items) {
    const m = /^([a-z_]+)\.([A-Za-z]+)=(.+)$/.exec(item);
    if (!m) {
      problems.push(`"${item}" is not of the form detector.option=number`);
      continue;
    }
    const [, name, option, raw] = m as unknown as [string, string, string, string];
    const factory = DETECTOR_FACTORIES.find((f) => f.name === name);
    if (!factory) {
      problems.push(
        `no detector "${name}" (detectors: ${DETECTOR_FACTORIES.map((f) => f.name).join(', ') || 'none'})`,
      );
      continue;
    }
    if (!(option in factory.defaults)) {
      problems.push(
        `detector ${name} has no option "${option}" (options: ${Object.keys(factory.defaults).join(', ')})`,
      );
      continue;
    }
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) {
      problems.push(`${name}.${option} must be a number of at least 0, not "${raw}"`);
      continue;
    }
    (settings[name] ??= {})[option] = value;
  }
  if (problems.length > 0) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `bad detection setting: ${problems.join('; ')}`);
  }
  return settings;
}
