import { describe, expect, it } from 'vitest';
import { LinkType } from '../capture/link-type.js';
import { FlowTable, type EndReason } from '../flows/flow-table.js';
import { readFlowRecord, type FlowRecord } from '../flows/flow-record.js';
import { formatIp } from '../util/ip-address.js';
import { Fragment, PacketDecoder, TcpFlag } from './packet-decoder.js';
import { DecodeProblem, Proto } from './protocols.js';

// Hand-built frames: each helper returns the bytes of one layer around its payload.

const MAC_A = [0x02, 0, 0, 0, 0, 0x0a];
const MAC_B = [0x02, 0, 0, 0, 0, 0x0b];

function u16(v: number): number[] {
  return [(v >> 8) & 0xff, v & 0xff];
}

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

function ipv6Bytes(text: string): number[] {
  const [head = '', tail = ''] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return groups.flatMap((g) => u16(parseInt(g, 16)));
}

/** Ethernet II with optional VLAN tags, each [TPID, VLAN id]. */
function eth(etherType: number, payload: Buffer, tags: [number, number][] = []): Buffer {
  const tagBytes = tags.flatMap(([tpid, vid]) => [...u16(tpid), ...u16(vid)]);
  return Buffer.from([...MAC_B, ...MAC_A, ...tagBytes, ...u16(etherType), ...payload]);
}

interface Ipv4Options {
  src?: string;
  dst?: string;
  proto: number;
  id?: number;
  /** More-fragments flag. */
  mf?: boolean;
  /** Fragment offset in 8-byte units. */
  offset?: number;
  /** IP options (a multiple of 4 bytes). */
  options?: number[];
  /** Total length to write instead of the true one. */
  totalLength?: number;
  version?: number;
}

function ipv4(o: Ipv4Options, payload: Buffer): Buffer {
  const opts = o.options ?? [];
  const ihl = 5 + opts.length / 4;
  const total = o.totalLength ?? ihl * 4 + payload.length;
  const frag = (o.mf ? 0x2000 : 0) | (o.offset ?? 0);
  return Buffer.from([
    ((o.version ?? 4) << 4) | ihl,
    0,
    ...u16(total),
    ...u16(o.id ?? 1),
    ...u16(frag),
    64,
    o.proto,
    0,
    0,
    ...ipv4Bytes(o.src ?? '192.0.2.1'),
    ...ipv4Bytes(o.dst ?? '198.51.100.7'),
    ...opts,
    ...payload,
  ]);
}

function ipv6(next: number, payload: Buffer, src = '2001:db8::1', dst = '2001:db8::2'): Buffer {
  return Buffer.from([
    0x60,
    0,
    0,
    0,
    ...u16(payload.length),
    next,
    64,
    ...ipv6Bytes(src),
    ...ipv6Bytes(dst),
    ...payload,
  ]);
}

/** An IPv6 extension header of 8 bytes (hop-by-hop, routing, destination options). */
function ext6(next: number, payload: Buffer): Buffer {
  return Buffer.from([next, 0, 1, 4, 0, 0, 0, 0, ...payload]);
}

function frag6(next: number, offsetUnits: number, more: boolean, id: number, payload: Buffer): Buffer {
  const field = (offsetUnits << 3) | (more ? 1 : 0);
  return Buffer.from([
    next,
    0,
    ...u16(field),
    (id >>> 24) & 0xff,
    (id >>> 16) & 0xff,
    (id >>> 8) & 0xff,
    id & 0xff,
    ...payload,
  ]);
}

function tcp(srcPort: number, dstPort: number, flags: number, seq = 1000, payload = Buffer.alloc(0)): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(srcPort, 0);
  b.writeUInt16BE(dstPort, 2);
  b.writeUInt32BE(seq, 4);
  b.writeUInt32BE(flags & TcpFlag.ACK ? 5000 : 0, 8);
  b[12] = 5 << 4;
  b[13] = flags & 0xff;
  b.writeUInt16BE(65535, 14);
  return Buffer.concat([b, payload]);
}

function udp(srcPort: number, dstPort: number, payload = Buffer.alloc(0)): Buffer {
  return Buffer.from([...u16(srcPort), ...u16(dstPort), ...u16(8 + payload.length), 0, 0, ...payload]);
}

function icmpEcho(type: number, id: number): Buffer {
  return Buffer.from([type, 0, 0, 0, ...u16(id), 0, 1, 0xde, 0xad]);
}

function arp(op: number): Buffer {
  return Buffer.from([0, 1, 8, 0, 6, 4, ...u16(op), ...MAC_A, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 192, 0, 2, 2]);
}

const ETH_IPV4 = 0x0800;
const ETH_IPV6 = 0x86dd;

function decode(linkType: number, frame: Buffer): PacketDecoder {
  const d = new PacketDecoder();
  d.decode(linkType, frame, 0, frame.length);
  return d;
}

function srcText(d: PacketDecoder): string {
  return formatIp(d.ipVersion, d.src);
}

function dstText(d: PacketDecoder): string {
  return formatIp(d.ipVersion, d.dst);
}

/** Runs frames through a decoder and a flow table and returns the flows, in the order they ended. */
function flowsOf(frames: readonly Buffer[], linkType: number = LinkType.ETHERNET): FlowRecord[] {
  const flows: FlowRecord[] = [];
  const table = new FlowTable({}, (t, slot, reason: EndReason) =>
    flows.push(readFlowRecord(t, slot, reason)),
  );
  const d = new PacketDecoder();
  frames.forEach((frame, i) => {
    d.decode(linkType, frame, 0, frame.length);
    if (d.ipVersion !== 0) table.add(d, 1_000_000 + i * 1000, frame.length);
  });
  table.flush();
  return flows;
}

describe('PacketDecoder: link layers', () => {
  const inner = ipv4({ proto: 6 }, tcp(40000, 80, TcpFlag.SYN, 123456));

  it('decodes Ethernet/IPv4/TCP to addresses, ports, flags and sequence number', () => {
    const d = decode(LinkType.ETHERNET, eth(ETH_IPV4, inner));
    expect(d.problem).toBe(DecodeProblem.NONE);
    expect(d.protoMask).toBe(Proto.ETHERNET | Proto.IPV4 | Proto.TCP);
    expect([srcText(d), d.srcPort, dstText(d), d.dstPort]).toEqual(['192.0.2.1', 40000, '198.51.100.7', 80]);
    expect(d.tcpFlags).toBe(TcpFlag.SYN);
    expect(d.tcpSeq).toBe(123456);
  });

  it('follows one 802.1Q tag, QinQ (802.1ad outer, 802.1Q inner) and a triple stack', () => {
    for (const tags of [
      [[0x8100, 10]],
      [
        [0x88a8, 100],
        [0x8100, 10],
      ],
      [
        [0x9100, 7],
        [0x88a8, 100],
        [0x8100, 10],
      ],
    ] as [number, number][][]) {
      const d = decode(LinkType.ETHERNET, eth(ETH_IPV4, inner, tags));
      expect(d.problem).toBe(DecodeProblem.NONE);
      expect(d.protoMask & (Proto.VLAN | Proto.TCP)).toBe(Proto.VLAN | Proto.TCP);
      expect(d.dstPort).toBe(80);
    }
  });

  it('counts a VLAN tag cut short as a truncated link header', () => {
    const frame = eth(0x8100, Buffer.from([0, 10]));
    const d = decode(LinkType.ETHERNET, frame);
    expect(d.problem).toBe(DecodeProblem.TRUNCATED_LINK_HEADER);
  });

  it('reads Linux cooked captures v1 and v2', () => {
    const sll = Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 6, ...MAC_A, 0, 0, ...u16(ETH_IPV4)]), inner]);
    const sll2 = Buffer.concat([
      Buffer.from([...u16(ETH_IPV4), 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, ...MAC_A, 0, 0]),
      inner,
    ]);
    for (const [lt, frame] of [
      [LinkType.LINUX_SLL, sll],
      [LinkType.LINUX_SLL2, sll2],
    ] as const) {
      const d = decode(lt, frame);
      expect(d.problem).toBe(DecodeProblem.NONE);
      expect(d.dstPort).toBe(80);
    }
  });

  it('reads BSD loopback in either byte order, and each BSD family number of AF_INET6', () => {
    const le = decode(LinkType.NULL, Buffer.concat([Buffer.from([2, 0, 0, 0]), inner]));
    const be = decode(LinkType.NULL, Buffer.concat([Buffer.from([0, 0, 0, 2]), inner]));
    const loop = decode(LinkType.LOOP, Buffer.concat([Buffer.from([0, 0, 0, 2]), inner]));
    expect([le.ipVersion, be.ipVersion, loop.ipVersion]).toEqual([4, 4, 4]);
    for (const family of [24, 28, 30]) {
      const d = decode(
        LinkType.NULL,
        Buffer.concat([Buffer.from([family, 0, 0, 0]), ipv6(17, udp(5353, 53))]),
      );
      expect(d.ipVersion).toBe(6);
      expect(d.dstPort).toBe(53);
    }
  });

  it('reads raw IP by its version nibble, and the IPv4/IPv6 link types', () => {
    expect(decode(LinkType.RAW, inner).ipVersion).toBe(4);
    expect(decode(LinkType.RAW, ipv6(17, udp(1, 2))).ipVersion).toBe(6);
    expect(decode(LinkType.IPV4, inner).dstPort).toBe(80);
    expect(decode(LinkType.IPV6, ipv6(6, tcp(1, 443, TcpFlag.SYN))).dstPort).toBe(443);
  });

  it('decodes PPPoE sessions and MPLS label stacks to the IP inside', () => {
    const pppoe = Buffer.concat([Buffer.from([0x11, 0, 0, 1, ...u16(inner.length + 2), 0, 0x21]), inner]);
    const d1 = decode(LinkType.ETHERNET, eth(0x8864, pppoe));
    expect(d1.protoMask & (Proto.PPPOE | Proto.TCP)).toBe(Proto.PPPOE | Proto.TCP);
    const labels = Buffer.from([0, 0x01, 0x00, 64, 0, 0x02, 0x01, 64]); // two labels, bottom of stack on the second
    const d2 = decode(LinkType.ETHERNET, eth(0x8847, Buffer.concat([labels, inner])));
    expect(d2.protoMask & (Proto.MPLS | Proto.TCP)).toBe(Proto.MPLS | Proto.TCP);
  });

  it('reads ARP and reverse ARP (EtherType 0x8035, the same packet format)', () => {
    const a = decode(LinkType.ETHERNET, eth(0x0806, arp(1)));
    const r = decode(LinkType.ETHERNET, eth(0x8035, arp(3)));
    expect([a.protoMask & Proto.ARP, a.arpOp]).toEqual([Proto.ARP, 1]);
    expect([r.protoMask & Proto.ARP, r.arpOp]).toEqual([Proto.ARP, 3]);
    expect(r.ipVersion).toBe(0);
  });

  it('counts an unsupported link type and an empty frame by reason', () => {
    expect(decode(147, inner).problem).toBe(DecodeProblem.UNSUPPORTED_LINK_TYPE);
    const d = new PacketDecoder();
    d.decode(LinkType.ETHERNET, inner, 0, 0);
    expect(d.problem).toBe(DecodeProblem.ZERO_LENGTH);
  });
});

describe('PacketDecoder: IPv4 and IPv6', () => {
  it('skips IPv4 options to find the transport header', () => {
    const options = [0x94, 0x04, 0, 0]; // router alert
    const d = decode(LinkType.RAW, ipv4({ proto: 17, options }, udp(1234, 53)));
    expect(d.problem).toBe(DecodeProblem.NONE);
    expect([d.srcPort, d.dstPort]).toEqual([1234, 53]);
  });

  it('trims Ethernet padding by the IPv4 total length', () => {
    const frame = eth(ETH_IPV4, Buffer.concat([ipv4({ proto: 17 }, udp(1, 2)), Buffer.alloc(18)]));
    const d = decode(LinkType.ETHERNET, frame);
    expect(d.ipLength).toBe(28);
  });

  it('takes total length 0 as a TCP segmentation offload packet filling the capture', () => {
    const packet = ipv4({ proto: 1, totalLength: 0 }, icmpEcho(8, 7));
    const d = decode(LinkType.RAW, packet);
    expect(d.problem).toBe(DecodeProblem.NONE);
    expect(d.protoMask & Proto.ICMP).toBe(Proto.ICMP);
    expect(d.ipLength).toBe(packet.length);
  });

  it('rejects a total length shorter than the header, and a version that is not 4 behind EtherType IPv4', () => {
    expect(decode(LinkType.RAW, ipv4({ proto: 6, totalLength: 12 }, tcp(1, 2, 0))).problem).toBe(
      DecodeProblem.BAD_IPV4_HEADER,
    );
    const v6 = decode(LinkType.ETHERNET, eth(ETH_IPV4, ipv4({ proto: 6, version: 6 }, tcp(1, 2, 0))));
    expect(v6.problem).toBe(DecodeProblem.BAD_IP_VERSION);
    expect(v6.protoMask & Proto.IPV6).toBe(0);
  });

  it('marks IPv4 fragments: the first carries the ports, a later one only the datagram id', () => {
    const first = decode(
      LinkType.RAW,
      ipv4({ proto: 17, id: 0x4242, mf: true }, udp(5000, 53, Buffer.alloc(16))),
    );
    expect([first.fragment, first.fragmentId, first.fragmentProto, first.dstPort]).toEqual([
      Fragment.FIRST,
      0x4242,
      17,
      53,
    ]);
    expect(first.protoMask & (Proto.FRAGMENT | Proto.UDP)).toBe(Proto.FRAGMENT | Proto.UDP);
    const later = decode(LinkType.RAW, ipv4({ proto: 17, id: 0x4242, offset: 3 }, Buffer.alloc(24)));
    expect([later.fragment, later.fragmentId, later.fragmentProto, later.hasPorts]).toEqual([
      Fragment.LATER,
      0x4242,
      17,
      false,
    ]);
    expect(later.protoMask & Proto.UDP).toBe(0);
  });

  it('walks the IPv6 extension chain (hop-by-hop, routing, destination options) to TCP', () => {
    const chain = ext6(43, ext6(60, ext6(6, tcp(40000, 443, TcpFlag.SYN))));
    const d = decode(LinkType.ETHERNET, eth(ETH_IPV6, ipv6(0, chain)));
    expect(d.problem).toBe(DecodeProblem.NONE);
    expect([d.ipVersion, d.ipProto, d.dstPort, srcText(d), dstText(d)]).toEqual([
      6,
      6,
      443,
      '2001:db8::1',
      '2001:db8::2',
    ]);
  });

  it('counts an extension header that runs past the packet as a problem', () => {
    const d = decode(LinkType.RAW, ipv6(0, Buffer.from([6, 0, 0, 0])));
    expect(d.problem).toBe(DecodeProblem.BAD_IPV6_EXTENSION);
  });

  it('marks IPv6 fragments, naming the datagram by the next header of the Fragment header', () => {
    // Destination options after the Fragment header: only the first fragment knows it is UDP.
    const first = decode(LinkType.RAW, ipv6(44, frag6(60, 0, true, 0xabcdef01, ext6(17, udp(5353, 53)))));
    expect([first.fragment, first.fragmentId, first.fragmentProto, first.ipProto, first.dstPort]).toEqual([
      Fragment.FIRST,
      0xabcdef01,
      60,
      17,
      53,
    ]);
    const later = decode(LinkType.RAW, ipv6(0, ext6(44, frag6(60, 4, false, 0xabcdef01, Buffer.alloc(32)))));
    expect([later.fragment, later.fragmentId, later.fragmentProto, later.hasPorts]).toEqual([
      Fragment.LATER,
      0xabcdef01,
      60,
      false,
    ]);
  });

  it('joins IPv4 and IPv6 fragments, first or later in either order, to one flow', () => {
    const v4 = [
      ipv4({ proto: 17, id: 9, offset: 3 }, Buffer.alloc(24)), // the last fragment first, as Linux sends
      ipv4({ proto: 17, id: 9, mf: true }, udp(5000, 53, Buffer.alloc(16))),
      ipv4({ proto: 17, id: 9, mf: true, offset: 6 }, Buffer.alloc(24)),
    ];
    const v6 = [
      ipv6(44, frag6(17, 0, true, 77, udp(5353, 53, Buffer.alloc(8)))),
      ipv6(44, frag6(17, 2, false, 77, Buffer.alloc(16))),
    ];
    // Destination options after the Fragment header: the later fragment cannot know it is UDP.
    const v6Options = [
      ipv6(44, frag6(60, 3, false, 78, Buffer.alloc(16))),
      ipv6(44, frag6(60, 0, true, 78, ext6(17, udp(5353, 53, Buffer.alloc(8))))),
    ];
    for (const frames of [v4, v6, v6Options]) {
      const flows = flowsOf(frames, LinkType.RAW);
      expect(flows).toHaveLength(1);
      expect(flows[0]).toMatchObject({ protocol: 'udp', serverPort: 53, fragments: frames.length });
      expect(flows[0]!.packetsToServer).toBe(frames.length);
    }
  });
});

describe('PacketDecoder: tunnels and transports', () => {
  const innerTcp = ipv4({ proto: 6, src: '10.0.0.1', dst: '10.0.0.2' }, tcp(40000, 22, TcpFlag.SYN));

  it('decodes GRE (with key) to the inner packet, which keys the flow', () => {
    const gre = Buffer.concat([Buffer.from([0x20, 0, ...u16(ETH_IPV4), 0, 0, 0, 5]), innerTcp]);
    const frame = eth(ETH_IPV4, ipv4({ proto: 47 }, gre));
    const d = decode(LinkType.ETHERNET, frame);
    expect(d.protoMask & (Proto.GRE | Proto.TCP)).toBe(Proto.GRE | Proto.TCP);
    expect([srcText(d), dstText(d), d.dstPort]).toEqual(['10.0.0.1', '10.0.0.2', 22]);
    expect(flowsOf([frame])[0]).toMatchObject({ protocol: 'tcp', clientAddress: '10.0.0.1', serverPort: 22 });
  });

  it('decodes VXLAN to the inner Ethernet frame', () => {
    const vxlan = Buffer.concat([Buffer.from([0x08, 0, 0, 0, 0, 0, 42, 0]), eth(ETH_IPV4, innerTcp)]);
    const frame = eth(ETH_IPV4, ipv4({ proto: 17 }, udp(51000, 4789, vxlan)));
    const d = decode(LinkType.ETHERNET, frame);
    expect(d.protoMask & (Proto.VXLAN | Proto.UDP | Proto.TCP)).toBe(Proto.VXLAN | Proto.UDP | Proto.TCP);
    expect(flowsOf([frame])[0]).toMatchObject({ protocol: 'tcp', clientAddress: '10.0.0.1', serverPort: 22 });
  });

  it('decodes IPv4-in-IPv4, 6in4 and 4in6', () => {
    const ipip = decode(LinkType.RAW, ipv4({ proto: 4 }, innerTcp));
    expect([ipip.ipVersion, srcText(ipip), ipip.dstPort]).toEqual([4, '10.0.0.1', 22]);
    const sixInFour = decode(LinkType.RAW, ipv4({ proto: 41 }, ipv6(17, udp(1, 53))));
    expect([sixInFour.ipVersion, sixInFour.dstPort]).toEqual([6, 53]);
    const fourInSix = decode(LinkType.RAW, ipv6(4, innerTcp));
    expect([fourInSix.ipVersion, srcText(fourInSix)]).toEqual([4, '10.0.0.1']);
    for (const d of [ipip, sixInFour, fourInSix]) expect(d.protoMask & Proto.IP_IN_IP).toBe(Proto.IP_IN_IP);
    expect(flowsOf([ipv4({ proto: 4 }, innerTcp)], LinkType.RAW)[0]).toMatchObject({
      clientAddress: '10.0.0.1',
      serverAddress: '10.0.0.2',
    });
  });

  it('stops at a depth of tunnels no real network uses', () => {
    let packet = innerTcp;
    for (let i = 0; i < 12; i++) packet = ipv4({ proto: 4 }, packet);
    expect(decode(LinkType.RAW, packet).problem).toBe(DecodeProblem.TOO_MANY_ENCAPSULATIONS);
  });

  it('keys ICMP echo by its identifier', () => {
    const d = decode(LinkType.RAW, ipv4({ proto: 1 }, icmpEcho(8, 0x1234)));
    expect([d.icmpType, d.hasPorts, d.srcPort, d.dstPort]).toEqual([8, true, 0x1234, 0x1234]);
    const v6 = decode(LinkType.RAW, ipv6(58, icmpEcho(128, 7)));
    expect([v6.protoMask & Proto.ICMPV6, v6.icmpType, v6.srcPort]).toEqual([Proto.ICMPV6, 128, 7]);
  });

  it('counts a TCP header cut short as truncated, keeping the ports it holds', () => {
    const full = eth(ETH_IPV4, ipv4({ proto: 6 }, tcp(40000, 80, TcpFlag.SYN)));
    const cut = full.subarray(0, 14 + 20 + 10);
    const d = decode(LinkType.ETHERNET, cut);
    expect(d.problem).toBe(DecodeProblem.TRUNCATED_TCP);
    expect(d.protoMask & Proto.TCP).toBe(Proto.TCP);
    expect([d.srcPort, d.dstPort, d.tcpFlags]).toEqual([40000, 80, 0]);
  });

  it('counts truncated UDP and a TCP data offset below 20 bytes', () => {
    const udpCut = ipv4({ proto: 17 }, udp(1, 2)).subarray(0, 20 + 6);
    expect(decode(LinkType.RAW, udpCut).problem).toBe(DecodeProblem.TRUNCATED_UDP);
    const bad = tcp(1, 2, TcpFlag.ACK);
    bad[12] = 4 << 4;
    expect(decode(LinkType.RAW, ipv4({ proto: 6 }, bad)).problem).toBe(DecodeProblem.BAD_TCP_HEADER);
  });

  it('never throws on random bytes, on any link type, and reuses itself cleanly afterwards', () => {
    let seed = 0x12345678;
    const next = (): number => {
      // xorshift32: deterministic, so a failure reproduces
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    };
    const d = new PacketDecoder();
    const linkTypes = Object.values(LinkType);
    const buf = Buffer.alloc(256);
    for (let i = 0; i < 20_000; i++) {
      const len = next() % 200;
      for (let k = 0; k < len; k++) buf[k] = next() & 0xff;
      // Random bytes rarely look like IP; prefix a real header half of the time.
      if (i % 2 === 0 && len > 40) buf[0] = 0x45;
      const lt = linkTypes[next() % linkTypes.length]!;
      d.decode(lt, buf, 0, len); // a throw fails the test
    }
    d.decode(LinkType.RAW, innerTcp, 0, innerTcp.length);
    expect([d.problem, d.dstPort, d.fragment]).toEqual([DecodeProblem.NONE, 22, Fragment.NONE]);
  });
});
