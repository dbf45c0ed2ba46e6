/**
 * Regression tests for the reports of the three detectors that share the VictimMeter (syn_flood,
 * volume_flood, amplification), driven through the DetectionEngine as the pipeline drives them:
 * packets, then the engine's tick on a quiet link. Found by live hping3 SYN floods
 * (test/live-attacks-netns.test.ts): a flood that stopped within a second of its first report kept
 * that report's figures (96 of 3,000 SYNs, severity medium) until the victim's next packet, and
 * every fast flood was first raised at medium whatever the rate its summary stated.
 */

import { describe, expect, it } from 'vitest';
import { randomAddresses, T0, type Frame } from '../../../test/helpers/detector-replay.js';
import { ipv4, ipv4Tcp, ipv4Udp } from '../../../test/helpers/pcap-builder.js';
import { AlertTracker } from '../../alerts/alert-tracker.js';
import type { Alert } from '../../alerts/alert.js';
import { LinkType } from '../../capture/link-type.js';
import { PacketDecoder } from '../../decode/packet-decoder.js';
import { FlowTable } from '../../flows/flow-table.js';
import { amplificationFactory } from '../amplification/amplification.js';
import { DetectionEngine } from '../detection-engine.js';
import type { DetectorFactory, PacketEvent } from '../detector.js';
import { synFloodFactory } from '../syn-flood/syn-flood.js';
import { floodSeverity } from './victim-meter.js';
import { volumeFloodFactory } from './volume-flood.js';

const VICTIM = ipv4('198.51.100.7');
const ATTACKER = ipv4('192.0.2.66');

/** An engine with one detector, fed `frames`; `tick(t)` lets the link go quiet until `t` s after T0. */
function engineRun(factory: DetectorFactory, frames: readonly Frame[]) {
  /** Each alert as its first report raised it (the tracker updates the alert itself later). */
  const firstReports: Alert[] = [];
  const tracker = new AlertTracker({}, (alert, isNew) => {
    if (isNew) firstReports.push(structuredClone(alert));
  });
  const engine = new DetectionEngine([factory.create({ ...factory.defaults }, tracker)]);
  const flows = new FlowTable({}, (t, slot, reason) => engine.onFlowEnd(t, slot, reason));
  const packet = new PacketDecoder();
  const event: PacketEvent = { packet, ts: 0, frameBytes: 0, flows, slot: -1, newFlow: false };
  const feed = (more: readonly Frame[]): void => {
    for (const f of more) {
      event.ts = T0 + Math.round(f.t * 1e6);
      packet.decode(LinkType.RAW, f.ip, 0, f.ip.length);
      event.frameBytes = f.ip.length + 14;
      const created = flows.flowsCreated;
      event.slot = flows.add(packet, event.ts, event.frameBytes);
      event.newFlow = flows.flowsCreated !== created;
      engine.onPacket(event);
    }
  };
  feed(frames);
  return {
    alerts: tracker.alerts(),
    firstReports,
    feed,
    /** The pipeline's once-a-second advance on a link with no packets, up to `t` s after T0. */
    tick: (t: number): void => {
      for (let s = Math.ceil((event.ts - T0) / 1e6); s <= t; s++) engine.advance(T0 + s * 1e6);
    },
    finish: (t: number): void => {
      engine.finish(T0 + t * 1e6);
    },
  };
}

/** hping3 -S -i u200 as measured live: one source, ~2,900 SYNs/s to port 80, new source port each. */
function hpingSynFlood(count: number, perSecond = 2900, start = 0): Frame[] {
  return Array.from({ length: count }, (_, i) => ({
    t: start + i / perSecond,
    ip: ipv4Tcp({ src: ATTACKER, dst: VICTIM, srcPort: 1024 + (i % 60000), dstPort: 80, flags: 0x02 }),
  }));
}

/** IPv4 + ICMP echo request from `src` to VICTIM. */
function echoRequest(src: number): Uint8Array {
  const b = Buffer.alloc(84);
  b[0] = 0x45;
  b.writeUInt16BE(84, 2);
  b[8] = 64;
  b[9] = 1;
  b.writeUInt32BE(src >>> 0, 12);
  b.writeUInt32BE(VICTIM >>> 0, 16);
  b[20] = 8;
  return b;
}

/** The rate `pattern` captures in a summary: "(peak 2,893/s)" -> 2893. */
function rateIn(summary: string, pattern: RegExp): number {
  const m = pattern.exec(summary);
  expect(m, summary).not.toBeNull();
  return Number(m![1]!.replaceAll(',', ''));
}

describe('a flood that stops within a second of its first report gets its final report on the tick', () => {
  it('syn_flood: final counters and severity after a tick, with no further packet, and only once', () => {
    // 2,500 SYNs in 0.86 s: after the first report (~35 ms in), no packet comes a second later.
    const run = engineRun(synFloodFactory, hpingSynFlood(2500));
    expect(run.alerts).toHaveLength(1);
    const alert = run.alerts[0]!;
    expect(alert.type).toBe('syn_flood');
    // The bug: these were the alert's figures for ever (until the victim's next packet).
    expect(alert.counters.syns).toBeLessThan(200);
    expect(alert.updates).toBe(1);

    // The live pipeline's advance, once a second, on a link gone quiet.
    run.tick(1);
    expect(alert.updates).toBe(1); // the window holding the flood just closed: not quiet yet
    run.tick(2);
    expect(alert.updates).toBe(2);
    expect(alert.counters.syns).toBeGreaterThan(2480);
    expect(alert.counters.syns).toBeLessThanOrEqual(2500);
    expect(alert.summary).toMatch(/^192\.0\.2\.66 sent 2,4\d\d SYNs to 198\.51\.100\.7:80 in 8\d\d ms/);
    expect(alert.severity).toBe('high');
    // Timed at the attack's end (last SYN + one window), not at the tick that noticed.
    expect(alert.end).toBeLessThanOrEqual(T0 + 1_863_000);

    // Never reported as ended twice: later ticks and the end of input add nothing.
    run.tick(10);
    run.finish(10);
    expect(alert.updates).toBe(2);
  });

  it("syn_flood: the tick's final report is the one a later packet would have given", () => {
    const byTick = engineRun(synFloodFactory, hpingSynFlood(2500));
    byTick.tick(5);
    // The old path: no tick, the victim's next burst (another source) notices the quiet.
    const byPacket = engineRun(synFloodFactory, hpingSynFlood(2500));
    byPacket.feed(
      randomAddresses(20, 3).map((s, i) => ({
        t: 5 + i / 1000,
        ip: ipv4Tcp({ src: s, dst: VICTIM, srcPort: 5000 + i, dstPort: 80, flags: 0x02 }),
      })),
    );
    const [a, b] = [byTick.alerts[0]!, byPacket.alerts[0]!];
    expect(b.updates).toBe(2);
    expect(a.counters).toEqual(b.counters);
    expect(a.summary).toBe(b.summary);
    expect(a.severity).toBe(b.severity);
    expect(a.end).toBe(b.end);
  });

  it('icmp_flood: final figures after a tick', () => {
    const frames = Array.from({ length: 1500 }, (_, i) => ({ t: i / 3000, ip: echoRequest(ATTACKER) }));
    const run = engineRun(volumeFloodFactory, frames);
    const alert = run.alerts[0]!;
    expect(alert.counters.packets).toBeLessThan(1500);
    run.tick(2);
    expect(alert.counters.packets).toBe(1500);
    expect(alert.summary).toMatch(/sent 1,500 ICMP echo packets .* in 500 ms/);
    run.finish(5);
    expect(alert.updates).toBe(2);
  });

  it('amplification: final figures after a tick', () => {
    const reflectors = randomAddresses(200, 21);
    const frames = Array.from({ length: 1000 }, (_, i) => ({
      t: i / 2000,
      ip: ipv4Udp(reflectors[i % 200]!, VICTIM, 53, 7777, 1200),
    }));
    const run = engineRun(amplificationFactory, frames);
    const alert = run.alerts[0]!;
    expect(alert.counters.responses).toBeLessThan(500);
    run.tick(2);
    expect(alert.counters.responses).toBeGreaterThan(980);
    run.finish(5);
    expect(alert.updates).toBe(2);
  });
});

describe("a fast flood's first report is graded by the rate its summary states", () => {
  it('syn_flood at ~2,900/s is raised high, not medium', () => {
    const run = engineRun(synFloodFactory, hpingSynFlood(3000));
    const first = run.firstReports[0]!;
    const peak = rateIn(first.summary, /\(peak ([\d,]+)\/s\)/);
    expect(peak).toBeGreaterThan(2000);
    expect(first.counters.peakSynPerSecond).toBe(peak);
    expect(first.severity).toBe(floodSeverity(peak, synFloodFactory.defaults.minSynRate, 1));
    expect(first.severity).toBe('high');
    run.tick(5);
    expect(run.alerts[0]!.severity).toBe('high');
  });

  it('icmp_flood at 60,000/s is raised critical', () => {
    const frames = Array.from({ length: 6000 }, (_, i) => ({ t: i / 60_000, ip: echoRequest(ATTACKER) }));
    const first = engineRun(volumeFloodFactory, frames).firstReports[0]!;
    const peak = rateIn(first.summary, /\(peak ([\d,]+) packets\/s/);
    expect(peak).toBeGreaterThan(50_000);
    expect(first.counters.peakPacketsPerSecond).toBe(peak);
    expect(first.severity).toBe(floodSeverity(peak / volumeFloodFactory.defaults.icmpMinPps, 1, 1));
    expect(first.severity).toBe('critical');
  });

  it('amplification at 20,000 responses/s is raised by that rate', () => {
    const reflectors = randomAddresses(200, 23);
    const frames = Array.from({ length: 4000 }, (_, i) => ({
      t: i / 20_000,
      ip: ipv4Udp(reflectors[i % 200]!, VICTIM, 53, 7777, 1200),
    }));
    const first = engineRun(amplificationFactory, frames).firstReports[0]!;
    const peak = rateIn(first.summary, /, ([\d,]+) packets\/s\)/);
    expect(peak).toBeGreaterThan(15_000);
    const o = amplificationFactory.defaults;
    const scale = Math.max(peak / o.minPps, first.counters.peakBitsPerSecond! / o.minBitsPerSecond);
    expect(first.severity).toBe(floodSeverity(scale, 1, first.counters.reflectors!));
    expect(first.severity).toBe('critical');
  });
});
