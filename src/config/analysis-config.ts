/**
 * The configuration file of `flowtrack analyze` (JSON): flow-table limits and detector options.
 * Read and checked once at start-up; every bad key is reported at once with its name and value,
 * then the result is frozen.
 *
 *   {
 *     "flows": { "maxFlows": 500000, "idleTimeoutSeconds": 60, "activeTimeoutSeconds": 1800,
 *                "closedTimeoutSeconds": 15 },
 *     "detection": { "connection_flood": { "perMinute": 200 }, "port_scan": { "minPorts": 20 } }
 *   }
 */

import { readFileSync } from 'node:fs';
import { parseDetectionSettings, type DetectionSettings } from '../detect/detector-registry.js';
import type { FlowTableOptions } from '../flows/flow-table.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

export interface AnalysisConfig {
  flows: Partial<FlowTableOptions>;
  detection: DetectionSettings;
}

const FLOW_KEYS: Record<string, keyof FlowTableOptions> = {
  maxFlows: 'maxFlows',
  idleTimeoutSeconds: 'idleTimeoutMicros',
  activeTimeoutSeconds: 'activeTimeoutMicros',
  closedTimeoutSeconds: 'closedTimeoutMicros',
};

/** Reads and checks the configuration file at `path`. */
export function loadAnalysisConfig(path: string): Readonly<AnalysisConfig> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `cannot read the configuration file ${path}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `configuration file ${path} is not valid JSON: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return Object.freeze(parseAnalysisConfig(raw, path));
}

/** Checks a parsed configuration object; `source` names it in errors. */
export function parseAnalysisConfig(raw: unknown, source: string): AnalysisConfig {
  const problems: string[] = [];
  const config: AnalysisConfig = { flows: {}, detection: {} };
  if (!isObject(raw)) throw bad(source, ['the top level must be an object with "flows" and/or "detection"']);
  for (const key of Object.keys(raw)) {
    if (key !== 'flows' && key !== 'detection')
      problems.push(`unknown key "${key}" (keys: flows, detection)`);
  }
  if (raw.flows !== undefined) {
    if (!isObject(raw.flows)) problems.push('"flows" must be an object');
    else {
      for (const [key, value] of Object.entries(raw.flows)) {
        const target = FLOW_KEYS[key];
        if (!target) {
          problems.push(`unknown key "flows.${key}" (keys: ${Object.keys(FLOW_KEYS).join(', ')})`);
        } else if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
          problems.push(`"flows.${key}" must be a number above 0, not ${JSON.stringify(value)}`);
        } else if (target === 'maxFlows') {
          if (Number.isInteger(value)) config.flows.maxFlows = value;
          else problems.push(`"flows.maxFlows" must be a whole number, not ${value}`);
        } else {
          config.flows[target] = Math.round(value * 1e6);
        }
      }
    }
  }
  if (raw.detection !== undefined) {
    if (!isObject(raw.detection)) problems.push('"detection" must be an object of detector names');
    else {
      const settings: string[] = [];
      for (const [name, options] of Object.entries(raw.detection)) {
        if (!isObject(options)) {
          problems.push(`"detection.${name}" must be an object of options`);
          continue;
        }
        for (const [option, value] of Object.entries(options))
          settings.push(`${name}.${option}=${String(value)}`);
      }
      try {
        config.detection = parseDetectionSettings(settings);
      } catch (err) {
        problems.push((err as Error).message.replace(/^bad detection setting: /, ''));
      }
    }
  }
  if (problems.length > 0) throw bad(source, problems);
  return config;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(source: string, problems: string[]): FlowTrackError {
  return new FlowTrackError(ErrorCode.BAD_OPTION, `configuration file ${source}: ${problems.join('; ')}`);
}
