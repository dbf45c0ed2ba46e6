/**
 * GET /api/sensors through the shared query cache: the Sensors page and the Sensor filters of the
 * flow and alert lists ask for the same path, so they share one request.
 */

import type { UseQueryResult } from '@tanstack/react-query';
import type { SensorsView } from '../../api/api-types';
import { useApiQuery } from '../../api/queries';

export const SENSORS_PATH = '/api/sensors';

/** The sensors, exporters, hub and collector, fetched again every `refreshMs` when given. */
export function useSensors(refreshMs?: number): UseQueryResult<SensorsView> {
  return useApiQuery<SensorsView>(SENSORS_PATH, refreshMs);
}

/** Whether any sensor or exporter is known: the lists show a Sensor column only then. */
export function useAnySensor(): boolean {
  const sensors = useSensors();
  return (sensors.data?.sensors.length ?? 0) > 0;
}
