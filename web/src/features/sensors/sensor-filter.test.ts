/** The Sensor filter of the flow and alert lists: its choices, the URL's value, the paths it makes. */

import { describe, expect, it } from 'vitest';
import {
  isSensorFilter,
  readSensorFilter,
  sensorFilterOptions,
  sensorFlowsPath,
  sensorOptionLabel,
  withSensor,
} from './sensor-filter';

const rows = [
  { name: 'exporter:192.0.2.1', kind: 'exporter' as const },
  { name: 'zulu', kind: 'sensor' as const },
  { name: 'edge-1', kind: 'sensor' as const },
  { name: 'exporter:2001:db8::1', kind: 'exporter' as const },
];

describe('the sensor filter', () => {
  it('offers All, This host, the sensors by name, then the exporters by name', () => {
    const options = sensorFilterOptions(rows, undefined);
    expect(options).toEqual(['', 'local', 'edge-1', 'zulu', 'exporter:192.0.2.1', 'exporter:2001:db8::1']);
    expect(options.map(sensorOptionLabel).slice(0, 3)).toEqual(['All', 'This host', 'edge-1']);
  });

  it('keeps the value in force among the choices when the list does not name it', () => {
    expect(sensorFilterOptions([], 'gone-sensor')).toEqual(['', 'local', 'gone-sensor']);
    expect(sensorFilterOptions(rows, 'zulu').filter((o) => o === 'zulu')).toHaveLength(1);
    expect(sensorFilterOptions([], 'local')).toEqual(['', 'local']);
  });

  it('reads only values the API takes from the URL', () => {
    const read = (search: string) => readSensorFilter(new URLSearchParams(search));
    expect(read('sensor=edge-1')).toBe('edge-1');
    expect(read('sensor=local')).toBe('local');
    expect(read('sensor=exporter%3A192.0.2.1')).toBe('exporter:192.0.2.1');
    expect(read('sensor=%20edge-1%20')).toBe('edge-1');
    expect(read('')).toBeUndefined();
    expect(read('sensor=')).toBeUndefined();
    expect(read("sensor=edge'1")).toBeUndefined();
    expect(read(`sensor=${'a'.repeat(65)}`)).toBeUndefined();
    expect(read('sensor=exporter%3Arouter.example')).toBeUndefined();
    expect(isSensorFilter('a'.repeat(64))).toBe(true);
  });

  it('adds the sensor to a path with or without a query, and leaves out what the API would refuse', () => {
    expect(withSensor('/api/anomalies?status=open&limit=50', 'edge-1')).toBe(
      '/api/anomalies?status=open&limit=50&sensor=edge-1',
    );
    expect(withSensor('/api/anomalies', 'exporter:2001:db8::1')).toBe(
      '/api/anomalies?sensor=exporter%3A2001%3Adb8%3A%3A1',
    );
    expect(withSensor('/flows?address=10.0.0.5', 'local')).toBe('/flows?address=10.0.0.5&sensor=local');
    expect(withSensor('/api/anomalies?limit=50', undefined)).toBe('/api/anomalies?limit=50');
    expect(withSensor('/api/anomalies?limit=50', '')).toBe('/api/anomalies?limit=50');
    expect(withSensor('/api/anomalies?limit=50', 'a&b=c')).toBe('/api/anomalies?limit=50');
  });

  it("links a sensor's name to its flows", () => {
    expect(sensorFlowsPath('edge-1')).toBe('/flows?sensor=edge-1');
    expect(sensorFlowsPath('exporter:192.0.2.1')).toBe('/flows?sensor=exporter%3A192.0.2.1');
  });
});
