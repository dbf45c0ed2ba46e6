/**
 * NetflowDecoder against datagrams built byte by byte here, following RFC 3954 (NetFlow v9),
 * RFC 7011 (IPFIX) and Cisco's NetFlow v5 layout. The real exporters (softflowd, pmacct) are
 * exercised in test/netflow-collector-exporters.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { NetflowDecoder, type DecodeResult } from './netflow-decoder.js';

// ---- Byte builders -------------------------------------------------------------------------

const u8 = (n: number): Buffer => Buffer.of(n);
const u16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};
const u64 = (n: bigint): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
};
const ipv4 = (text: string): Buffer => Buffer.from(text.split('.').map(Number));
const ipv6 = (groups: number[]): Buffer => Buffer.concat(groups.map(u16));
const cat = (...parts: Buffer[]): Buffer => Buffer.concat(parts);

/** A set (IPFIX) or flowset (v9): id, length, body. */
const set = (id: number, ...body: Buffer[]): Buffer => {
  const content = cat(...body);
  return cat(u16(id), u16(content.length + 4), content);
};

/** IPFIX field specifier; `pen` sets the enterprise bit. */
const spec = (id: number, length: number, pen?: number): Buffer =>
  pen === undefined ? cat(u16(id), u16(length)) : cat(u16(id | 0x8000), u16(length), u32(pen));

const template = (id: number, ...fields: Buffer[]): Buffer => cat(u16(id), u16(fields.length), ...fields);
const optionsTemplate = (id: number, scopeCount: number, ...fields: Buffer[]): Buffer =>
  cat(u16(id), u16(fields.length), u16(scopeCount), ...fields);

function ipfix(domain: number, exportSeconds: number, ...sets: Buffer[]): Buffer {
  const body = cat(...sets);
  return cat(u16(10), u16(16 + body.length), u32(exportSeconds), u32(1), u32(domain), body);
}

function v9(sourceId: number, sysUptime: number, unixSeconds: number, ...flowsets: Buffer[]): Buffer {
  return cat(
    u16(9),
    u16(flowsets.length),
    u32(sysUptime),
    u32(unixSeconds),
    u32(1),
    u32(sourceId),
    ...flowsets,
  );
}

interface V5Record {
  src: string;
  dst: string;
  packets: number;
  bytes: number;
  first: number;
  last: number;
  srcPort: number;
  dstPort: number;
  flags: number;
  protocol: number;
}

function v5(
  header: { sysUptime: number; unixSeconds: number; nanos: number; sampling: number },
  records: V5Record[],
) {
  const rows = records.map((r) =>
    cat(
      ipv4(r.src),
      ipv4(r.dst),
      ipv4('0.0.0.0'),
      u16(1),
      u16(2),
      u32(r.packets),
      u32(r.bytes),
      u32(r.first),
      u32(r.last),
      u16(r.srcPort),
      u16(r.dstPort),
      u8(0),
      u8(r.flags),
      u8(r.protocol),
      u8(0),
      Buffer.alloc(8),
    ),
  );
  return cat(
    u16(5),
    u16(records.length),
    u32(header.sysUptime),
    u32(header.unixSeconds),
    u32(header.nanos),
    u32(7),
    u8(0),
    u8(0),
    u16(header.sampling),
    ...rows,
  );
}

const ROUTER = { address: '192.0.2.1', port: 40000 };
const T0 = 1_700_000_000; // export time, seconds since the epoch
const RECEIVED = 1_800_000_000_000; // arrival time, ms: distinct from every export time

function only(result: DecodeResult): DecodeResult['flows'][number]['flow'] {
  expect(result.malformed).toBeNull();
  expect(result.flows).toHaveLength(1);
  return result.flows[0]!.flow;
}

// ---- NetFlow v5 ----------------------------------------------------------------------------

describe('NetFlow v5', () => {
  const tcpRecord: V5Record = {
    src: '198.51.100.7',
    dst: '203.0.113.9',
    packets: 12,
    bytes: 3400,
    first: 55_000,
    last: 59_500,
    srcPort: 51515,
    dstPort: 443,
    flags: 0x1b, // SYN FIN PSH ACK
    protocol: 6,
  };

  it('turns each record into a one-way flow row, times from sysUptime and the header clock', () => {
    const datagram = v5({ sysUptime: 60_000, unixSeconds: T0, nanos: 250_000_000, sampling: 0 }, [
      tcpRecord,
      { ...tcpRecord, src: '10.0.0.1', dst: '10.0.0.2', protocol: 1, srcPort: 0, dstPort: 0x0800, flags: 0 },
    ]);
    const result = new NetflowDecoder().decode(datagram, ROUTER, RECEIVED);
    expect(result.malformed).toBeNull();
    expect(result.version).toBe(5);
    expect(result.dataRecords).toBe(2);
    const exportMs = T0 * 1000 + 250;
    expect(result.flows[0]).toEqual({
      exporter: '192.0.2.1',
      icmpTypeCode: -1,
      flow: {
        firstSeenUs: (exportMs - 5000) * 1000,
        lastSeenUs: (exportMs - 500) * 1000,
        ipVersion: 4,
        protocol: 'tcp',
        srcAddr: '198.51.100.7',
        dstAddr: '203.0.113.9',
        srcPort: 51515,
        dstPort: 443,
        packetsToServer: 12,
        bytesToServer: 3400,
        packetsToClient: 0,
        bytesToClient: 0,
        tcpFlagsToServer: 'SFPA',
        tcpFlagsToClient: '',
        state: 'established',
        endReason: 'closed',
      },
    });
    // ICMP: the type and code NetFlow puts in the destination port are not a port.
    expect(result.flows[1]!.flow).toMatchObject({
      protocol: 'icmp',
      srcPort: 0,
      dstPort: 0,
      tcpFlagsToServer: '',
      state: 'active',
      endReason: 'idle',
    });
    // They go to the flow-record detectors apart: an echo request (8, 0).
    expect(result.flows[1]!.icmpTypeCode).toBe(0x0800);
  });

  it('multiplies counts by the header sampling interval (low 14 bits), and an override beats it', () => {
    const header = { sysUptime: 60_000, unixSeconds: T0, nanos: 0, sampling: (1 << 14) | 100 };
    const sampled = only(new NetflowDecoder().decode(v5(header, [tcpRecord]), ROUTER, RECEIVED));
    expect([sampled.packetsToServer, sampled.bytesToServer]).toEqual([1200, 340_000]);
    const overridden = new NetflowDecoder({ samplingOverrides: { '192.0.2.1': 8 } });
    const flow = only(overridden.decode(v5(header, [tcpRecord]), ROUTER, RECEIVED));
    expect([flow.packetsToServer, flow.bytesToServer]).toEqual([96, 27_200]);
  });

  it('reads uptime stamps taken before sysUptime wrapped past 2^32 ms', () => {
    const datagram = v5({ sysUptime: 1000, unixSeconds: T0, nanos: 0, sampling: 0 }, [
      { ...tcpRecord, first: 2 ** 32 - 4000, last: 500 },
    ]);
    const flow = only(new NetflowDecoder().decode(datagram, ROUTER, RECEIVED));
    expect(flow.firstSeenUs).toBe((T0 * 1000 - 5000) * 1000);
    expect(flow.lastSeenUs).toBe((T0 * 1000 - 500) * 1000);
  });

  it('moves a flow that would end after its export time back to end at it, keeping its duration', () => {
    // pmacct 1.7.7 writes v5 uptimes hours past the header's sysUptime.
    const datagram = v5({ sysUptime: 4_192, unixSeconds: T0, nanos: 0, sampling: 0 }, [
      { ...tcpRecord, first: 60_261_104, last: 60_261_145 },
    ]);
    const flow = only(new NetflowDecoder().decode(datagram, ROUTER, RECEIVED));
    expect([flow.firstSeenUs, flow.lastSeenUs]).toEqual([(T0 * 1000 - 41) * 1000, T0 * 1e6]);
  });

  it('reports a datagram shorter than its record count as truncated, with no flows', () => {
    const whole = v5({ sysUptime: 1, unixSeconds: T0, nanos: 0, sampling: 0 }, [tcpRecord, tcpRecord]);
    const result = new NetflowDecoder().decode(whole.subarray(0, whole.length - 1), ROUTER, RECEIVED);
    expect(result.flows).toEqual([]);
    expect(result.malformed).toMatch(/announces 2 records .* truncated/);
  });
});

// ---- NetFlow v9 ----------------------------------------------------------------------------

describe('NetFlow v9', () => {
  // src, dst, 8-byte bytes, 2-byte packets, ports, protocol, flags, first/last switched.
  const tcpTemplate = template(
    300,
    spec(8, 4),
    spec(12, 4),
    spec(1, 8),
    spec(2, 2),
    spec(7, 2),
    spec(11, 2),
    spec(4, 1),
    spec(6, 1),
    spec(22, 4),
    spec(21, 4),
  );
  const tcpData = (src: string, bytes: bigint, packets: number, flags = 0x12): Buffer =>
    cat(
      ipv4(src),
      ipv4('192.0.2.80'),
      u64(bytes),
      u16(packets),
      u16(40001),
      u16(80),
      u8(6),
      u8(flags),
      u32(9_000),
      u32(9_800),
    );

  it('learns a template and reads its data in the same datagram, by the template lengths', () => {
    const datagram = v9(
      17,
      10_000,
      T0,
      set(0, tcpTemplate),
      set(300, tcpData('198.51.100.1', 5_000_000_000n, 3), tcpData('198.51.100.2', 60n, 1, 0x02), u16(0)),
    );
    const result = new NetflowDecoder().decode(datagram, ROUTER, RECEIVED);
    expect(result.malformed).toBeNull();
    expect(result.templatesLearnt).toBe(1);
    expect(result.flows.map((f) => f.flow)).toEqual([
      expect.objectContaining({
        srcAddr: '198.51.100.1',
        dstAddr: '192.0.2.80',
        bytesToServer: 5_000_000_000,
        packetsToServer: 3,
        srcPort: 40001,
        dstPort: 80,
        tcpFlagsToServer: 'SA',
        state: 'established',
        firstSeenUs: (T0 * 1000 - 1000) * 1000,
        lastSeenUs: (T0 * 1000 - 200) * 1000,
      }),
      // SYN alone: an attempt.
      expect.objectContaining({ srcAddr: '198.51.100.2', tcpFlagsToServer: 'S', state: 'attempted' }),
    ]);
  });

  it("keeps ICMP's type and code apart from the ports: icmpTypeCodeIPv4/IPv6, else the destination port", () => {
    // softflowd's ICMP records: addresses, protocol and icmpTypeCodeIPv4 (32), no ports.
    const icmpTemplate = template(301, spec(8, 4), spec(12, 4), spec(4, 1), spec(32, 2), spec(2, 4));
    const icmp6Template = template(302, spec(27, 16), spec(28, 16), spec(4, 1), spec(139, 2), spec(2, 4));
    const echo = (type: number) =>
      cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u8(1), u16(type << 8), u32(1));
    const echo6 = cat(
      ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
      ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 2]),
      u8(58),
      u16(128 << 8),
      u32(1),
    );
    const result = new NetflowDecoder().decode(
      v9(
        17,
        10_000,
        T0,
        set(0, tcpTemplate, icmpTemplate, icmp6Template),
        set(301, echo(8), echo(0), u16(0)),
        set(302, echo6),
        // An exporter that puts them in the destination port, as v5 does: 3/3, port unreachable.
        set(
          300,
          cat(
            ipv4('198.51.100.3'),
            ipv4('192.0.2.80'),
            u64(70n),
            u16(1),
            u16(0),
            u16(0x0303),
            u8(1),
            u8(0),
            u32(9_000),
            u32(9_800),
          ),
        ),
        set(300, tcpData('198.51.100.2', 60n, 1)),
      ),
      ROUTER,
      RECEIVED,
    );
    expect(result.malformed).toBeNull();
    expect(
      result.flows.map((f) => [f.flow.protocol, f.flow.srcPort, f.flow.dstPort, f.icmpTypeCode]),
    ).toEqual([
      ['icmp', 0, 0, 0x0800],
      ['icmp', 0, 0, 0x0000],
      ['icmpv6', 0, 0, 0x8000],
      ['icmp', 0, 0, 0x0303],
      ['tcp', 40001, 80, -1],
    ]);
  });

  it('counts data that arrives before its template, and reads it once the template has come', () => {
    const decoder = new NetflowDecoder();
    const early = decoder.decode(
      v9(17, 10_000, T0, set(300, tcpData('198.51.100.1', 10n, 1))),
      ROUTER,
      RECEIVED,
    );
    expect(early).toMatchObject({ flows: [], unknownTemplateSets: 1, malformed: null });
    decoder.decode(v9(17, 10_000, T0, set(0, tcpTemplate)), ROUTER, RECEIVED);
    const later = decoder.decode(
      v9(17, 10_000, T0, set(300, tcpData('198.51.100.1', 10n, 1))),
      ROUTER,
      RECEIVED,
    );
    expect(only(later).bytesToServer).toBe(10);
  });

  it('keeps templates per exporter port and source id', () => {
    const decoder = new NetflowDecoder();
    decoder.decode(v9(17, 10_000, T0, set(0, tcpTemplate)), ROUTER, RECEIVED);
    const data = set(300, tcpData('198.51.100.1', 10n, 1));
    expect(decoder.decode(v9(18, 10_000, T0, data), ROUTER, RECEIVED).unknownTemplateSets).toBe(1);
    expect(
      decoder.decode(v9(17, 10_000, T0, data), { ...ROUTER, port: 40001 }, RECEIVED).unknownTemplateSets,
    ).toBe(1);
    expect(decoder.decode(v9(17, 10_000, T0, data), ROUTER, RECEIVED).flows).toHaveLength(1);
  });

  it('applies the sampling interval of options data (system scope) to the exporter', () => {
    // Options template 400: scope System (4 bytes); samplingInterval (4), samplingAlgorithm (1).
    const options = set(1, u16(400), u16(4), u16(8), u16(1), u16(4), u16(34), u16(4), u16(35), u16(1));
    const optionsData = set(400, u32(0), u32(100), u8(1), Buffer.alloc(3));
    const decoder = new NetflowDecoder();
    const result = decoder.decode(
      v9(
        17,
        10_000,
        T0,
        options,
        set(0, tcpTemplate),
        optionsData,
        set(300, tcpData('198.51.100.1', 1500n, 2)),
      ),
      ROUTER,
      RECEIVED,
    );
    expect(result.optionsRecords).toBe(1);
    expect(result.templatesLearnt).toBe(2);
    const flow = only(result);
    expect([flow.packetsToServer, flow.bytesToServer]).toEqual([200, 150_000]);
  });

  it("multiplies by the rate of the sampler a record names (pmacct's samplerId + samplerRandomInterval)", () => {
    const options = set(1, u16(401), u16(4), u16(8), u16(1), u16(4), u16(48), u16(1), u16(50), u16(4));
    const samplers = set(401, u32(0), u8(1), u32(10), u32(0), u8(2), u32(1000), Buffer.alloc(2));
    const withSampler = template(
      302,
      spec(8, 4),
      spec(12, 4),
      spec(1, 4),
      spec(2, 4),
      spec(4, 1),
      spec(48, 1),
    );
    const record = (sampler: number): Buffer =>
      cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u32(500), u32(5), u8(17), u8(sampler));
    const result = new NetflowDecoder().decode(
      v9(17, 10_000, T0, options, set(0, withSampler), samplers, set(302, record(1), record(2), record(3))),
      ROUTER,
      RECEIVED,
    );
    expect(result.malformed).toBeNull();
    // Sampler 3 was never described: its counts stay as sent.
    expect(result.flows.map((f) => f.flow.bytesToServer)).toEqual([5000, 500_000, 500]);
  });

  it('reports a flowset running past the datagram, keeping the flows read before it', () => {
    const whole = v9(17, 10_000, T0, set(0, tcpTemplate), set(300, tcpData('198.51.100.1', 10n, 1)));
    const cut = Buffer.concat([whole, set(300, tcpData('198.51.100.2', 10n, 1)).subarray(0, 20)]);
    const lying = Buffer.from(cut);
    lying.writeUInt16BE(200, whole.length + 2);
    const result = new NetflowDecoder().decode(lying, ROUTER, RECEIVED);
    expect(result.flows).toHaveLength(1);
    expect(result.malformed).toMatch(/set 300 at byte \d+ claims 200 bytes, 20 are left/);
  });
});

// ---- IPFIX ---------------------------------------------------------------------------------

describe('IPFIX', () => {
  it('skips variable-length and enterprise fields by their lengths and reads the fields after them', () => {
    const tmpl = template(
      256,
      spec(82, 0xffff), // interfaceName, variable length
      spec(8, 4),
      spec(9999, 6, 29305), // enterprise-specific, 6 bytes
      spec(12, 4),
      spec(83, 0xffff), // interfaceDescription, variable length
      spec(1, 4),
      spec(2, 4),
      spec(4, 1),
      spec(152, 8),
      spec(153, 8),
    );
    const startMs = BigInt(T0) * 1000n - 4000n;
    const record = (name: Buffer, description: Buffer, src: string): Buffer =>
      cat(
        name,
        ipv4(src),
        Buffer.alloc(6, 0xee),
        ipv4('192.0.2.80'),
        description,
        u32(777),
        u32(7),
        u8(17),
        u64(startMs),
        u64(startMs + 1500n),
      );
    const short = cat(u8(4), Buffer.from('eth0'));
    const long = cat(u8(255), u16(300), Buffer.alloc(300, 0x41)); // the 3-byte length form
    const result = new NetflowDecoder().decode(
      ipfix(
        5,
        T0,
        set(2, tmpl),
        set(256, record(short, u8(0), '198.51.100.1'), record(u8(0), long, '198.51.100.2')),
      ),
      ROUTER,
      RECEIVED,
    );
    expect(result.malformed).toBeNull();
    expect(result.flows.map((f) => f.flow)).toEqual([
      expect.objectContaining({
        srcAddr: '198.51.100.1',
        dstAddr: '192.0.2.80',
        protocol: 'udp',
        bytesToServer: 777,
        packetsToServer: 7,
        firstSeenUs: Number(startMs) * 1000,
        lastSeenUs: (Number(startMs) + 1500) * 1000,
      }),
      expect.objectContaining({ srcAddr: '198.51.100.2', bytesToServer: 777 }),
    ]);
  });

  it('reports a variable-length field that runs past its set', () => {
    const tmpl = template(256, spec(8, 4), spec(12, 4), spec(82, 0xffff));
    const record = cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u8(255), u16(9000), Buffer.from('x'));
    const result = new NetflowDecoder().decode(
      ipfix(5, T0, set(2, tmpl), set(256, record)),
      ROUTER,
      RECEIVED,
    );
    expect(result.flows).toEqual([]);
    expect(result.malformed).toMatch(/variable-length field of template 256 runs past its set/);
  });

  it('reads IPv6 flows with microsecond NTP times and flowEndReason', () => {
    const tmpl = template(
      260,
      spec(27, 16),
      spec(28, 16),
      spec(7, 2),
      spec(11, 2),
      spec(4, 1),
      spec(6, 2),
      spec(85, 8),
      spec(86, 8),
      spec(154, 8),
      spec(155, 8),
      spec(136, 1),
    );
    const ntp = (unixSeconds: number, micros: number): Buffer =>
      cat(u32(unixSeconds + 2_208_988_800), u32(Math.round((micros * 2 ** 32) / 1e6)));
    const record = cat(
      ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
      ipv6([0x2001, 0xdb8, 0, 0, 0, 0, 0xab, 2]),
      u16(443),
      u16(50000),
      u8(6),
      u16(0x14), // ACK RST, in IPFIX's 2-byte tcpControlBits
      u64(9000n),
      u64(9n),
      ntp(T0 - 10, 250_000),
      ntp(T0 - 2, 750_000),
      u8(2), // active timeout
    );
    const flow = only(
      new NetflowDecoder().decode(ipfix(5, T0, set(2, tmpl), set(260, record)), ROUTER, RECEIVED),
    );
    expect(flow).toMatchObject({
      ipVersion: 6,
      srcAddr: '2001:db8::1',
      dstAddr: '2001:db8::ab:2',
      srcPort: 443,
      protocol: 'tcp',
      tcpFlagsToServer: 'RA',
      state: 'established',
      endReason: 'active-timeout',
      bytesToServer: 9000,
      packetsToServer: 9,
    });
    // NTP fractions are 1/2^32 s: within a microsecond of what was written.
    expect(Math.abs(flow.firstSeenUs - ((T0 - 10) * 1e6 + 250_000))).toBeLessThanOrEqual(1);
    expect(Math.abs(flow.lastSeenUs - ((T0 - 2) * 1e6 + 750_000))).toBeLessThanOrEqual(1);
  });

  it("reads pmacct's 16-byte microsecond times (64-bit seconds, then microseconds)", () => {
    const tmpl = template(261, spec(8, 4), spec(12, 4), spec(1, 4), spec(2, 4), spec(154, 16), spec(155, 16));
    const record = cat(
      ipv4('198.51.100.1'),
      ipv4('192.0.2.80'),
      u32(1),
      u32(1),
      u64(BigInt(T0 - 5)),
      u64(123_456n),
      u64(BigInt(T0 - 5)),
      u64(999_999n),
    );
    const flow = only(
      new NetflowDecoder().decode(ipfix(5, T0, set(2, tmpl), set(261, record)), ROUTER, RECEIVED),
    );
    expect([flow.firstSeenUs, flow.lastSeenUs]).toEqual([(T0 - 5) * 1e6 + 123_456, (T0 - 5) * 1e6 + 999_999]);
  });

  it('maps uptime stamps through systemInitTimeMilliseconds from options data', () => {
    const initMs = T0 * 1000 - 3_600_000;
    const opts = set(3, optionsTemplate(270, 1, spec(143, 4), spec(160, 8), spec(305, 4), spec(306, 4)));
    const optsData = set(270, u32(1), u64(BigInt(initMs)), u32(1), u32(49));
    const tmpl = set(
      2,
      template(271, spec(8, 4), spec(12, 4), spec(1, 4), spec(2, 4), spec(22, 4), spec(21, 4)),
    );
    const data = set(
      271,
      cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u32(40), u32(1), u32(1_000), u32(2_500)),
    );
    const result = new NetflowDecoder().decode(ipfix(5, T0, opts, tmpl, optsData, data), ROUTER, RECEIVED);
    const flow = only(result);
    expect([flow.firstSeenUs, flow.lastSeenUs]).toEqual([(initMs + 1000) * 1000, (initMs + 2500) * 1000]);
    // PSAMP systematic sampling: 1 packet taken, 49 skipped = 1 out of 50.
    expect([flow.packetsToServer, flow.bytesToServer]).toEqual([50, 2000]);
  });

  it('without an uptime base, keeps the duration and ends the flow at the export time', () => {
    const tmpl = set(2, template(272, spec(8, 4), spec(12, 4), spec(22, 4), spec(21, 4)));
    const data = set(272, cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u32(1_000), u32(2_500)));
    const flow = only(new NetflowDecoder().decode(ipfix(5, T0, tmpl, data), ROUTER, RECEIVED));
    expect([flow.firstSeenUs, flow.lastSeenUs]).toEqual([(T0 * 1000 - 1500) * 1000, T0 * 1e6]);
  });

  it('forgets a withdrawn template, all templates on a withdraw-all, and takes a redefinition', () => {
    const decoder = new NetflowDecoder();
    const four = (id: number): Buffer =>
      set(2, template(id, spec(8, 4), spec(12, 4), spec(1, 4), spec(2, 4)));
    const data = (id: number): Buffer =>
      set(id, cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u32(100), u32(1)));
    decoder.decode(ipfix(5, T0, four(256), four(257)), ROUTER, RECEIVED);
    const withdrawn = decoder.decode(
      ipfix(5, T0, set(2, u16(256), u16(0)), data(256), data(257)),
      ROUTER,
      RECEIVED,
    );
    expect(withdrawn).toMatchObject({ templatesWithdrawn: 1, unknownTemplateSets: 1 });
    expect(withdrawn.flows).toHaveLength(1);
    const all = decoder.decode(ipfix(5, T0, set(2, u16(2), u16(0)), data(257)), ROUTER, RECEIVED);
    expect(all).toMatchObject({ templatesWithdrawn: 1, unknownTemplateSets: 1, flows: [] });
    // Redefined with a different layout: 2-byte counters now.
    const redefined = set(2, template(256, spec(8, 4), spec(12, 4), spec(1, 2), spec(2, 2)));
    const record = set(256, cat(ipv4('198.51.100.9'), ipv4('192.0.2.80'), u16(321), u16(3)));
    expect(only(decoder.decode(ipfix(5, T0, redefined, record), ROUTER, RECEIVED))).toMatchObject({
      srcAddr: '198.51.100.9',
      bytesToServer: 321,
      packetsToServer: 3,
    });
  });

  it('holds counters past 2^53 at the largest safe integer', () => {
    const tmpl = set(2, template(256, spec(8, 4), spec(12, 4), spec(1, 8)));
    const data = set(256, cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u64(2n ** 63n)));
    expect(only(new NetflowDecoder().decode(ipfix(5, T0, tmpl, data), ROUTER, RECEIVED)).bytesToServer).toBe(
      Number.MAX_SAFE_INTEGER,
    );
  });

  it('counts records without addresses and makes no flow of them', () => {
    const tmpl = set(2, template(256, spec(1, 4), spec(2, 4)));
    const result = new NetflowDecoder().decode(
      ipfix(5, T0, tmpl, set(256, u32(1), u32(1))),
      ROUTER,
      RECEIVED,
    );
    expect(result).toMatchObject({ dataRecords: 1, recordsWithoutAddresses: 1, flows: [], malformed: null });
  });
});

// ---- Bounded state and bad input -----------------------------------------------------------

describe('bounded state', () => {
  const tmpl = (id: number): Buffer => set(2, template(id, spec(8, 4), spec(12, 4)));
  const data = (id: number): Buffer => set(id, cat(ipv4('198.51.100.1'), ipv4('192.0.2.80')));

  it('drops the least recently heard exporter past maxExporters, and counts it', () => {
    const decoder = new NetflowDecoder({ maxExporters: 2 });
    for (const port of [1, 2, 1, 3]) decoder.decode(ipfix(5, T0, tmpl(256)), { ...ROUTER, port }, RECEIVED);
    expect(decoder.stateStats()).toEqual({
      exporters: 2,
      templates: 2,
      exportersEvicted: 1,
      templatesEvicted: 1,
    });
    // Port 2 was the least recent; port 1 was heard again after it. (Asked in this order: hearing
    // port 2 again makes it a new exporter, which in turn pushes out the least recent.)
    expect(decoder.decode(ipfix(5, T0, data(256)), { ...ROUTER, port: 1 }, RECEIVED).flows).toHaveLength(1);
    expect(
      decoder.decode(ipfix(5, T0, data(256)), { ...ROUTER, port: 2 }, RECEIVED).unknownTemplateSets,
    ).toBe(1);
  });

  it('drops the oldest template past maxTemplatesPerExporter', () => {
    const decoder = new NetflowDecoder({ maxTemplatesPerExporter: 3 });
    decoder.decode(ipfix(5, T0, tmpl(256), tmpl(257), tmpl(258), tmpl(259)), ROUTER, RECEIVED);
    expect(decoder.stateStats()).toMatchObject({ templates: 3, templatesEvicted: 1 });
    expect(decoder.decode(ipfix(5, T0, data(256)), ROUTER, RECEIVED).unknownTemplateSets).toBe(1);
    expect(decoder.decode(ipfix(5, T0, data(259)), ROUTER, RECEIVED).flows).toHaveLength(1);
  });

  it('refuses bad options with the name and value', () => {
    expect(() => new NetflowDecoder({ maxExporters: 0 })).toThrow(/maxExporters is 0/);
    expect(() => new NetflowDecoder({ samplingOverrides: { router7: 10 } })).toThrow(
      /"router7": not an IP address/,
    );
    expect(() => new NetflowDecoder({ samplingOverrides: { '192.0.2.1': 0.5 } })).toThrow(
      /sampling rate .* 0.5/,
    );
  });
});

describe('bad input', () => {
  const decoder = new NetflowDecoder();
  const reasonOf = (datagram: Buffer): string | null => decoder.decode(datagram, ROUTER, RECEIVED).malformed;

  it('names what is wrong with short, unknown and inconsistent datagrams', () => {
    expect(reasonOf(Buffer.of(0, 5))).toMatch(/2 bytes: too short/);
    expect(reasonOf(Buffer.from('GET / HTTP/1.1\r\n'))).toMatch(/version 18245: not NetFlow v5, v9 or IPFIX/);
    expect(reasonOf(ipfix(5, T0).subarray(0, 12))).toMatch(/IPFIX header needs 16 bytes/);
    const lying = ipfix(5, T0, set(2, template(256, spec(8, 4))));
    lying.writeUInt16BE(lying.length + 10, 2);
    expect(reasonOf(lying)).toMatch(/message length of \d+ bytes, the datagram has \d+/);
    expect(reasonOf(ipfix(5, T0, set(2, template(12, spec(8, 4)))))).toMatch(/template id 12 is below 256/);
    expect(reasonOf(ipfix(5, T0, set(2, template(256, spec(8, 0)))))).toMatch(/records of 0 bytes/);
    expect(reasonOf(ipfix(5, T0, set(2, u16(256), u16(3), spec(8, 4))))).toMatch(/announces 3 fields/);
  });

  it('never throws on random bytes or on any truncation of a valid datagram', () => {
    // A fixed-seed generator: the same bytes on every run.
    let seed = 0x2f6b_1d3c;
    const random = (): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed >>> 8;
    };
    const valid = ipfix(
      5,
      T0,
      set(2, template(256, spec(8, 4), spec(12, 4), spec(82, 0xffff), spec(1, 4))),
      set(256, cat(ipv4('198.51.100.1'), ipv4('192.0.2.80'), u8(2), Buffer.from('ab'), u32(9))),
    );
    let malformed = 0;
    for (let length = 0; length < valid.length; length++) {
      if (reasonOf(valid.subarray(0, length)) !== null) malformed++;
    }
    // Every cut is short of the message length the header gives.
    expect(malformed).toBe(valid.length);
    for (let i = 0; i < 3000; i++) {
      const bytes = Buffer.alloc(4 + (random() % 300));
      for (let k = 0; k < bytes.length; k++) bytes[k] = random() & 0xff;
      // Most should get past the version check to exercise the set and template code.
      bytes.writeUInt16BE([5, 9, 10][i % 3]!, 0);
      if (i % 3 === 2) bytes.writeUInt16BE(bytes.length, 2);
      expect(() => decoder.decode(bytes, { ...ROUTER, port: i % 7 }, RECEIVED)).not.toThrow();
    }
    expect(decoder.stateStats().exporters).toBeLessThanOrEqual(1000);
  });
});
