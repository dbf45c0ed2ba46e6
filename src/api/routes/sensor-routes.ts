/**
 * The sensors: every FlowTrack sensor and NetFlow/IPFIX exporter the hub has heard from, with its
 * last contact and latest health, and the state of what takes their flows (the bus, the
 * collector). Read by every signed-in user, as the flows themselves are.
 */

import type { Api, ApiDeps } from '../api-context.js';

/** A sensor not heard from for this long is shown as out of contact (it reports every 5 s). */
export const SENSOR_STALE_MS = 30_000;

export function registerSensorRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/sensors',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Sensors and exporters, the most recently heard from first, with their last contact',
        tags: ['sensors'],
      },
    },
    async () => {
      const now = deps.now();
      const sensors = await deps.store.sensors.list();
      return {
        sensors: sensors.map((s) => ({ ...s, inContact: now - s.lastContactMs <= SENSOR_STALE_MS })),
        ...(deps.sensorSources?.() ?? { hub: null, collector: null }),
      };
    },
  );
}
