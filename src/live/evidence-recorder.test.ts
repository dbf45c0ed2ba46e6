/**
 * The evidence recorder with real packets, a real PacketDecoder and real files: each packet goes
 * keep() -> decode -> (alert raised) -> afterPacket() in the order pipeline-runner.ts uses, and
 * the packet's buffer is overwritten afterwards as the capture parser reuses it. Each evidence
 * file is read back with readCapture (and tshark when installed) and compared with what was sent.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Alert } from '../alerts/alert.js';
import { readCapture } from '../capture/capture-file.js';
import type { CapturedPacket } from '../capture/capture-parser.js';
import { LinkType } from '../capture/link-type.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { ethernet, ipv4, ipv4Tcp } from '../../test/helpers/pcap-builder.js';
import { describeUnlessMissing, hasTool } from '../../test/helpers/system-tools.js';
import {
  DEFAULT_EVIDENCE_OPTIONS,
  EvidenceRecorder,
  evidenceFileName,
  type EvidenceFile,
  type EvidenceOptions,
} from './evidence-recorder.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-evidence-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const T0 = 1_700_000_000 * 1e6;
const SECOND = 1e6;
const ATTACKER = '10.0.0.66';
const VICTIM = '10.0.0.1';
const OTHER = '10.0.0.20';
/** Ethernet (14) + IPv4 (20) + TCP (20) bytes of every test frame before its payload. */
const FRAME_HEADERS = 54;
/** The recorder's ring header per packet (evidence-recorder.ts RING_HEADER_BYTES). */
const RING_HEADER = 20;
const PCAP_HEADER = 24;
const PCAP_RECORD_HEADER = 16;
/** Bytes before the frame in the parser's chunk: records never start at offset 0. */
const CHUNK_PAD = 7;

/** A packet as the recorder should keep it: its time, length on the wire and bytes (cut to the snap length). */
interface KeptPacket {
  tsMicros: number;
  origLen: number;
  hex: string;
}

interface SentPacket {
  src: string;
  dst: string;
  tsMicros: number;
  frame: Buffer;
}

let dirCount = 0;

/** An evidence recorder in a fresh folder that packets go through as in pipeline-runner.ts. */
class RecorderUnderTest {
  readonly dir = join(tmp, `evidence-${++dirCount}`);
  readonly files: EvidenceFile[] = [];
  readonly recorder: EvidenceRecorder;
  readonly options: EvidenceOptions;
  private readonly decoder = new PacketDecoder();

  constructor(options: Partial<EvidenceOptions> = {}) {
    this.options = { ...DEFAULT_EVIDENCE_OPTIONS, ringBytes: 64 * 1024, ...options, dir: this.dir };
    this.recorder = new EvidenceRecorder(this.options, (file) => this.files.push(file));
  }

  /** One packet: kept, decoded, `raise` run as the tracker would while it is decoded, then recorded. */
  send(sent: SentPacket, raise?: () => void): void {
    const data = Buffer.concat([Buffer.alloc(CHUNK_PAD, 0xee), sent.frame, Buffer.alloc(CHUNK_PAD, 0xee)]);
    const pkt: CapturedPacket = {
      linkType: LinkType.ETHERNET,
      tsMicros: sent.tsMicros,
      capLen: sent.frame.length,
      origLen: sent.frame.length,
      data,
      offset: CHUNK_PAD,
      interfaceId: 0,
      fileOffset: 0,
    };
    this.recorder.keep(pkt);
    this.decoder.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
    raise?.();
    this.recorder.afterPacket(pkt, this.decoder);
    // The parser reuses its chunk for the next packet: whatever the recorder kept must be a copy.
    data.fill(0xaa);
  }

  raise(alert: Alert, isNew = true): void {
    this.recorder.onAlert(alert, isNew);
  }

  path(file: string): string {
    return join(this.dir, file);
  }

  /** The last thing the recorder said about `alertId`'s file. */
  lastFile(alertId: string): EvidenceFile | undefined {
    return this.files.filter((f) => f.alertId === alertId).at(-1);
  }

  /** The folder's file names, sorted. */
  listing(): string[] {
    return readdirSync(this.dir).sort();
  }

  /** Bytes of every file in the folder (finished or being written). */
  folderBytes(): number {
    return readdirSync(this.dir).reduce((sum, name) => sum + statSync(this.path(name)).size, 0);
  }

  kept(sent: SentPacket): KeptPacket {
    return {
      tsMicros: sent.tsMicros,
      origLen: sent.frame.length,
      hex: sent.frame.subarray(0, this.options.snapBytes).toString('hex'),
    };
  }
}

function tcpPacket(src: string, dst: string, tsMicros: number, payloadBytes = 0, seq = 0): SentPacket {
  const payload = Buffer.alloc(payloadBytes);
  // A payload that differs per packet: a packet written twice or from stale ring bytes shows.
  for (let i = 0; i < payloadBytes; i++) payload[i] = (seq + i) & 0xff;
  const frame = ethernet(
    ipv4Tcp({ src: ipv4(src), dst: ipv4(dst), srcPort: 40000 + (seq % 20000), dstPort: 80, payload }),
  );
  return { src, dst, tsMicros, frame };
}

function alertOf(id: string, src: string | null, dst: string | null, start: number, end = start): Alert {
  return {
    id,
    type: 'syn_flood',
    severity: 'high',
    src,
    dst,
    start,
    end,
    counters: {},
    summary: `test alert ${id}`,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates: 1,
  };
}

/** The packets of a finished evidence file, read with the engine's own reader. */
async function readEvidence(path: string): Promise<{ packets: KeptPacket[]; linkTypes: number[] }> {
  const packets: KeptPacket[] = [];
  const result = await readCapture(path, (p) => {
    packets.push({
      tsMicros: p.tsMicros,
      origLen: p.origLen,
      hex: p.data.subarray(p.offset, p.offset + p.capLen).toString('hex'),
    });
  });
  expect(result.stopped).toBeNull();
  expect(result.format).toBe('pcap');
  return { packets, linkTypes: result.linkTypes };
}

function between(a: string, b: string): (p: SentPacket) => boolean {
  return (p) => (p.src === a && p.dst === b) || (p.src === b && p.dst === a);
}

/**
 * Ten seconds of attacker <-> victim, other host <-> victim and attacker -> other host traffic,
 * four packets each 500 ms from T0; the alert (attack began at T0 + 6 s) is raised by the
 * attacker's packet at T0 + 8 s, and the traffic goes on to T0 + 10 s.
 */
function attackScenario(r: RecorderUnderTest, alert: Alert, triggerAt: number): SentPacket[] {
  const sent: SentPacket[] = [];
  let seq = 0;
  for (let t = T0; t <= T0 + 10 * SECOND; t += SECOND / 2) {
    const round = [
      tcpPacket(ATTACKER, VICTIM, t, 10, seq++),
      tcpPacket(VICTIM, ATTACKER, t + 1, 4, seq++),
      tcpPacket(OTHER, VICTIM, t + 2, 6, seq++),
      tcpPacket(ATTACKER, OTHER, t + 3, 8, seq++),
    ];
    for (const p of round) {
      r.send(p, p.tsMicros === triggerAt ? () => r.raise(alert) : undefined);
      sent.push(p);
    }
  }
  return sent;
}

describe('EvidenceRecorder: what an evidence file holds', () => {
  it("holds the attacker's and victim's packets from beforeSeconds before the attack, then the later ones, each once", async () => {
    const r = new RecorderUnderTest({ beforeSeconds: 2, snapBytes: 256 });
    const alert = alertOf('syn_flood-1', ATTACKER, VICTIM, T0 + 6 * SECOND);
    const triggerAt = T0 + 8 * SECOND;
    const sent = attackScenario(r, alert, triggerAt);

    // While the attack goes on the file is being written under a .part name.
    expect(r.listing()).toEqual(['syn_flood-1.pcap.part']);
    expect(r.files[0]).toMatchObject({ alertId: 'syn_flood-1', file: 'syn_flood-1.pcap', done: false });
    r.recorder.close();
    expect(r.listing()).toEqual(['syn_flood-1.pcap']);

    const expected = sent
      .filter(between(ATTACKER, VICTIM))
      .filter((p) => p.tsMicros >= T0 + 4 * SECOND)
      .map((p) => r.kept(p));
    const { packets, linkTypes } = await readEvidence(r.path('syn_flood-1.pcap'));
    expect(linkTypes).toEqual([LinkType.ETHERNET]);
    expect(packets).toEqual(expected);
    // The packet that raised the alert: back-filled from the ring, not written a second time.
    expect(packets.filter((p) => p.tsMicros === triggerAt)).toHaveLength(1);
    // 2 s before the start, then to the end at 500 ms: 13 rounds of two packets.
    expect(packets).toHaveLength(26);

    const last = r.lastFile('syn_flood-1');
    expect(last).toEqual({
      alertId: 'syn_flood-1',
      file: 'syn_flood-1.pcap',
      packets: 26,
      bytes: statSync(r.path('syn_flood-1.pcap')).size,
      done: true,
      truncated: false,
    });
  });

  it("of an alert with only an attacker, holds the attacker's packets to and from anyone", async () => {
    const r = new RecorderUnderTest({ beforeSeconds: 1 });
    const alert = alertOf('port_scan-1', ATTACKER, null, T0 + 9 * SECOND);
    const sent = attackScenario(r, alert, T0 + 9 * SECOND);
    r.recorder.close();
    const { packets } = await readEvidence(r.path('port_scan-1.pcap'));
    expect(packets).toEqual(
      sent
        .filter((p) => p.src === ATTACKER || p.dst === ATTACKER)
        .filter((p) => p.tsMicros >= T0 + 8 * SECOND)
        .map((p) => r.kept(p)),
    );
  });

  it('keeps snapBytes of each packet and its length on the wire', async () => {
    const r = new RecorderUnderTest({ snapBytes: 64, beforeSeconds: 0 });
    const big = tcpPacket(ATTACKER, VICTIM, T0, 500, 1);
    r.send(big, () => r.raise(alertOf('syn_flood-2', ATTACKER, VICTIM, T0)));
    r.recorder.close();
    const { packets } = await readEvidence(r.path('syn_flood-2.pcap'));
    expect(packets).toEqual([r.kept(big)]);
    expect(packets[0]!.hex).toHaveLength(64 * 2);
    expect(packets[0]!.origLen).toBe(FRAME_HEADERS + 500);
  });

  it('an alert whose hosts sent nothing still gets a valid, empty pcap', async () => {
    const r = new RecorderUnderTest();
    r.send(tcpPacket(OTHER, VICTIM, T0));
    r.raise(alertOf('syn_flood-3', ATTACKER, VICTIM, T0));
    r.recorder.close();
    expect((await readEvidence(r.path('syn_flood-3.pcap'))).packets).toEqual([]);
    expect(r.lastFile('syn_flood-3')).toMatchObject({ packets: 0, bytes: PCAP_HEADER, done: true });
  });
});

describeUnlessMissing(
  hasTool('tshark') ? null : 'tshark',
  'install it (`apt-get install tshark`)',
  'EvidenceRecorder: an evidence file in tshark',
  () => {
    it('opens in tshark with the same packets', async () => {
      const r = new RecorderUnderTest({ beforeSeconds: 2 });
      attackScenario(r, alertOf('syn_flood-9', ATTACKER, VICTIM, T0 + 6 * SECOND), T0 + 8 * SECOND);
      r.recorder.close();
      const path = r.path('syn_flood-9.pcap');
      const { packets } = await readEvidence(path);
      const out = execFileSync('tshark', ['-n', '-r', path, '-T', 'fields', '-e', 'ip.src', '-e', 'ip.dst'], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 30_000,
      });
      const lines = out.trim().split('\n');
      expect(lines).toHaveLength(packets.length);
      expect(new Set(lines)).toEqual(new Set([`${ATTACKER}\t${VICTIM}`, `${VICTIM}\t${ATTACKER}`]));
    });
  },
);

/** xorshift32: deterministic, so a failure reproduces. */
function xorshift(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % below;
  };
}

describe('EvidenceRecorder: the ring', () => {
  it('evicts the oldest packets when it wraps', async () => {
    // Each packet takes 20 + 54 = 74 ring bytes: 740 bytes hold exactly ten.
    const r = new RecorderUnderTest({ ringBytes: 10 * (RING_HEADER + FRAME_HEADERS), beforeSeconds: 3600 });
    const sent: SentPacket[] = [];
    for (let i = 0; i < 35; i++) sent.push(tcpPacket(ATTACKER, VICTIM, T0 + i * 1000, 0, i));
    sent.forEach((p, i) =>
      r.send(
        p,
        i === sent.length - 1 ? () => r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0)) : undefined,
      ),
    );
    r.recorder.close();
    const { packets } = await readEvidence(r.path('syn_flood-1.pcap'));
    expect(packets).toEqual(sent.slice(-10).map((p) => r.kept(p)));
  });

  // Regression: when the next packet did not fit at the ring's end, the writer went back to the
  // start but only evicted the oldest record while it overlapped the new one. The oldest was the
  // previous lap's last record, left behind at the end, so it never overlapped: the current lap's
  // first record was overwritten while still listed, and a back-fill wrote a packet twice.
  it('a wrap that leaves the previous lap at the end of the ring does not overwrite listed packets', async () => {
    const ringBytes = 1000;
    const r = new RecorderUnderTest({ ringBytes, beforeSeconds: 3600 });
    const sent: SentPacket[] = [];
    let seq = 0;
    const add = (recordBytes: number): void => {
      const p = tcpPacket(ATTACKER, VICTIM, T0 + seq * 1000, recordBytes - RING_HEADER - FRAME_HEADERS, seq);
      seq++;
      r.send(p);
      sent.push(p);
    };
    // Lap 1: ten 100-byte records fill the ring exactly; lap 2: six 150-byte records reach byte
    // 900 and leave lap 1's last record at 900-1000; the seventh goes back to the start.
    for (let i = 0; i < 10; i++) add(100);
    for (let i = 0; i < 7; i++) add(150);
    r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0));
    r.recorder.close();
    const { packets } = await readEvidence(r.path('syn_flood-1.pcap'));
    // 150-byte records 2 to 7 of lap 2 are what the 1000 bytes hold.
    expect(packets).toEqual(sent.slice(-6).map((p) => r.kept(p)));
  });

  it('stays correct over hundreds of wraps of packets of random sizes (seeded)', async () => {
    const next = xorshift(0x5eed);
    const ringBytes = 3000;
    const snapBytes = 120;
    const largestRecord = RING_HEADER + snapBytes;
    const hosts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'];
    const r = new RecorderUnderTest({ ringBytes, snapBytes, beforeSeconds: 0, maxTotalBytes: 1e9 });
    /** Reference: every packet sent, in order. */
    const history: SentPacket[] = [];
    let ts = T0;
    let seq = 0;
    const randomPacket = (): SentPacket => {
      const src = hosts[next(hosts.length)]!;
      const others = hosts.filter((h) => h !== src);
      ts += 1 + next(2000);
      return tcpPacket(src, others[next(others.length)]!, ts, next(150), seq++);
    };
    let ringBytesSent = 0;
    for (let round = 0; round < 40; round++) {
      for (let n = 20 + next(200); n > 0; n--) {
        const p = randomPacket();
        r.send(p);
        history.push(p);
        ringBytesSent += RING_HEADER + Math.min(p.frame.length, snapBytes);
      }
      // The alert, raised by a packet between a random pair, from a random earlier time.
      const trigger = randomPacket();
      const from = history[Math.max(0, history.length - 1 - next(300))]!.tsMicros;
      const id = `round-${round}`;
      r.send(trigger, () => r.raise(alertOf(id, trigger.src, trigger.dst, from)));
      history.push(trigger);
      const triggerIndex = history.length - 1;
      const before = history.filter(between(trigger.src, trigger.dst)).filter((p) => p.tsMicros >= from);
      const after: SentPacket[] = [];
      for (let n = next(30); n > 0; n--) {
        const p = randomPacket();
        r.send(p);
        history.push(p);
        if (between(trigger.src, trigger.dst)(p)) after.push(p);
      }
      r.recorder.close();

      const { packets } = await readEvidence(r.path(`${id}.pcap`));
      // The back-fill is the newest part of what matched: exactly those packets, in order, once.
      const backFilled = packets.length - after.length;
      expect(backFilled, id).toBeGreaterThanOrEqual(0);
      expect(packets, id).toEqual(
        [...before.slice(before.length - backFilled), ...after].map((p) => r.kept(p)),
      );
      // The ring holds at least the newest packets that fit in it less two records (the unused
      // end of the ring at the last wrap and the record the newest one partly overwrote).
      let bytes = 0;
      let mustHold = 0;
      for (let i = triggerIndex; i >= 0; i--) {
        const p = history[i]!;
        bytes += RING_HEADER + Math.min(p.frame.length, snapBytes);
        if (bytes > ringBytes - 2 * largestRecord || p.tsMicros < from) break;
        if (between(trigger.src, trigger.dst)(p)) mustHold++;
      }
      expect(backFilled, id).toBeGreaterThanOrEqual(mustHold);
    }
    expect(ringBytesSent / ringBytes).toBeGreaterThan(200);
  });
});

describe('EvidenceRecorder: bounds', () => {
  it('stops a file at maxBytesPerAlert, marks it truncated and finishes it', async () => {
    const frameBytes = FRAME_HEADERS;
    const r = new RecorderUnderTest({
      beforeSeconds: 10,
      maxBytesPerAlert: PCAP_HEADER + 3 * (PCAP_RECORD_HEADER + frameBytes),
    });
    const sent = Array.from({ length: 8 }, (_, i) => tcpPacket(ATTACKER, VICTIM, T0 + i * SECOND, 0, i));
    sent.forEach((p, i) =>
      r.send(p, i === 1 ? () => r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0)) : undefined),
    );
    // Full before the attack ended: finished at once, not when the alert goes quiet.
    expect(r.listing()).toEqual(['syn_flood-1.pcap']);
    const { packets } = await readEvidence(r.path('syn_flood-1.pcap'));
    expect(packets).toEqual(sent.slice(0, 3).map((p) => r.kept(p)));
    expect(r.lastFile('syn_flood-1')).toEqual({
      alertId: 'syn_flood-1',
      file: 'syn_flood-1.pcap',
      packets: 3,
      bytes: statSync(r.path('syn_flood-1.pcap')).size,
      done: true,
      truncated: true,
    });
  });

  // Regression: a file that the back-fill alone filled stayed open (as .pcap.part, not
  // downloadable, holding one of maxRecordings) until the next packet of the attack or the quiet time.
  it('a file filled by the back-fill alone is finished at once', () => {
    const r = new RecorderUnderTest({
      beforeSeconds: 10,
      maxRecordings: 1,
      maxBytesPerAlert: PCAP_HEADER + 2 * (PCAP_RECORD_HEADER + FRAME_HEADERS),
    });
    for (let i = 0; i < 5; i++) r.send(tcpPacket(ATTACKER, VICTIM, T0 + i, 0, i));
    r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0));
    expect(r.listing()).toEqual(['syn_flood-1.pcap']);
    expect(r.lastFile('syn_flood-1')).toMatchObject({ packets: 2, done: true, truncated: true });
    // Its place among maxRecordings is free again.
    r.raise(alertOf('syn_flood-2', OTHER, VICTIM, T0));
    expect(r.recorder.skipped).toBe(0);
  });

  it('writes at most maxRecordings files at once and counts the alerts it skipped', () => {
    const r = new RecorderUnderTest({ maxRecordings: 2, quietSeconds: 5 });
    r.raise(alertOf('a-1', '10.1.0.1', VICTIM, T0));
    r.raise(alertOf('a-2', '10.1.0.2', VICTIM, T0));
    r.raise(alertOf('a-3', '10.1.0.3', VICTIM, T0));
    expect(r.recorder.skipped).toBe(1);
    expect(r.listing()).toEqual(['a-1.pcap.part', 'a-2.pcap.part']);
    // An update of a recorded alert is no new recording and no skip.
    r.raise(alertOf('a-1', '10.1.0.1', VICTIM, T0, T0 + 3 * SECOND), false);
    expect(r.recorder.skipped).toBe(1);
    // a-2 goes quiet (a-1 was updated to last longer): a new alert gets its place.
    r.recorder.advance(T0 + 6 * SECOND);
    expect(r.listing()).toEqual(['a-1.pcap.part', 'a-2.pcap']);
    r.raise(alertOf('a-4', '10.1.0.4', VICTIM, T0 + 6 * SECOND));
    expect(r.recorder.skipped).toBe(1);
    expect(r.listing()).toEqual(['a-1.pcap.part', 'a-2.pcap', 'a-4.pcap.part']);
    r.recorder.close();
    expect(r.listing()).toEqual(['a-1.pcap', 'a-2.pcap', 'a-4.pcap']);
  });

  it('advance() ends a recording quiet for quietSeconds of packet time and renames it to .pcap', async () => {
    const r = new RecorderUnderTest({ quietSeconds: 30, beforeSeconds: 1 });
    const first = tcpPacket(ATTACKER, VICTIM, T0, 0, 1);
    r.send(first, () => r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0)));
    r.recorder.advance(T0 + 30 * SECOND);
    expect(r.listing()).toEqual(['syn_flood-1.pcap.part']);
    expect(r.lastFile('syn_flood-1')?.done).toBe(false);
    r.recorder.advance(T0 + 30 * SECOND + 1);
    expect(r.listing()).toEqual(['syn_flood-1.pcap']);
    expect(r.lastFile('syn_flood-1')).toMatchObject({ packets: 1, done: true, truncated: false });
    expect((await readEvidence(r.path('syn_flood-1.pcap'))).packets).toEqual([r.kept(first)]);
  });

  it('a packet after the quiet time ends the recording; an alert update keeps it going', async () => {
    const r = new RecorderUnderTest({ quietSeconds: 10, beforeSeconds: 1 });
    const p1 = tcpPacket(ATTACKER, VICTIM, T0, 0, 1);
    r.send(p1, () => r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0)));
    const p2 = tcpPacket(ATTACKER, VICTIM, T0 + 9 * SECOND, 0, 2);
    r.send(p2, () => r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0, T0 + 9 * SECOND), false));
    // 15 s after the start, but only 6 s after the update.
    const p3 = tcpPacket(ATTACKER, VICTIM, T0 + 15 * SECOND, 0, 3);
    r.send(p3);
    expect(r.listing()).toEqual(['syn_flood-1.pcap.part']);
    r.send(tcpPacket(OTHER, VICTIM, T0 + 19 * SECOND + 1, 0, 4));
    expect(r.listing()).toEqual(['syn_flood-1.pcap']);
    expect((await readEvidence(r.path('syn_flood-1.pcap'))).packets).toEqual(
      [p1, p2, p3].map((p) => r.kept(p)),
    );
  });

  it('deletes the oldest evidence files first to stay under maxTotalBytes, and nothing else', () => {
    const r = new RecorderUnderTest({ maxBytesPerAlert: 500, maxTotalBytes: 1500 });
    const old = (name: string, ageSeconds: number): void => {
      writeFileSync(r.path(name), Buffer.alloc(400));
      const t = Date.now() / 1000 - ageSeconds;
      utimesSync(r.path(name), t, t);
    };
    old('oldest.pcap', 300);
    old('older.pcap', 200);
    old('newest.pcap', 100);
    writeFileSync(r.path('notes.txt'), 'not evidence');
    // 1200 bytes of evidence and room for a whole new file (500) is more than 1500: one goes.
    r.raise(alertOf('syn_flood-1', ATTACKER, VICTIM, T0));
    expect(r.listing()).toEqual(['newest.pcap', 'notes.txt', 'older.pcap', 'syn_flood-1.pcap.part']);
    r.recorder.close();
  });

  // Regression: the room left for a new file did not count the files still being written, so
  // with several alerts at once the folder grew past maxTotalBytes by a whole file each.
  it('stays under maxTotalBytes while several files are written at once', () => {
    const perAlert = PCAP_HEADER + 5 * (PCAP_RECORD_HEADER + FRAME_HEADERS);
    const r = new RecorderUnderTest({
      maxBytesPerAlert: perAlert,
      maxTotalBytes: 3 * perAlert,
      beforeSeconds: 0,
    });
    let largest = 0;
    /** Alerts from `attackers` at once, then each attacker's packets until every file is full. */
    const attack = (attackers: string[]): void => {
      for (const attacker of attackers) r.raise(alertOf(`syn_flood-${attacker}`, attacker, VICTIM, T0));
      for (let i = 0; i < 10; i++) {
        for (const attacker of attackers) r.send(tcpPacket(attacker, VICTIM, T0 + i, 0, i));
        largest = Math.max(largest, r.folderBytes());
      }
    };
    attack(['10.2.0.1', '10.2.0.2']);
    expect(r.listing()).toEqual(['syn_flood-10.2.0.1.pcap', 'syn_flood-10.2.0.2.pcap']);
    // Two full files and two new ones written at once would be four: one old file makes room.
    attack(['10.2.0.3', '10.2.0.4']);
    expect(largest).toBeLessThanOrEqual(3 * perAlert);
    expect(r.listing()).toHaveLength(3);
    expect(r.listing()).toEqual(
      expect.arrayContaining(['syn_flood-10.2.0.3.pcap', 'syn_flood-10.2.0.4.pcap']),
    );
    expect(r.files.filter((f) => f.done && f.truncated)).toHaveLength(4);
  });
});

describe('evidenceFileName', () => {
  it('names the file after the alert id', () => {
    expect(evidenceFileName('syn_flood-ab12.3')).toBe('syn_flood-ab12.3.pcap');
  });

  it.each([
    ['a slash', 'syn_flood/1'],
    ['a backslash', 'syn_flood\\1'],
    ['a parent folder', '..'],
    ['a parent folder and a slash', '../etc/passwd'],
    ['a leading dot', '.hidden'],
    ['a space', 'syn flood-1'],
    ['a NUL byte', 'syn_flood-1\0'],
    ['a colon', 'port_scan-2001:db8::1'],
    ['nothing', ''],
    ['over 200 characters', 'a'.repeat(201)],
  ])('refuses an id with %s', (_, id) => {
    expect(evidenceFileName(id)).toBeNull();
  });

  it('writes no file for an alert whose id is refused, and counts it as no skip', () => {
    const r = new RecorderUnderTest();
    r.raise(alertOf('../escape', ATTACKER, VICTIM, T0));
    r.raise(alertOf('with space', ATTACKER, VICTIM, T0));
    r.recorder.close();
    expect(r.listing()).toEqual([]);
    expect(existsSync(join(tmp, 'escape.pcap'))).toBe(false);
    expect(r.recorder.skipped).toBe(0);
    expect(r.files).toEqual([]);
  });
});
