/**
 * NetFlow in the service: a real exporter (softflowd reading a port-scan capture) sends NetFlow v9
 * to the collector of a running server. Its flows are stored under the exporter's name, the
 * exporter is listed as a sensor, and the flow-record detectors raise the scan from the records
 * alone, and a ping sweep (another capture) from its ICMP records. An exporter the configuration
 * does not allow is dropped and counted.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/api-server.js';
import { corpusPath, describeWithCorpus } from './helpers/corpus.js';
import { run, waitFor } from './helpers/netns.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const SCAN = 'Pcaphunt/attacks/ps-tcp_syn.pcap';
const PING_SWEEP = 'Pcaphunt/attacks/hs-icmpScan.pcap';

describeWithCorpus('the flow collector in the service', () => {
  describeUnlessMissing(
    hasTool('softflowd') ? null : 'softflowd',
    'run scripts/setup.sh --test',
    'NetFlow v9 from softflowd into a running server',
    () => {
      let server: TestServer;
      let token: string;
      let port: number;

      beforeAll(async () => {
        server = await startTestServer({
          FLOWTRACK_COLLECTOR_ENABLED: 'true',
          FLOWTRACK_COLLECTOR_LISTEN: '127.0.0.1:0',
          FLOWTRACK_COLLECTOR_EXPORTERS: '127.0.0.1',
        });
        token = (await server.signIn('ada', 'admin')).accessToken;
        const sensors = await server.request('GET', '/api/sensors', { token });
        port = Number((sensors.body as { collector: { listen: string } }).collector.listen.split(':')[1]);
      });

      afterAll(async () => {
        await server.close();
      });

      it("stores the exporter's flows under its name, lists it, and raises the scan from the records", async () => {
        await run('softflowd', ['-r', corpusPath(SCAN), '-n', `127.0.0.1:${port}`, '-v', '9', '-d'], {
          timeoutSeconds: 60,
        });
        const flows = await waitFor(
          "the exporter's flows in the store",
          async () => {
            const page = await server.request('GET', '/api/flows?sensor=exporter:127.0.0.1&limit=500', {
              token,
            });
            const items = (page.body as { items: { sensor: string }[] }).items;
            return items.length > 100 ? items : null;
          },
          20_000,
          250,
        );
        expect(new Set(flows.map((f) => f.sensor))).toEqual(new Set(['exporter:127.0.0.1']));
        const sensors = await waitFor(
          'the exporter among the sensors',
          async () => {
            const answer = await server.request('GET', '/api/sensors', { token });
            const list = (answer.body as { sensors: { name: string; kind: string }[] }).sensors;
            return list.some((s) => s.name === 'exporter:127.0.0.1') ? list : null;
          },
          15_000,
          250,
        );
        expect(sensors.find((s) => s.name === 'exporter:127.0.0.1')?.kind).toBe('exporter');
        const scan = await waitFor(
          'a port scan alert from the flow records',
          async () => {
            const answer = await server.request('GET', '/api/anomalies?type=port_scan', { token });
            const items = (answer.body as { items: { type: string; src: string }[] }).items;
            return items.length > 0 ? items : null;
          },
          15_000,
          250,
        );
        expect(scan[0]?.type).toBe('port_scan');
        // Prometheus sees the collector's counts; this server is no hub nor sensor.
        const scrape = await (await fetch(`${server.server.url}/metrics`)).text();
        const figure = (name: string): number =>
          Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(scrape)?.[1]);
        expect(figure('flowtrack_collector_datagrams_total')).toBeGreaterThan(0);
        expect(figure('flowtrack_collector_flows_total')).toBeGreaterThanOrEqual(flows.length);
        expect(figure('flowtrack_collector_exporters')).toBe(1);
        expect(scrape).not.toMatch(/^flowtrack_(hub|sensor)_/m);
      });

      it("raises a ping sweep from the records, ICMP type and code read from softflowd's icmpTypeCodeIPv4", async () => {
        // v9 carries them in element 32, not in a port (regression: every echo request read as a reply).
        await run('softflowd', ['-r', corpusPath(PING_SWEEP), '-n', `127.0.0.1:${port}`, '-v', '9', '-d'], {
          timeoutSeconds: 60,
        });
        const sweep = await waitFor(
          'a host sweep alert from the flow records',
          async () => {
            const answer = await server.request('GET', '/api/anomalies?type=host_sweep', { token });
            const items = (answer.body as { items: { src: string; summary: string }[] }).items;
            return items.length > 0 ? items : null;
          },
          15_000,
          250,
        );
        expect(sweep[0]).toMatchObject({ src: '10.0.0.128' });
        expect(sweep[0]?.summary).toContain('ICMP echo (ping)');
      });
    },
  );
});
