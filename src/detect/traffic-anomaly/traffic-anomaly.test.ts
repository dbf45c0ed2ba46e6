import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { analyzeCapture } from '../../analyze/analyze-capture.js';
import { ethernet, ipv4, ipv4Udp, pcapFile, type PcapRecord } from '../../../test/helpers/pcap-builder.js';
import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { PacketEvent } from '../detector.js';
import { TrafficAnomalyDetector, trafficAnomalyFactory } from './traffic-anomaly.js';

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-traffic-anomaly-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const T0 = 1_700_000_000;
const HOST = ipv4('10.1.2.3');

/**
 * A generated stream (no real capture in the corpus has a quiet baseline of minutes followed by a
 * burst): HOST sends `rate(second)` packets a second to 4 peers, with +-10% jitter so the
 * baseline has a variance.
 */
function stream(seconds: number, rate: (second: number) => number, crowdPerSecond = 0): PcapRecord[] {
  const records: PcapRecord[] = [];
  let seed = 7;
  for (let sec = 0; sec < seconds; sec++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    const n = Math.round(rate(sec) * (0.9 + (seed / 2 ** 32) * 0.2));
    for (let i = 0; i < n; i++) {
      records.push({
        sec: T0 + sec,
        frac: Math.floor((i * 1e6) / n),
        data: ethernet(ipv4Udp(HOST, ipv4('10.9.0.1') + (i % 4), 5000, 6000, 200)),
      });
    }
    // A crowd of one-packet sources (spoofed), each seen once in the whole capture.
    for (let i = 0; i < crowdPerSecond; i++) {
      records.push({
        sec: T0 + sec,
        frac: Math.floor((i * 1e6) / crowdPerSecond) + 1,
        data: ethernet(ipv4Udp(ipv4('100.64.0.0') + sec * crowdPerSecond + i, HOST, 53, 5000, 40)),
      });
    }
  }
  return records;
}

async function anomalies(records: PcapRecord[], name: string, maxHosts?: number) {
  const path = join(dir, name);
  writeFileSync(path, pcapFile(records));
  const report = await analyzeCapture(
    path,
    maxHosts === undefined ? {} : { detection: { traffic_anomaly: { maxHosts } } },
  );
  return report.alerts.filter((a) => a.type === 'traffic_anomaly');
}

describe('traffic_anomaly (generated stream: quiet warm-up, then a 10x burst)', () => {
  it('reports the host, the metric, its value, the baseline and the deviations', async () => {
    // 6 minutes at 100 packets/s (past the 5-minute warm-up), then 30 s at 1,000 packets/s.
    const alerts = await anomalies(
      stream(390, (s) => (s < 360 ? 100 : 1000)),
      'burst.pcap',
    );
    const host = alerts.filter((a) => a.src === '10.1.2.3');
    expect(host.length).toBeGreaterThan(0);
    const a = host[0]!;
    expect(a.summary).toMatch(
      /^10\.1\.2\.3 sent [\d,]+ (packets\/s|bytes\/s) over 10 s, [\d.]+ deviations above its baseline/,
    );
    expect(a.counters['packetsPerSecond']).toBeGreaterThanOrEqual(900);
    expect(a.counters['packetsPerSecondBaseline']).toBeLessThan(200);
    expect(a.counters['packetsPerSecondDeviations']).toBeGreaterThanOrEqual(6);
    expect(a.start).toBeGreaterThanOrEqual((T0 + 360) * 1e6 - 10e6);
    // 10x is a clear anomaly but not an extreme one: medium at most.
    expect(['low', 'medium']).toContain(a.severity);
    // The capture-wide baseline sees it too (no source: all traffic).
    const overall = alerts.filter((x) => x.src === null);
    expect(overall.length).toBeGreaterThan(0);
    expect(overall[0]!.summary).toMatch(/^All traffic ran at/);
  });

  it("keeps the busy host's baseline through 500 one-packet spoofed sources an interval in a 100-host table", async () => {
    const records = stream(390, (s) => (s < 360 ? 100 : 1000), 50).sort(
      (a, b) => a.sec - b.sec || a.frac - b.frac,
    );
    // Without admission by packet count the crowd would evict the host every interval and its
    // baseline would never finish warming up.
    const alerts = await anomalies(records, 'crowd.pcap', 100);
    expect(alerts.filter((a) => a.src === '10.1.2.3').length).toBeGreaterThan(0);
    expect(alerts.filter((a) => a.src !== '10.1.2.3' && a.src !== null)).toEqual([]);
  });

  it('stays quiet without the burst, and before the warm-up is over', async () => {
    expect(
      await anomalies(
        stream(390, () => 100),
        'steady.pcap',
      ),
    ).toEqual([]);
    // The same burst after only 2 minutes of baseline: the warm-up has not ended.
    expect(
      await anomalies(
        stream(150, (s) => (s < 120 ? 100 : 1000)),
        'early.pcap',
      ),
    ).toEqual([]);
  });

  it('does not call a small rise anomalous, however many deviations (minimum absolute size)', async () => {
    // 5 -> 50 packets/s: 10x, but far below the 500 packets/s minimum.
    expect(
      await anomalies(
        stream(390, (s) => (s < 360 ? 5 : 50)),
        'small.pcap',
      ),
    ).toEqual([]);
  });
});

describe('traffic_anomaly admission filter', () => {
  it('gives a spoofed flood of one-packet sources no host slot, and still admits a busy host', () => {
    const alerts = { report: () => null } as unknown as AlertTracker;
    const d = new TrafficAnomalyDetector(trafficAnomalyFactory.defaults, alerts);
    const slots = 4096;
    const flows = {
      flowId: new Float64Array(slots),
      addrA: new Uint32Array(slots * 4),
      addrB: new Uint32Array(slots * 4),
      allocatedSlots: slots,
    };
    const src = new Uint32Array(4);
    const packet = { ipVersion: 4, src };
    const event = { packet, ts: 0, frameBytes: 60, flows, slot: 0, newFlow: true } as unknown as PacketEvent;
    const t0 = T0 * 1e6;
    // 1,000,000 new sources in 5 s, one packet each (a Count-Min of 8,192 counters a row saturated
    // at 122 a counter and admitted them all), and HOST sending every 5,000th packet: 200.
    for (let i = 0; i < 1_000_000; i++) {
      const slot = i % slots;
      const from = i % 5000 === 0 ? HOST : ipv4('100.64.0.0') + i;
      flows.flowId[slot] = i;
      flows.addrA[slot * 4] = src[0] = from;
      flows.addrB[slot * 4] = ipv4('10.9.0.1');
      event.slot = slot;
      event.ts = t0 + i * 5;
      d.onPacket(event);
    }
    expect(d.trackedHosts).toBe(1);
  });
});
