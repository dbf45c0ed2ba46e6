import { describe, expect, it } from 'vitest';
import { Fragment, IpProto, PacketDecoder, TcpFlag } from '../decode/packet-decoder.js';
import { readFlowRecord, type FlowRecord } from './flow-record.js';
import { FlowTable, type FlowTableOptions } from './flow-table.js';

const { SYN, ACK, FIN, RST } = TcpFlag;
const SECOND = 1_000_000;

interface Packet {
  src: string;
  dst: string;
  srcPort?: number;
  dstPort?: number;
  proto?: number;
  flags?: number;
  seq?: number;
  fragment?: (typeof Fragment)[keyof typeof Fragment];
  fragmentId?: number;
}

function ipv4Number(text: string): number {
  return text.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** A decoder holding an IPv4 packet, as PacketDecoder leaves it after decoding one. */
function packet(p: Packet): PacketDecoder {
  const d = new PacketDecoder();
  const proto = p.proto ?? IpProto.TCP;
  d.ipVersion = 4;
  d.src[0] = ipv4Number(p.src);
  d.dst[0] = ipv4Number(p.dst);
  d.ipProto = proto;
  d.fragment = p.fragment ?? Fragment.NONE;
  d.fragmentId = p.fragmentId ?? 0;
  d.fragmentProto = proto;
  d.hasPorts = d.fragment !== Fragment.LATER && (proto === IpProto.TCP || proto === IpProto.UDP);
  d.srcPort = d.hasPorts ? (p.srcPort ?? 0) : 0;
  d.dstPort = d.hasPorts ? (p.dstPort ?? 0) : 0;
  d.tcpFlags = proto === IpProto.TCP && d.fragment !== Fragment.LATER ? (p.flags ?? ACK) : 0;
  d.tcpSeq = p.seq ?? 1000;
  return d;
}

const CLIENT = { src: '192.0.2.10', dst: '198.51.100.80', srcPort: 40000, dstPort: 443 };
const SERVER = { src: '198.51.100.80', dst: '192.0.2.10', srcPort: 443, dstPort: 40000 };

function harness(options: Partial<FlowTableOptions> = {}) {
  const ended: FlowRecord[] = [];
  const table = new FlowTable(options, (t, slot, reason) => ended.push(readFlowRecord(t, slot, reason)));
  return {
    table,
    ended,
    /** Adds a packet at `seconds` of packet time. */
    add(p: Packet, seconds: number, bytes = 60): number {
      return table.add(packet(p), Math.round(seconds * SECOND), bytes);
    },
    flushed(): FlowRecord[] {
      table.flush();
      return ended;
    },
  };
}

describe('FlowTable: direction and TCP state', () => {
  it('joins both directions into one flow whose client sent the first packet', () => {
    const h = harness();
    h.add({ ...CLIENT, flags: SYN }, 0, 74);
    h.add({ ...SERVER, flags: SYN | ACK }, 0.01, 74);
    h.add({ ...CLIENT, flags: ACK }, 0.02, 66);
    const [flow, ...rest] = h.flushed();
    expect(rest).toEqual([]);
    expect(flow).toMatchObject({
      protocol: 'tcp',
      clientAddress: '192.0.2.10',
      clientPort: 40000,
      serverAddress: '198.51.100.80',
      serverPort: 443,
      packetsToServer: 2,
      packetsToClient: 1,
      bytesToServer: 140,
      bytesToClient: 74,
      tcpFlagsClient: 'SA',
      tcpFlagsServer: 'SA',
      state: 'established',
    });
  });

  it('makes the SYN sender the initiator even when the SYN-ACK is seen first', () => {
    const h = harness();
    h.add({ ...SERVER, flags: SYN | ACK }, 0);
    h.add({ ...CLIENT, flags: SYN }, 0.001);
    h.add({ ...CLIENT, flags: ACK }, 0.002);
    const flows = h.flushed();
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({
      clientAddress: '192.0.2.10',
      clientPort: 40000,
      serverPort: 443,
      packetsToServer: 2,
      packetsToClient: 1,
      state: 'established',
    });
  });

  it.each([
    ['attempted', [[CLIENT, SYN]]],
    [
      'established',
      [
        [CLIENT, SYN],
        [SERVER, SYN | ACK],
        [CLIENT, ACK],
      ],
    ],
    [
      'closed-fin',
      [
        [CLIENT, SYN],
        [SERVER, SYN | ACK],
        [CLIENT, FIN | ACK],
        [SERVER, FIN | ACK],
        [CLIENT, ACK],
      ],
    ],
    [
      'closed-rst',
      [
        [CLIENT, SYN],
        [SERVER, SYN | ACK],
        [CLIENT, ACK],
        [CLIENT, RST],
      ],
    ],
    [
      'rejected',
      [
        [CLIENT, SYN],
        [SERVER, RST | ACK],
      ],
    ],
    ['midstream', [[CLIENT, ACK]]],
  ] as const)('ends in state %s', (state, steps) => {
    const h = harness();
    steps.forEach(([side, flags], i) => h.add({ ...side, flags }, i * 0.01));
    const flows = h.flushed();
    expect(flows).toHaveLength(1);
    expect(flows[0]!.state).toBe(state);
  });

  it('starts a new flow when the ports are reused after a close', () => {
    const h = harness();
    h.add({ ...CLIENT, flags: SYN, seq: 1 }, 0);
    h.add({ ...SERVER, flags: SYN | ACK }, 0.01);
    h.add({ ...CLIENT, flags: FIN | ACK }, 0.02);
    h.add({ ...SERVER, flags: FIN | ACK }, 0.03);
    h.add({ ...CLIENT, flags: SYN, seq: 1 }, 1); // same ISN, but the old connection is over
    h.add({ ...SERVER, flags: SYN | ACK }, 1.01);
    const flows = h.flushed();
    expect(flows.map((f) => [f.state, f.endReason])).toEqual([
      ['closed-fin', 'port-reused'],
      ['established', 'end-of-input'],
    ]);
  });

  it('starts a new flow on a SYN with a new initial sequence number, not on a retransmitted SYN', () => {
    const h = harness();
    h.add({ ...CLIENT, flags: SYN, seq: 111 }, 0);
    h.add({ ...CLIENT, flags: SYN, seq: 111 }, 1); // retransmission
    h.add({ ...CLIENT, flags: SYN, seq: 999 }, 2); // a new connection on the same ports
    const flows = h.flushed();
    expect(flows.map((f) => [f.packetsToServer, f.state, f.endReason])).toEqual([
      [2, 'attempted', 'port-reused'],
      [1, 'attempted', 'end-of-input'],
    ]);
  });

  it('counts a SYN port scan as one attempted flow per port', () => {
    const h = harness();
    for (let port = 1; port <= 100; port++) h.add({ ...CLIENT, dstPort: port, flags: SYN }, port * 0.001);
    for (let port = 1; port <= 100; port += 2) {
      h.add({ ...SERVER, srcPort: port, flags: RST | ACK }, 0.2 + port * 0.001);
    }
    const flows = h.flushed();
    expect(flows).toHaveLength(100);
    expect(flows.filter((f) => f.state === 'rejected')).toHaveLength(50);
    expect(flows.filter((f) => f.state === 'attempted')).toHaveLength(50);
  });
});

describe('FlowTable: timeouts on packet time', () => {
  const other = { src: '203.0.113.5', dst: '198.51.100.80', srcPort: 5000, dstPort: 53, proto: IpProto.UDP };

  it('ends an idle flow when packet time passes its idle timeout, and never by the clock', () => {
    const h = harness({ idleTimeoutMicros: 10 * SECOND });
    h.add({ ...CLIENT, flags: SYN }, 0);
    h.add(other, 9.9);
    expect(h.ended).toEqual([]); // only packet time moves the table
    h.add(other, 10);
    expect(h.ended.map((f) => [f.clientPort, f.endReason])).toEqual([[40000, 'idle']]);
    expect(h.table.live).toBe(1);
  });

  it('splits a long flow at the active timeout', () => {
    const h = harness({ activeTimeoutMicros: 5 * SECOND, idleTimeoutMicros: 60 * SECOND });
    for (let s = 0; s <= 12; s++) h.add(other, s);
    const flows = h.flushed();
    expect(flows.map((f) => [f.packetsToServer, f.endReason])).toEqual([
      [5, 'active-timeout'],
      [5, 'active-timeout'],
      [3, 'end-of-input'],
    ]);
  });

  it('ends a closed TCP flow after the closed timeout, sooner than an idle one', () => {
    const h = harness({ closedTimeoutMicros: 2 * SECOND, idleTimeoutMicros: 60 * SECOND });
    h.add({ ...CLIENT, flags: SYN }, 0);
    h.add({ ...SERVER, flags: RST | ACK }, 0.1);
    h.add(other, 0.1);
    h.add({ ...other, srcPort: 5001 }, 2.1);
    expect(h.ended.map((f) => [f.state, f.endReason])).toEqual([['rejected', 'closed']]);
  });
});

describe('FlowTable: bounded memory', () => {
  it('evicts the oldest idle flow at the cap and counts it', () => {
    const h = harness({ maxFlows: 3 });
    const flow = (port: number) => ({ ...CLIENT, srcPort: port, flags: ACK });
    h.add(flow(1), 1);
    h.add(flow(2), 2);
    h.add(flow(3), 3);
    h.add(flow(1), 4); // flow 1 is busy again: flow 2 is now the oldest idle
    h.add(flow(4), 5);
    expect(h.ended.map((f) => [f.clientPort, f.endReason])).toEqual([[2, 'evicted']]);
    expect(h.table.evicted).toBe(1);
    expect(h.table.live).toBe(3);
  });

  it('evicts a closed connection before an open one', () => {
    const h = harness({ maxFlows: 2 });
    h.add({ ...CLIENT, srcPort: 1, flags: ACK }, 1);
    h.add({ ...CLIENT, srcPort: 2, flags: SYN }, 2);
    h.add({ ...SERVER, dstPort: 2, flags: RST | ACK }, 3);
    h.add({ ...CLIENT, srcPort: 3, flags: SYN }, 4);
    expect(h.ended.map((f) => [f.clientPort, f.state, f.endReason])).toEqual([[2, 'rejected', 'evicted']]);
  });

  it('stays within its cap under a spoofed flood', () => {
    const h = harness({ maxFlows: 1000 });
    for (let i = 0; i < 50_000; i++) {
      h.add(
        {
          src: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
          dst: '198.51.100.80',
          srcPort: 1024 + (i % 60000),
          dstPort: 80,
          flags: SYN,
        },
        i * 1e-5,
      );
    }
    expect(h.table.live).toBe(1000);
    expect(h.table.allocatedSlots).toBeLessThanOrEqual(1000);
    expect(h.table.evicted).toBe(49_000);
    expect(h.table.flowsCreated).toBe(50_000);
  });
});

describe('FlowTable: IP fragments', () => {
  const datagram = {
    src: '192.0.2.10',
    dst: '198.51.100.53',
    srcPort: 5353,
    dstPort: 53,
    proto: IpProto.UDP,
  };

  it('joins later fragments to the flow of their first fragment', () => {
    const h = harness();
    h.add({ ...datagram, fragment: Fragment.FIRST, fragmentId: 7 }, 0, 1514);
    h.add({ ...datagram, fragment: Fragment.LATER, fragmentId: 7 }, 0.001, 600);
    const flows = h.flushed();
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({ serverPort: 53, packetsToServer: 2, bytesToServer: 2114, fragments: 2 });
    expect(h.table.fragmentsJoined).toBe(1);
  });

  it('moves later fragments that came before the first into its flow', () => {
    const h = harness();
    h.add({ ...datagram, fragment: Fragment.LATER, fragmentId: 8 }, 0, 600);
    h.add({ ...datagram, fragment: Fragment.LATER, fragmentId: 8 }, 0.001, 600);
    h.add({ ...datagram, fragment: Fragment.FIRST, fragmentId: 8 }, 0.002, 1514);
    const flows = h.flushed();
    expect(flows).toHaveLength(1);
    expect(flows[0]).toMatchObject({
      serverPort: 53,
      packetsToServer: 3,
      bytesToServer: 2714,
      fragments: 3,
      firstSeen: 0,
    });
    expect(h.table.fragmentsJoined).toBe(2);
    expect(h.table.flowsCreated).toBe(1);
  });

  it('keeps fragments whose first fragment never comes in a portless flow of the two hosts', () => {
    const h = harness();
    h.add({ ...datagram, fragment: Fragment.LATER, fragmentId: 9 }, 0, 600);
    h.add({ ...datagram, fragment: Fragment.FIRST, fragmentId: 10 }, 0.001, 1514);
    const flows = h.flushed();
    expect(flows.map((f) => [f.protocol, f.clientPort, f.serverPort, f.packetsToServer])).toEqual([
      ['udp', 0, 0, 1],
      ['udp', 5353, 53, 1],
    ]);
  });

  it('moves early fragments out of a portless flow that other datagrams also use', () => {
    const h = harness();
    h.add({ ...datagram, fragment: Fragment.LATER, fragmentId: 1 }, 0, 100); // first never comes
    h.add({ ...datagram, fragment: Fragment.LATER, fragmentId: 2 }, 0.001, 200);
    h.add({ ...datagram, fragment: Fragment.FIRST, fragmentId: 2 }, 0.002, 1000);
    const flows = h.flushed();
    expect(flows.map((f) => [f.clientPort, f.packetsToServer, f.bytesToServer, f.fragments])).toEqual([
      [0, 1, 100, 1],
      [5353, 2, 1200, 2],
    ]);
  });
});
