/**
 * The "Sensor" filter of the flow and alert lists: its choices ("All", "This host", then every
 * sensor and exporter the hub knows), the URL's `sensor=` value, and the API path that carries
 * it. `sensor=local` asks the API for this host's own capture. Pure.
 */

import { queryString } from '../../api/queries';
import type { SensorRow } from '../../api/api-types';

/** The filter value for this host's own flows and alerts (the API's LOCAL_SENSOR). */
export const LOCAL_SENSOR = 'local';

/** The choice of no filter (every source). */
export const ALL_SENSORS = '';

/**
 * What the API takes as `sensor` (src/api/routes/common-schemas.ts sensorName): a sensor's name,
 * `exporter:<address>`, or `local`. Anything else would be refused, so it is never sent.
 */
const SENSOR_FILTER = /^([A-Za-z0-9_-]{1,64}|exporter:[0-9A-Fa-f:.]{2,45})$/;

export function isSensorFilter(value: string): boolean {
  return SENSOR_FILTER.test(value);
}

/** The sensor filter of a page's query (`?sensor=edge-1`); undefined when absent or unusable. */
export function readSensorFilter(query: URLSearchParams): string | undefined {
  const value = query.get('sensor')?.trim() ?? '';
  return isSensorFilter(value) ? value : undefined;
}

/**
 * The filter's choices in order: all, this host, the sensors by name, then the exporters by name;
 * `selected` is kept among them when the list does not name it (a source not heard from yet, or
 * the list not loaded), so the select still shows what is in force.
 */
export function sensorFilterOptions(
  rows: readonly Pick<SensorRow, 'name' | 'kind'>[],
  selected: string | undefined,
): string[] {
  const byName = (kind: string) =>
    rows
      .filter((row) => row.kind === kind)
      .map((row) => row.name)
      .sort((a, b) => a.localeCompare(b));
  const names = [...new Set([...byName('sensor'), ...byName('exporter')])].filter(
    (name) => name !== LOCAL_SENSOR && name !== ALL_SENSORS,
  );
  const options = [ALL_SENSORS, LOCAL_SENSOR, ...names];
  if (selected !== undefined && !options.includes(selected)) options.push(selected);
  return options;
}

/** How a choice reads in the select. */
export function sensorOptionLabel(option: string): string {
  if (option === ALL_SENSORS) return 'All';
  if (option === LOCAL_SENSOR) return 'This host';
  return option;
}

/**
 * `path` (an API or page path, with or without a query) with `sensor=` added when one is given;
 * a value the API would refuse is left out, as the filter would never send it.
 */
export function withSensor(path: string, sensor: string | undefined): string {
  if (sensor === undefined || !isSensorFilter(sensor)) return path;
  const param = queryString({ sensor }).slice(1);
  return `${path}${path.includes('?') ? '&' : '?'}${param}`;
}

/** The flow list of one source: the Sensors page's links. */
export function sensorFlowsPath(name: string): string {
  return `/flows${queryString({ sensor: name })}`;
}
