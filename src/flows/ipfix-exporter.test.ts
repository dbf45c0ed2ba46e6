/**
 * The IPFIX encoder and UDP exporter, read back the way a collector reads them: by a small
 * decoder written here from RFC 7011 (it learns the templates from the messages, as a collector
 * does) and by Wireshark's own IPFIX dissector (tshark, on a pcap built from the messages). The
 * exporter sends to a UDP socket of this test on 127.0.0.1; every wait is bounded.
 */

import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { describeUnlessMissing, hasTool } from '../../test/helpers/system-tools.js';
import { pcapFile } from '../../test/helpers/pcap-builder.js';
import type { FlowRow } from '../store/flow-repository.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { tcpFlagLetters } from './flow-record.js';
import {
  IPV4_TEMPLATE_ID,
  IPV6_TEMPLATE_ID,
  IpfixEncoder,
  IpfixExporter,
  MIN_IPFIX_MTU,
  type IpfixExporterOptions,
  parseCollectorAddress,
  tcpFlagBits,
} from './ipfix-exporter.js';

// ---------------------------------------------------------------- an independent decoder

interface DecodedRecord {
  templateId: number;
  /** Information element id -> value: addresses as text, everything else as a number. */
  fields: Map<number, number | string>;
}

interface DecodedMessage {
  version: number;
  length: number;
  exportTime: number;
  sequence: number;
  domain: number;
  /** Templates this message defined, in order. */
  templateIds: number[];
  records: DecodedRecord[];
}

/** Decodes one IPFIX message; `templates` carries what earlier messages defined (id -> [ie, length][]). */
function decodeIpfix(buf: Buffer, templates: Map<number, [number, number][]>): DecodedMessage {
  const message: DecodedMessage = {
    version: buf.readUInt16BE(0),
    length: buf.readUInt16BE(2),
    exportTime: buf.readUInt32BE(4),
    sequence: buf.readUInt32BE(8),
    domain: buf.readUInt32BE(12),
    templateIds: [],
    records: [],
  };
  let offset = 16;
  while (offset < message.length) {
    const setId = buf.readUInt16BE(offset);
    const setEnd = offset + buf.readUInt16BE(offset + 2);
    if (setEnd > message.length || setEnd <= offset) throw new Error(`bad set length at ${offset}`);
    let at = offset + 4;
    if (setId === 2) {
      while (at + 4 <= setEnd) {
        const id = buf.readUInt16BE(at);
        const count = buf.readUInt16BE(at + 2);
        at += 4;
        const fields: [number, number][] = [];
        for (let i = 0; i < count; i++, at += 4)
          fields.push([buf.readUInt16BE(at), buf.readUInt16BE(at + 2)]);
        templates.set(id, fields);
        message.templateIds.push(id);
      }
    } else {
      const fields = templates.get(setId);
      if (!fields) throw new Error(`data set ${setId} before its template`);
      const size = fields.reduce((n, [, len]) => n + len, 0);
      for (; at + size <= setEnd; at += size) {
        const record: DecodedRecord = { templateId: setId, fields: new Map() };
        let p = at;
        for (const [ie, len] of fields) {
          record.fields.set(ie, decodeField(buf.subarray(p, p + len)));
          p += len;
        }
        message.records.push(record);
      }
    }
    offset = setEnd;
  }
  return message;
}

function decodeField(bytes: Buffer): number | string {
  if (bytes.length === 16) {
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
    return groups.join(':');
  }
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  return Number(n);
}

const SRC4 = 8;
const DST4 = 12;
const SRC6 = 27;
const DST6 = 28;
const SRC_PORT = 7;
const DST_PORT = 11;
const PROTO = 4;
const TCP_FLAGS = 6;
const OCTETS = 1;
const PACKETS = 2;
const START_MS = 152;
const END_MS = 153;
const END_REASON = 136;

const ipv4Text = (n: number | string | undefined): string => {
  const v = Number(n);
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
};

/** A collector's view: decodes messages in order, remembering the templates across calls. */
function collectorView(): (messages: readonly Buffer[]) => DecodedMessage[] {
  const templates = new Map<number, [number, number][]>();
  return (messages) => messages.map((m) => decodeIpfix(m, templates));
}

/** Decodes messages that define their own templates. */
const decodeAll = (messages: readonly Buffer[]): DecodedMessage[] => collectorView()(messages);

// ---------------------------------------------------------------- flows

function flow(overrides: Partial<FlowRow> = {}): FlowRow {
  return {
    firstSeenUs: 1_632_239_124_430_031,
    lastSeenUs: 1_632_239_125_987_654,
    ipVersion: 4,
    protocol: 'tcp',
    srcAddr: '192.0.2.10',
    dstAddr: '198.51.100.7',
    srcPort: 40000,
    dstPort: 443,
    packetsToServer: 5,
    bytesToServer: 600,
    packetsToClient: 4,
    bytesToClient: 9000,
    tcpFlagsToServer: 'SFPA',
    tcpFlagsToClient: 'SFPAN',
    state: 'closed-fin',
    endReason: 'closed',
    ...overrides,
  };
}

const v6flow = (overrides: Partial<FlowRow> = {}): FlowRow =>
  flow({
    ipVersion: 6,
    protocol: 'udp',
    srcAddr: '2001:db8::1',
    dstAddr: '2001:db8:0:0:1:0:0:2',
    ...overrides,
  });

/** `n` flows with distinct client ports, every third IPv6. */
const manyFlows = (n: number): FlowRow[] =>
  Array.from({ length: n }, (_, i) =>
    i % 3 === 2 ? v6flow({ srcPort: 1000 + i }) : flow({ srcPort: 1000 + i }),
  );

// ---------------------------------------------------------------- encoder

describe('IpfixEncoder', () => {
  it('turns one TCP flow into a client->server and a server->client record after the templates', () => {
    const [bytes, ...rest] = new IpfixEncoder({ observationDomainId: 42 }).encode([flow()], 1_700_000_000);
    expect(rest).toHaveLength(0);
    const [m] = decodeAll([bytes!]);
    expect(m).toMatchObject({ version: 10, length: bytes!.length, exportTime: 1_700_000_000, sequence: 0 });
    expect(m!.domain).toBe(42);
    expect(m!.templateIds).toEqual([IPV4_TEMPLATE_ID, IPV6_TEMPLATE_ID]);
    const [toServer, toClient] = m!.records;
    expect(m!.records).toHaveLength(2);
    expect(toServer!.templateId).toBe(IPV4_TEMPLATE_ID);
    const f = toServer!.fields;
    expect([ipv4Text(f.get(SRC4)), ipv4Text(f.get(DST4)), f.get(SRC_PORT), f.get(DST_PORT)]).toEqual([
      '192.0.2.10',
      '198.51.100.7',
      40000,
      443,
    ]);
    expect([f.get(PROTO), f.get(TCP_FLAGS), f.get(PACKETS), f.get(OCTETS)]).toEqual([6, 0x1b, 5, 600]);
    // Microseconds truncated to milliseconds; "closed" is end of flow detected (3).
    expect([f.get(START_MS), f.get(END_MS), f.get(END_REASON)]).toEqual([
      1_632_239_124_430, 1_632_239_125_987, 3,
    ]);
    const g = toClient!.fields;
    expect([ipv4Text(g.get(SRC4)), ipv4Text(g.get(DST4)), g.get(SRC_PORT), g.get(DST_PORT)]).toEqual([
      '198.51.100.7',
      '192.0.2.10',
      443,
      40000,
    ]);
    expect([g.get(TCP_FLAGS), g.get(PACKETS), g.get(OCTETS)]).toEqual([0x11b, 4, 9000]);
  });

  it('writes one record for a flow with no answer, and IPv6 flows with the IPv6 template', () => {
    const messages = new IpfixEncoder().encode(
      [v6flow({ packetsToClient: 0, bytesToClient: 0, endReason: 'idle' })],
      1_700_000_000,
    );
    const records = decodeAll(messages).flatMap((m) => m.records);
    expect(records).toHaveLength(1);
    const f = records[0]!.fields;
    expect(records[0]!.templateId).toBe(IPV6_TEMPLATE_ID);
    expect([f.get(SRC6), f.get(DST6), f.get(PROTO), f.get(TCP_FLAGS)]).toEqual([
      '2001:db8:0:0:0:0:0:1',
      '2001:db8:0:0:1:0:0:2',
      17,
      0,
    ]);
    expect(f.get(END_REASON)).toBe(1);
  });

  it('writes ICMP records with ports 0, not the echo identifier FlowTrack keys echo flows by', () => {
    const echo = (protocol: string, ipVersion: number): FlowRow =>
      ipVersion === 4
        ? flow({ protocol, srcPort: 53369, dstPort: 53369, tcpFlagsToServer: '', tcpFlagsToClient: '' })
        : v6flow({ protocol, srcPort: 4, dstPort: 4 });
    const records = decodeAll(new IpfixEncoder().encode([echo('icmp', 4), echo('icmpv6', 6)], 1)).flatMap(
      (m) => m.records,
    );
    expect(records.map((r) => [r.fields.get(PROTO), r.fields.get(SRC_PORT), r.fields.get(DST_PORT)])).toEqual(
      [
        [1, 0, 0],
        [1, 0, 0],
        [58, 0, 0],
        [58, 0, 0],
      ],
    );
  });

  it('maps every end reason FlowTrack has to the IANA flowEndReason', () => {
    const reasons = ['idle', 'active-timeout', 'closed', 'port-reused', 'evicted', 'end-of-input', 'other'];
    const messages = new IpfixEncoder().encode(
      reasons.map((endReason) => flow({ endReason, packetsToClient: 0 })),
      1,
    );
    const codes = decodeAll(messages).flatMap((m) => m.records.map((r) => r.fields.get(END_REASON)));
    expect(codes).toEqual([1, 2, 3, 3, 5, 4, 0]);
  });

  it('splits into messages no larger than the MTU, numbered by the data records before each', () => {
    const mtu = 400;
    const encoder = new IpfixEncoder({ mtu, templateRefreshMessages: 1000 });
    const flows = manyFlows(100);
    const messages = encoder.encode(flows, 1_700_000_000);
    expect(messages.length).toBeGreaterThan(10);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(mtu);
    const collector = collectorView();
    const decoded = collector(messages);
    let before = 0;
    for (const m of decoded) {
      expect(m.sequence).toBe(before);
      expect(m.length).toBe(messages[decoded.indexOf(m)]!.length);
      before += m.records.length;
    }
    expect(before).toBe(200);
    expect(encoder.sequenceNumber).toBe(200);
    // Every client port comes back once toward the server and once from it.
    const ports = decoded.flatMap((m) => m.records.map((r) => r.fields.get(SRC_PORT)));
    for (let i = 0; i < 100; i++) expect(ports.filter((p) => p === 1000 + i)).toHaveLength(1);
    // Only the first message carries templates (the refresh is 1000 messages away).
    expect(decoded.map((m) => m.templateIds.length > 0)).toEqual(decoded.map((_, i) => i === 0));
    // The next call goes on counting.
    const [next] = collector(encoder.encode([flow()], 1_700_000_001));
    expect(next!.sequence).toBe(200);
    expect(next!.records).toHaveLength(2);
  });

  it('fills messages up to the smallest MTU that fits one IPv6 record', () => {
    const messages = new IpfixEncoder({ mtu: MIN_IPFIX_MTU }).encode([v6flow()], 1);
    expect(messages).toHaveLength(2);
    expect(messages[0]!.length).toBe(MIN_IPFIX_MTU);
  });

  it('sends the templates again every N messages', () => {
    const encoder = new IpfixEncoder({ mtu: 300, templateRefreshMessages: 3, templateRefreshSeconds: 1e6 });
    const decoded = decodeAll(encoder.encode(manyFlows(40), 100));
    expect(decoded.length).toBeGreaterThan(7);
    expect(decoded.map((m) => m.templateIds.length > 0)).toEqual(decoded.map((_, i) => i % 3 === 0));
  });

  it('sends the templates again after T seconds of export time, and when asked', () => {
    const encoder = new IpfixEncoder({ templateRefreshMessages: 1000, templateRefreshSeconds: 10 });
    const collector = collectorView();
    const hasTemplates = (t: number): boolean =>
      collector(encoder.encode([flow()], t))[0]!.templateIds.length > 0;
    expect(hasTemplates(1000)).toBe(true);
    expect(hasTemplates(1005)).toBe(false);
    expect(hasTemplates(1009)).toBe(false);
    expect(hasTemplates(1010)).toBe(true);
    expect(hasTemplates(1011)).toBe(false);
    encoder.resendTemplates();
    expect(hasTemplates(1012)).toBe(true);
    // A clock that went back: the collector's view of time is lost, send them.
    expect(hasTemplates(900)).toBe(true);
  });

  it('gives a template-only message numbered as asked', () => {
    const encoder = new IpfixEncoder({ observationDomainId: 9 });
    const [m] = decodeAll([encoder.templateMessage(77, 1234)]);
    expect(m).toMatchObject({ exportTime: 77, sequence: 1234, domain: 9, records: [] });
    expect(m!.templateIds).toEqual([IPV4_TEMPLATE_ID, IPV6_TEMPLATE_ID]);
  });

  it('skips and counts flows it cannot encode, and encodes the others', () => {
    const encoder = new IpfixEncoder();
    const bad = [
      flow({ srcAddr: 'not-an-address' }),
      flow({ ipVersion: 6 }),
      flow({ protocol: 'carrier-pigeon' }),
      flow({ packetsToServer: -1 }),
      flow({ bytesToClient: 1.5 }),
      flow({ srcPort: 70000 }),
      flow({ packetsToServer: 0, packetsToClient: 0 }),
      flow({ lastSeenUs: 1 }),
      flow({ firstSeenUs: Number.NaN }),
    ];
    // A protocol FlowTrack has no name for is stored as its number.
    const messages = encoder.encode([...bad, flow({ protocol: '250' })], 1);
    expect(encoder.invalidFlows).toBe(bad.length);
    expect(encoder.lastProblem).toMatch(/times/);
    const records = decodeAll(messages).flatMap((m) => m.records);
    expect(records.map((r) => r.fields.get(PROTO))).toEqual([250, 250]);
    // Not TCP: no flags.
    expect(records[0]!.fields.get(TCP_FLAGS)).toBe(0);
    expect(encoder.encode([], 2)).toEqual([]);
  });

  it('rejects bad options and export times with a message that says what is allowed', () => {
    const badOptions = [
      { mtu: MIN_IPFIX_MTU - 1 },
      { mtu: 70_000 },
      { observationDomainId: -1 },
      { observationDomainId: 2 ** 32 },
      { templateRefreshMessages: 0 },
      { templateRefreshSeconds: 0 },
    ];
    for (const options of badOptions) {
      expect(() => new IpfixEncoder(options)).toThrow(FlowTrackError);
    }
    expect(() => new IpfixEncoder({ mtu: 100 })).toThrow(/MTU must be a whole number of bytes from \d+/);
    expect(() => new IpfixEncoder().encode([flow()], -5)).toThrow(/export time/);
  });

  it('reads TCP flag letters back to the bits they came from', () => {
    for (let bits = 0; bits < 0x200; bits++) expect(tcpFlagBits(tcpFlagLetters(bits))).toBe(bits);
  });
});

describe('parseCollectorAddress', () => {
  it('reads IPv4, bracketed IPv6 and host names', () => {
    expect(parseCollectorAddress('127.0.0.1:4739')).toEqual({ host: '127.0.0.1', port: 4739 });
    expect(parseCollectorAddress('[::1]:2055')).toEqual({ host: '::1', port: 2055 });
    expect(parseCollectorAddress('collector.example:9995')).toEqual({
      host: 'collector.example',
      port: 9995,
    });
  });

  it('says what is wrong with a bad address', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /must be HOST:PORT/],
      ['::1:4739', /must be HOST:PORT/],
      ['127.0.0.1:0', /port must be a whole number from 1 to 65535, not 0/],
      ['127.0.0.1:65536', /not 65536/],
      ['bad_host!:4739', /host must be an IP address or a host name/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseCollectorAddress(text, '--ipfix');
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(FlowTrackError);
      expect((error as FlowTrackError).code).toBe(ErrorCode.BAD_OPTION);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^--ipfix/);
    }
  });
});

// ---------------------------------------------------------------- Wireshark reads them too

/** IPv4 + UDP header to 127.0.0.1:`port` in front of `payload` (raw IP link type). */
function udpDatagram(payload: Buffer, port: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x45;
  b.writeUInt16BE(28 + payload.length, 2);
  b[8] = 64;
  b[9] = 17;
  b.writeUInt32BE(0x7f000001, 12);
  b.writeUInt32BE(0x7f000001, 16);
  b.writeUInt16BE(50000, 20);
  b.writeUInt16BE(port, 22);
  b.writeUInt16BE(8 + payload.length, 24);
  return Buffer.concat([b, payload]);
}

describeUnlessMissing(
  hasTool('tshark') ? null : 'tshark',
  'install tshark (Debian package tshark)',
  'IPFIX messages as Wireshark decodes them',
  () => {
    let dir = '';
    afterEach(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = '';
    });

    it('finds the same headers, sets, sequence numbers and records, without a malformed field', () => {
      const encoder = new IpfixEncoder({ mtu: 500, observationDomainId: 7, templateRefreshMessages: 4 });
      const flows = manyFlows(30);
      const messages = encoder.encode(flows, 1_700_000_000);
      expect(messages.length).toBeGreaterThan(4);
      dir = mkdtempSync(join(tmpdir(), 'flowtrack-ipfix-'));
      const pcap = join(dir, 'ipfix.pcap');
      const port = 4739;
      writeFileSync(
        pcap,
        pcapFile(
          messages.map((m, i) => ({ sec: 1_700_000_000, frac: i, data: udpDatagram(m, port) })),
          { linkType: 101 },
        ),
      );
      const fields = [
        'cflow.version',
        'cflow.len',
        'cflow.exporttime',
        'cflow.sequence',
        'cflow.od_id',
        'cflow.template_id',
        'cflow.srcaddr',
        'cflow.srcaddrv6',
        'cflow.srcport',
        'cflow.packets',
        'cflow.octets',
        'cflow.sequence_analysis.expected_sn',
        '_ws.malformed',
        '_ws.expert',
      ];
      const out = execFileSync(
        'tshark',
        [
          '-r',
          pcap,
          '-d',
          `udp.port==${port},cflow`,
          '-T',
          'fields',
          '-E',
          'occurrence=a',
          '-E',
          'aggregator=;',
        ].concat(fields.flatMap((f) => ['-e', f])),
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 60_000 },
      );
      const rows = out
        .replace(/\n$/, '')
        .split('\n')
        .map((line) => Object.fromEntries(line.split('\t').map((v, i) => [fields[i]!, v])));
      expect(rows).toHaveLength(messages.length);
      const decoded = decodeAll(messages);
      let records = 0;
      for (const [i, row] of rows.entries()) {
        const m = decoded[i]!;
        expect(row['cflow.version']).toBe('10');
        expect(Number(row['cflow.len'])).toBe(messages[i]!.length);
        expect(row['cflow.exporttime']).toBe('1700000000');
        expect(Number(row['cflow.sequence'])).toBe(records);
        expect(row['cflow.od_id']).toBe('7');
        expect(row['cflow.template_id']).toBe(i % 4 === 0 ? '256;257' : '');
        const list = (name: string): string[] => (row[name] ? row[name].split(';') : []);
        expect(list('cflow.srcaddr').length + list('cflow.srcaddrv6').length).toBe(m.records.length);
        expect(list('cflow.packets').map(Number)).toEqual(m.records.map((r) => r.fields.get(PACKETS)));
        expect(list('cflow.octets').map(Number)).toEqual(m.records.map((r) => r.fields.get(OCTETS)));
        expect(list('cflow.srcport').map(Number)).toEqual(m.records.map((r) => r.fields.get(SRC_PORT)));
        expect(row['cflow.sequence_analysis.expected_sn']).toBe('');
        expect(row['_ws.malformed']).toBe('');
        expect(row['_ws.expert']).toBe('');
        records += m.records.length;
      }
      expect(records).toBe(60);
    });
  },
);

// ---------------------------------------------------------------- the UDP exporter

/** A UDP socket on 127.0.0.1 that keeps what it receives. */
class TestCollector {
  readonly received: Buffer[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => this.received.push(msg));
  }

  static async start(port = 0, address = '127.0.0.1'): Promise<TestCollector> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve());
    });
    return new TestCollector(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Waits (at most 5 s) until `count` messages have arrived; fails the test otherwise. */
  async waitFor(count: number): Promise<Buffer[]> {
    for (let i = 0; i < 500 && this.received.length < count; i++) await sleep(10);
    expect(this.received.length).toBeGreaterThanOrEqual(count);
    return this.received;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then closed again). */
async function closedPort(): Promise<number> {
  const c = await TestCollector.start();
  const port = c.port;
  await c.close();
  return port;
}

describe('IpfixExporter', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const undo of cleanup.splice(0).reverse()) await undo();
  });

  async function collector(port = 0, address = '127.0.0.1'): Promise<TestCollector> {
    const c = await TestCollector.start(port, address);
    cleanup.push(() => c.close());
    return c;
  }

  function exporter(options: Partial<IpfixExporterOptions> & { port: number }): IpfixExporter {
    const e = new IpfixExporter({ host: '127.0.0.1', ...options });
    cleanup.push(() => e.close());
    return e;
  }

  it('sends buffered flows on flush and counts what it sent', async () => {
    const c = await collector();
    const e = exporter({ port: c.port, observationDomainId: 5, mtu: 600 });
    const flows = manyFlows(20);
    for (const f of flows) e.export(f);
    expect(e.stats()).toMatchObject({ bufferedFlows: 20, messages: 0 });
    await e.flush();
    const stats = e.stats();
    const received = await c.waitFor(stats.messages);
    const decoded = decodeAll(received);
    const records = decoded.flatMap((m) => m.records);
    expect(stats).toMatchObject({ flows: 20, records: 40, sendErrors: 0, droppedFlows: 0, bufferedFlows: 0 });
    expect(received).toHaveLength(stats.messages);
    expect(records).toHaveLength(40);
    expect(records.reduce((n, r) => n + Number(r.fields.get(PACKETS)), 0)).toBe(stats.packets);
    expect(stats.packets).toBe(20 * 9);
    expect(records.reduce((n, r) => n + Number(r.fields.get(OCTETS)), 0)).toBe(stats.bytes);
    expect(stats.bytes).toBe(20 * 9600);
    expect(decoded.every((m) => m.domain === 5)).toBe(true);
    expect(e.collector).toBe(`127.0.0.1:${c.port}`);
  });

  it('paces its messages and still delivers every one, in order', async () => {
    const c = await collector();
    // Two or three records a message: about 50 messages, beyond the burst of 32 that leaves at once.
    const e = exporter({ port: c.port, mtu: MIN_IPFIX_MTU, maxMessagesPerSecond: 1000 });
    for (const f of manyFlows(60)) e.export(f);
    await e.flush();
    const { messages, records } = e.stats();
    expect(messages).toBeGreaterThan(32);
    const decoded = decodeAll(await c.waitFor(messages));
    expect(decoded).toHaveLength(messages);
    let before = 0;
    for (const m of decoded) {
      expect(m.sequence).toBe(before);
      before += m.records.length;
    }
    expect(before).toBe(records);
    expect(records).toBe(120);
  });

  it('flushes by itself after the flush interval', async () => {
    const c = await collector();
    const e = exporter({ port: c.port, flushIntervalMs: 20 });
    e.export(flow());
    const [message] = await c.waitFor(1);
    expect(decodeAll([message!])[0]!.records).toHaveLength(2);
  });

  it('looks up a host name (localhost, from the hosts file) and sends to its address', async () => {
    // localhost is 127.0.0.1 or ::1 depending on the resolver's order: listen where it points.
    const c = await collector(0, (await lookup('localhost')).address);
    const e = exporter({ host: 'localhost', port: c.port });
    e.export(flow());
    await e.close();
    expect(e.stats()).toMatchObject({ flows: 1, messages: 1, sendErrors: 0 });
    expect(decodeAll(await c.waitFor(1))[0]!.records).toHaveLength(2);
  });

  it('drops and counts flows beyond its buffer, and after close', async () => {
    const c = await collector();
    const e = exporter({ port: c.port, maxBufferedFlows: 10 });
    for (const f of manyFlows(15)) e.export(f);
    expect(e.stats()).toMatchObject({ droppedFlows: 5, bufferedFlows: 10 });
    expect(e.waitForRoom()).not.toBeNull();
    await e.close();
    expect(e.stats()).toMatchObject({ flows: 10, droppedFlows: 5 });
    expect(e.waitForRoom()).toBeNull();
    e.export(flow());
    expect(e.stats().droppedFlows).toBe(6);
    await c.waitFor(e.stats().messages);
  });

  it('counts a collector that is down, never throws, and delivers with templates once it is back', async () => {
    const port = await closedPort();
    const e = exporter({ port, templateRefreshMessages: 1000 });
    // The first message meets no listener; the kernel's port-unreachable fails a later send.
    for (let i = 0; i < 50 && e.stats().sendErrors === 0; i++) {
      e.export(flow({ srcPort: 2000 + i }));
      await e.flush();
    }
    const down = e.stats();
    expect(down.sendErrors).toBeGreaterThan(0);
    expect(down.lastError).toMatch(/ECONNREFUSED/);
    expect(down.bufferedFlows).toBeGreaterThan(0);
    const c = await collector(port);
    e.export(flow({ srcPort: 9999 }));
    await e.flush();
    const up = e.stats();
    expect(up.bufferedFlows).toBe(0);
    const received = await c.waitFor(1);
    // The kept messages were encoded without templates: a template message goes first.
    const decoded = decodeAll(received);
    expect(decoded[0]!.templateIds).toEqual([IPV4_TEMPLATE_ID, IPV6_TEMPLATE_ID]);
    const ports = decoded.flatMap((m) => m.records.map((r) => r.fields.get(SRC_PORT)));
    expect(ports).toContain(9999);
    // Sequence numbers stay those of the records sent before: the lost first message counts.
    for (let i = 1; i < decoded.length; i++) {
      expect(decoded[i]!.sequence).toBe(decoded[i - 1]!.sequence + decoded[i - 1]!.records.length);
    }
  });

  it('rejects a bad collector address at construction', () => {
    expect(() => new IpfixExporter({ host: 'no such host', port: 4739 })).toThrow(
      /IP address or a host name/,
    );
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 0 })).toThrow(/from 1 to 65535/);
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 4739, maxBufferedFlows: 0 })).toThrow(
      FlowTrackError,
    );
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 4739, mtu: 10 })).toThrow(/MTU/);
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 4739, maxMessagesPerSecond: 0 })).toThrow(
      /message rate must be above 0/,
    );
    expect(
      () => new IpfixExporter({ host: '127.0.0.1', port: 4739, maxMessagesPerSecond: Infinity }),
    ).not.toThrow();
  });
});
