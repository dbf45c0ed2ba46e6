/**
 * GET /api/settings/detection over real HTTP: every detector with its thresholds as the server
 * runs them (a configured value over the default), with the configuration key and the variable
 * that set it.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DETECTOR_FACTORIES } from '../src/detect/detector-registry.js';
import { startTestServer, type TestServer } from './helpers/api-server.js';

interface Settings {
  detectors: {
    name: string;
    options: { name: string; value: number; default: number; help: string; key: string; env: string }[];
  }[];
}

describe('API detection settings (real HTTP)', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ FLOWTRACK_DETECTION_PORT_SCAN_MIN_PORTS: '42' });
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists every detector, with the configured value over the default and where to change it', async () => {
    const { accessToken } = await t.signIn('vera', 'viewer');
    const res = await t.request('GET', '/api/settings/detection', { token: accessToken });
    expect(res.status).toBe(200);
    const { detectors } = res.body as Settings;
    expect(detectors.map((d) => d.name)).toEqual(DETECTOR_FACTORIES.map((f) => f.name));
    const minPorts = detectors
      .find((d) => d.name === 'port_scan')
      ?.options.find((o) => o.name === 'minPorts');
    expect(minPorts).toMatchObject({
      value: 42,
      key: 'detection.port_scan.minPorts',
      env: 'FLOWTRACK_DETECTION_PORT_SCAN_MIN_PORTS',
    });
    expect(minPorts?.default).not.toBe(42);
    expect(minPorts?.help).not.toBe('');
    const flood = detectors.find((d) => d.name === 'connection_flood');
    expect(flood?.options.every((o) => o.value === o.default)).toBe(true);
  });
});
