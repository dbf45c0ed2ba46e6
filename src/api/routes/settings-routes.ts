/**
 * The settings the dashboard shows: each detector's thresholds as this server runs them (the
 * configuration's values over the detectors' defaults), with what each means and where to change
 * it. Read-only: detection runs in the pipeline worker with the options it started with, so a
 * change takes the configuration file (or its FLOWTRACK_DETECTION_* variable) and a restart.
 */

import { envName } from '../../config/service-config.js';
import { DETECTOR_FACTORIES } from '../../detect/detector-registry.js';
import type { Api, ApiDeps } from '../api-context.js';

export interface DetectorSetting {
  name: string;
  description: string;
  options: {
    name: string;
    value: number;
    default: number;
    help: string;
    /** The configuration key and the environment variable that set it. */
    key: string;
    env: string;
  }[];
}

/** Every detector with its effective options, given the configured overrides. */
export function detectionSettings(
  configured: Readonly<Record<string, Readonly<Record<string, number>>>>,
): DetectorSetting[] {
  return DETECTOR_FACTORIES.map((f) => ({
    name: f.name,
    description: f.description,
    options: Object.entries(f.defaults).map(([option, fallback]) => ({
      name: option,
      value: configured[f.name]?.[option] ?? fallback,
      default: fallback,
      help: f.help[option] ?? '',
      key: `detection.${f.name}.${option}`,
      env: envName(['detection', f.name, option]),
    })),
  }));
}

export function registerSettingsRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/settings/detection',
    {
      config: { access: 'viewer' },
      schema: {
        summary: "Each detector's thresholds as this server runs them, with their defaults and keys",
        tags: ['settings'],
      },
    },
    () => ({ detectors: detectionSettings(deps.detection ?? {}) }),
  );
}
