/**
 * The IPFIX encoder, read back the way a collector reads it: by a small decoder written from
 * RFC 7011 (test/helpers/ipfix-reader.ts, it learns the templates from the messages, as a
 * collector does) and by Wireshark's own IPFIX dissector (tshark, on a pcap built from the
 * messages).
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DST4,
  DST6,
  DST_PORT,
  END_MS,
  END_REASON,
  OCTETS,
  PACKETS,
  PROTO,
  SRC4,
  SRC6,
  SRC_PORT,
  START_MS,
  TCP_FLAGS,
  collectorView,
  decodeAll,
  flow,
  ipv4Text,
  manyFlows,
  v6flow,
} from '../../test/helpers/ipfix-reader.js';
import { describeUnlessMissing, hasTool } from '../../test/helpers/system-tools.js';
import { pcapFile } from '../../test/helpers/pcap-builder.js';
import type { FlowRow } from '../store/flow-repository.js';
import { FlowTrackError } from '../util/errors.js';
import { tcpFlagLetters } from './flow-record.js';
import {
  IPV4_TEMPLATE_ID,
  IPV6_TEMPLATE_ID,
  IpfixEncoder,
  MIN_IPFIX_MTU,
  tcpFlagBits,
} from './ipfix-encoder.js';

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
