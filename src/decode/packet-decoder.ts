/**
 * Decodes one captured frame in place, from its link layer down to the innermost transport header,
 * into the fields of a single reused PacketDecoder (no allocation per packet). Tunnels (GRE, VXLAN,
 * IP-in-IP, Teredo) are followed to the inner packet, which then defines the flow key.
 *
 * Never throws on packet bytes: a frame that ends early or lies about its lengths sets `problem`
 * and keeps what was decoded before that point. Every read is bounds-checked against the end of
 * the current layer. This module is pure: no I/O, no clock.
 */

import { LinkType } from '../capture/link-type.js';
import { DecodeProblem, Proto } from './protocols.js';

/** IP protocol numbers (IANA). */
export const IpProto = {
  ICMP: 1,
  IPV4: 4,
  TCP: 6,
  UDP: 17,
  IPV6: 41,
  GRE: 47,
  ICMPV6: 58,
} as const;

/** TCP flag bits as in the header's 9-bit flags field. */
export const TcpFlag = {
  FIN: 0x01,
  SYN: 0x02,
  RST: 0x04,
  PSH: 0x08,
  ACK: 0x10,
  URG: 0x20,
  ECE: 0x40,
  CWR: 0x80,
  NS: 0x100,
} as const;

/** Fragment position of the innermost IP layer. */
export const Fragment = { NONE: 0, FIRST: 1, LATER: 2 } as const;

const ETH_IPV4 = 0x0800;
const ETH_ARP = 0x0806;
/** Reverse ARP (RFC 903): the ARP packet format with opcodes 3 and 4. */
const ETH_RARP = 0x8035;
const ETH_VLAN = 0x8100;
const ETH_QINQ = 0x88a8;
const ETH_QINQ_OLD = 0x9100;
const ETH_IPV6 = 0x86dd;
const ETH_MPLS = 0x8847;
const ETH_MPLS_MULTICAST = 0x8848;
const ETH_PPPOE_SESSION = 0x8864;
const ETH_TRANSPARENT_BRIDGING = 0x6558;
const ETH_ERSPAN_2 = 0x88be;
const ETH_ERSPAN_3 = 0x22eb;
const ETH_PPP = 0x880b;

const PORT_VXLAN = 4789;
const PORT_TEREDO = 3544;

/** Deeper nesting than this is treated as hostile (each level costs a header). */
const MAX_ENCAPSULATIONS = 8;

export class PacketDecoder {
  /** Proto bits of every layer seen in the frame. */
  protoMask = 0;
  problem: DecodeProblem = DecodeProblem.NONE;
  /** 4 or 6 when an IP header was decoded (the innermost one), else 0. */
  ipVersion = 0;
  /** Source and destination address: IPv4 in word 0 (others 0), IPv6 as four big-endian words. */
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  /** IP protocol number of the innermost IP layer. */
  ipProto = 0;
  /** True when srcPort/dstPort hold transport ports (TCP, UDP) or ICMP identifiers. */
  hasPorts = false;
  srcPort = 0;
  dstPort = 0;
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWindow = 0;
  /** ICMP or ICMPv6 type and code; -1 when not ICMP. */
  icmpType = -1;
  icmpCode = 0;
  fragment: (typeof Fragment)[keyof typeof Fragment] = Fragment.NONE;
  /** IPv4 identification or IPv6 fragment identification, when `fragment` is set. */
  fragmentId = 0;
  /**
   * The protocol that follows the fragmentation (IPv4's protocol, or the IPv6 Fragment header's
   * next header), when `fragment` is set. With the addresses and `fragmentId` it names the
   * datagram (RFC 791; RFC 8200 section 4.5): a later IPv6 fragment cannot know the transport
   * protocol when more extension headers follow the Fragment header in the first one.
   */
  fragmentProto = 0;
  /** Bytes of the innermost IP packet by its own header (0 when none). */
  ipLength = 0;
  /** ARP operation (1 request, 2 reply) when the frame is ARP, else 0. */
  arpOp = 0;
  /** Sender and target protocol address of IPv4-over-Ethernet ARP (host order), else 0. */
  arpSenderIp = 0;
  arpTargetIp = 0;
  /** How many tunnel layers were opened. */
  encapsulations = 0;

  private buf: Uint8Array = new Uint8Array(0);

  /** Decodes `capLen` bytes of `data` from `offset` as a frame of `linkType`. */
  decode(linkType: number, data: Uint8Array, offset: number, capLen: number): void {
    this.protoMask = 0;
    this.problem = DecodeProblem.NONE;
    this.ipVersion = 0;
    this.ipProto = 0;
    this.hasPorts = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.icmpType = -1;
    this.fragment = Fragment.NONE;
    this.ipLength = 0;
    this.arpOp = 0;
    this.arpSenderIp = 0;
    this.arpTargetIp = 0;
    this.encapsulations = 0;
    this.buf = data;
    const end = offset + capLen;
    if (capLen <= 0) {
      this.problem = DecodeProblem.ZERO_LENGTH;
      return;
    }
    switch (linkType) {
      case LinkType.ETHERNET:
        this.ethernet(offset, end);
        return;
      case LinkType.LINUX_SLL:
        if (end - offset < 16) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
        this.linuxCookedPayload(this.u16(offset + 14), offset + 16, end);
        return;
      case LinkType.LINUX_SLL2:
        if (end - offset < 20) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
        this.linuxCookedPayload(this.u16(offset), offset + 20, end);
        return;
      case LinkType.RAW:
      case LinkType.RAW_BSD12:
      case LinkType.RAW_BSD14:
        this.ipByVersion(offset, end);
        return;
      case LinkType.IPV4:
        this.ipv4(offset, end);
        return;
      case LinkType.IPV6:
        this.ipv6(offset, end);
        return;
      case LinkType.NULL:
      case LinkType.LOOP:
        this.loopback(linkType, offset, end);
        return;
      case LinkType.PPP:
        this.ppp(offset, end);
        return;
      case LinkType.SLIP:
        // BSD/OS SLIP: a 16-byte pseudo-header (direction, compressed-header copy) precedes IP.
        if (end - offset < 16) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
        this.ipByVersion(offset + 16, end);
        return;
      case LinkType.NFLOG:
        this.nflog(offset, end);
        return;
      case LinkType.IEEE802_11_RADIOTAP: {
        if (end - offset < 4) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
        const radiotapLen = data[offset + 2]! | (data[offset + 3]! << 8);
        this.wifi(offset + radiotapLen, end);
        return;
      }
      case LinkType.IEEE802_11:
        this.wifi(offset, end);
        return;
      case LinkType.ETHERNET_MPACKET:
        // IEEE 802.3br mPacket: 7 preamble bytes and the SMD precede an Ethernet frame.
        if (end - offset < 8) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
        this.ethernet(offset + 8, end);
        return;
      default:
        this.problem = DecodeProblem.UNSUPPORTED_LINK_TYPE;
    }
  }

  private fail(problem: DecodeProblem): void {
    if (this.problem === DecodeProblem.NONE) this.problem = problem;
  }

  private u16(p: number): number {
    const b = this.buf;
    return (b[p]! << 8) | b[p + 1]!;
  }

  private u32(p: number): number {
    const b = this.buf;
    return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
  }

  private ethernet(off: number, end: number): void {
    if (end - off < 14) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    this.protoMask |= Proto.ETHERNET;
    this.etherPayload(this.u16(off + 12), off + 14, end);
  }

  /** Dispatches on an EtherType (or an 802.3 length), following VLAN tags. */
  private etherPayload(etherType: number, off: number, end: number): void {
    let type = etherType;
    let p = off;
    while (type === ETH_VLAN || type === ETH_QINQ || type === ETH_QINQ_OLD) {
      if (end - p < 4) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
      this.protoMask |= Proto.VLAN;
      type = this.u16(p + 2);
      p += 4;
    }
    if (type < 0x0600) {
      // 802.3 length field: an LLC header follows; only SNAP carries an EtherType.
      const b = this.buf;
      if (end - p >= 8 && b[p] === 0xaa && b[p + 1] === 0xaa && b[p + 2] === 0x03) {
        type = this.u16(p + 6);
        p += 8;
      } else {
        this.protoMask |= Proto.OTHER_LINK;
        return;
      }
    }
    this.etherType(type, p, end);
  }

  private etherType(type: number, p: number, end: number): void {
    switch (type) {
      case ETH_IPV4:
        return this.ipv4(p, end);
      case ETH_IPV6:
        return this.ipv6(p, end);
      case ETH_ARP:
      case ETH_RARP:
        return this.arp(p, end);
      case ETH_VLAN:
      case ETH_QINQ:
      case ETH_QINQ_OLD:
        return this.etherPayload(type, p, end);
      case ETH_MPLS:
      case ETH_MPLS_MULTICAST:
        return this.mpls(p, end);
      case ETH_PPPOE_SESSION: {
        if (end - p < 8) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
        this.protoMask |= Proto.PPPOE;
        const sessionEnd = p + 6 + this.u16(p + 4);
        return this.pppProtocol(this.u16(p + 6), p + 8, sessionEnd < end ? sessionEnd : end);
      }
      default:
        this.protoMask |= Proto.OTHER_LINK;
    }
  }

  private linuxCookedPayload(protocol: number, p: number, end: number): void {
    // SLL's protocol field is an EtherType, or 0x0004 for 802.2 LLC frames.
    if (protocol === 0x0004) return this.etherPayload(0, p, end);
    this.etherType(protocol, p, end);
  }

  private mpls(off: number, end: number): void {
    let p = off;
    this.protoMask |= Proto.MPLS;
    for (;;) {
      if (end - p < 4) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
      const bottom = this.buf[p + 2]! & 0x01;
      p += 4;
      if (bottom) break;
    }
    // MPLS does not say what it carries; IP is recognised by its version nibble, as tshark does.
    if (p < end) {
      const v = this.buf[p]! >> 4;
      if (v === 4 || v === 6) return this.ipByVersion(p, end);
    }
    this.protoMask |= Proto.OTHER_LINK;
  }

  private loopback(linkType: number, off: number, end: number): void {
    if (end - off < 4) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    const b = this.buf;
    // DLT_NULL's family is in the capturing host's byte order; LOOP's is big-endian.
    let family = linkType === LinkType.LOOP ? this.u32(off) : (b[off]! | (b[off + 1]! << 8)) >>> 0;
    if (linkType === LinkType.NULL && family === 0) family = this.u32(off);
    if (family === 2) return this.ipv4(off + 4, end);
    // AF_INET6 differs between BSDs: 24 (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS).
    if (family === 24 || family === 28 || family === 30) return this.ipv6(off + 4, end);
    this.protoMask |= Proto.OTHER_LINK;
  }

  private ppp(off: number, end: number): void {
    let p = off;
    const b = this.buf;
    if (end - p >= 2 && b[p] === 0xff && b[p + 1] === 0x03) p += 2; // HDLC address and control
    if (end - p < 1) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    // Protocol-field compression: an odd first byte is a one-byte protocol.
    if (b[p]! & 1) return this.pppProtocol(b[p]!, p + 1, end);
    if (end - p < 2) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    this.pppProtocol(this.u16(p), p + 2, end);
  }

  private pppProtocol(protocol: number, p: number, end: number): void {
    if (protocol === 0x0021) return this.ipv4(p, end);
    if (protocol === 0x0057) return this.ipv6(p, end);
    this.protoMask |= Proto.OTHER_LINK;
  }

  private nflog(off: number, end: number): void {
    if (end - off < 4) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    const b = this.buf;
    const family = b[off]!;
    let p = off + 4;
    // TLVs in the capturing host's byte order (little-endian on every common host).
    while (end - p >= 4) {
      const tlvLen = b[p]! | (b[p + 1]! << 8);
      const tlvType = b[p + 2]! | (b[p + 3]! << 8);
      if (tlvLen < 4) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
      if (tlvType === 9) {
        const payloadEnd = p + tlvLen < end ? p + tlvLen : end;
        if (family === 2) return this.ipv4(p + 4, payloadEnd);
        if (family === 10) return this.ipv6(p + 4, payloadEnd);
        return this.ipByVersion(p + 4, payloadEnd);
      }
      p += (tlvLen + 3) & ~3;
    }
    this.protoMask |= Proto.OTHER_LINK;
  }

  private wifi(off: number, end: number): void {
    if (end - off < 24) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    const b = this.buf;
    const fc = b[off]!;
    const flags = b[off + 1]!;
    const type = (fc >> 2) & 3;
    const subtype = fc >> 4;
    // Only unprotected data frames with a body carry an LLC payload.
    if (type !== 2 || flags & 0x40 || subtype & 0x4) {
      this.protoMask |= Proto.OTHER_LINK;
      return;
    }
    let hdr = 24;
    if ((flags & 3) === 3) hdr += 6; // four-address frame (WDS)
    if (subtype & 0x8) {
      hdr += 2; // QoS control
      if (flags & 0x80) hdr += 4; // HT control
    }
    this.etherPayload(0, off + hdr, end);
  }

  private ipByVersion(off: number, end: number): void {
    if (end - off < 1) return this.fail(DecodeProblem.TRUNCATED_LINK_HEADER);
    const v = this.buf[off]! >> 4;
    if (v === 4) return this.ipv4(off, end);
    if (v === 6) return this.ipv6(off, end);
    this.fail(DecodeProblem.BAD_IP_VERSION);
  }

  private ipv4(off: number, end: number): void {
    if (end - off < 1) return this.fail(DecodeProblem.TRUNCATED_IPV4);
    this.protoMask |= Proto.IPV4;
    if (end - off < 20) return this.fail(DecodeProblem.TRUNCATED_IPV4);
    const b = this.buf;
    if (b[off]! >> 4 !== 4) return this.fail(DecodeProblem.BAD_IP_VERSION);
    const ihl = (b[off]! & 0x0f) << 2;
    let totalLen = this.u16(off + 2);
    // A sender with TCP segmentation offload hands the NIC packets whose total length is 0 (the
    // NIC fills it in), so a capture on that host shows them so: the captured bytes are the
    // packet, as Wireshark presumes too. Any other length shorter than the header is a lie.
    if (totalLen === 0) totalLen = end - off;
    if (ihl < 20 || totalLen < ihl) return this.fail(DecodeProblem.BAD_IPV4_HEADER);
    if (end - off < ihl) return this.fail(DecodeProblem.TRUNCATED_IPV4);
    // The IP length trims Ethernet padding; a frame cut by the snap length stays as captured.
    const ipEnd = off + totalLen < end ? off + totalLen : end;
    this.setIp(4, totalLen);
    this.src[0] = this.u32(off + 12);
    this.dst[0] = this.u32(off + 16);
    const proto = b[off + 9]!;
    this.ipProto = proto;
    const fragField = this.u16(off + 6);
    const fragOffset = fragField & 0x1fff;
    if (fragField & 0x2000 || fragOffset) {
      this.protoMask |= Proto.FRAGMENT;
      this.fragmentId = this.u16(off + 4);
      this.fragmentProto = proto;
      if (fragOffset) {
        // A later fragment carries no transport header; it belongs to its first fragment's flow.
        this.fragment = Fragment.LATER;
        return;
      }
      this.fragment = Fragment.FIRST;
    }
    this.transport(proto, off + ihl, ipEnd);
  }

  private ipv6(off: number, end: number): void {
    if (end - off < 1) return this.fail(DecodeProblem.TRUNCATED_IPV6);
    this.protoMask |= Proto.IPV6;
    if (end - off < 40) return this.fail(DecodeProblem.TRUNCATED_IPV6);
    const b = this.buf;
    if (b[off]! >> 4 !== 6) return this.fail(DecodeProblem.BAD_IP_VERSION);
    const payloadLen = this.u16(off + 4);
    // Payload length 0 means a jumbogram (RFC 2675): the capture's length stands.
    const ipEnd = payloadLen !== 0 && off + 40 + payloadLen < end ? off + 40 + payloadLen : end;
    this.setIp(6, payloadLen + 40);
    for (let i = 0; i < 4; i++) {
      this.src[i] = this.u32(off + 8 + 4 * i);
      this.dst[i] = this.u32(off + 24 + 4 * i);
    }
    let next = b[off + 6]!;
    let p = off + 40;
    for (;;) {
      switch (next) {
        case 0: // hop-by-hop options
        case 43: // routing
        case 60: // destination options
        case 135: // mobility
        case 139: // HIP
        case 140: {
          // shim6
          if (ipEnd - p < 8) return this.extensionProblem(next);
          next = b[p]!;
          p += (b[p + 1]! + 1) << 3;
          continue;
        }
        case 51: {
          // authentication header: length in 4-byte units, minus 2
          if (ipEnd - p < 8) return this.extensionProblem(next);
          next = b[p]!;
          p += (b[p + 1]! + 2) << 2;
          continue;
        }
        case 44: {
          if (ipEnd - p < 8) return this.extensionProblem(next);
          this.protoMask |= Proto.FRAGMENT;
          this.fragmentId = this.u32(p + 4);
          const fragField = this.u16(p + 2);
          next = b[p]!;
          this.fragmentProto = next;
          p += 8;
          if (fragField & 0xfff8) {
            this.ipProto = next;
            this.fragment = Fragment.LATER;
            return;
          }
          this.fragment = Fragment.FIRST;
          continue;
        }
        default:
          if (p > ipEnd) return this.extensionProblem(next);
          this.ipProto = next;
          return this.transport(next, p, ipEnd);
      }
    }
  }

  private extensionProblem(next: number): void {
    this.ipProto = next;
    this.fail(DecodeProblem.BAD_IPV6_EXTENSION);
  }

  /** Starts an IP layer: a tunnel's inner packet replaces the outer one as the flow key. */
  private setIp(version: number, length: number): void {
    this.ipVersion = version;
    this.ipLength = length;
    this.hasPorts = false;
    this.srcPort = 0;
    this.dstPort = 0;
    this.tcpFlags = 0;
    this.icmpType = -1;
    this.fragment = Fragment.NONE;
    // Plain stores: TypedArray.prototype.fill is a builtin call, measurably slower per packet.
    const src = this.src;
    const dst = this.dst;
    src[0] = src[1] = src[2] = src[3] = 0;
    dst[0] = dst[1] = dst[2] = dst[3] = 0;
  }

  private transport(proto: number, p: number, end: number): void {
    const b = this.buf;
    const avail = end - p;
    switch (proto) {
      case IpProto.TCP: {
        if (avail <= 0) return this.fail(DecodeProblem.TRUNCATED_TCP);
        this.protoMask |= Proto.TCP;
        if (avail < 4) return this.fail(DecodeProblem.TRUNCATED_TCP);
        this.srcPort = this.u16(p);
        this.dstPort = this.u16(p + 2);
        this.hasPorts = true;
        if (avail < 20) return this.fail(DecodeProblem.TRUNCATED_TCP);
        const dataOffset = (b[p + 12]! >> 4) << 2;
        if (dataOffset < 20) return this.fail(DecodeProblem.BAD_TCP_HEADER);
        this.tcpSeq = this.u32(p + 4);
        this.tcpAck = this.u32(p + 8);
        this.tcpFlags = ((b[p + 12]! & 1) << 8) | b[p + 13]!;
        this.tcpWindow = this.u16(p + 14);
        if (avail < dataOffset) this.fail(DecodeProblem.TRUNCATED_TCP);
        return;
      }
      case IpProto.UDP: {
        if (avail <= 0) return this.fail(DecodeProblem.TRUNCATED_UDP);
        this.protoMask |= Proto.UDP;
        if (avail < 4) return this.fail(DecodeProblem.TRUNCATED_UDP);
        const srcPort = this.u16(p);
        const dstPort = this.u16(p + 2);
        this.srcPort = srcPort;
        this.dstPort = dstPort;
        this.hasPorts = true;
        if (avail < 8) return this.fail(DecodeProblem.TRUNCATED_UDP);
        if (dstPort === PORT_VXLAN || srcPort === PORT_VXLAN) return this.vxlan(p + 8, end);
        if (dstPort === PORT_TEREDO || srcPort === PORT_TEREDO) return this.teredo(p + 8, end);
        return;
      }
      case IpProto.ICMP:
      case IpProto.ICMPV6: {
        if (avail <= 0) return this.fail(DecodeProblem.TRUNCATED_ICMP);
        this.protoMask |= proto === IpProto.ICMP ? Proto.ICMP : Proto.ICMPV6;
        if (avail < 2) return this.fail(DecodeProblem.TRUNCATED_ICMP);
        const type = b[p]!;
        this.icmpType = type;
        this.icmpCode = b[p + 1]!;
        // Echo request and reply share an identifier, which keys their flow in both directions.
        const echo = proto === IpProto.ICMP ? type === 0 || type === 8 : type === 128 || type === 129;
        if (echo && avail >= 8) {
          this.srcPort = this.dstPort = this.u16(p + 4);
          this.hasPorts = true;
        }
        if (avail < 4) this.fail(DecodeProblem.TRUNCATED_ICMP);
        return;
      }
      case IpProto.GRE:
        return this.gre(p, end);
      case IpProto.IPV4:
      case IpProto.IPV6:
        if (avail <= 0) return;
        if (++this.encapsulations > MAX_ENCAPSULATIONS)
          return this.fail(DecodeProblem.TOO_MANY_ENCAPSULATIONS);
        this.protoMask |= Proto.IP_IN_IP;
        return proto === IpProto.IPV4 ? this.ipv4(p, end) : this.ipv6(p, end);
      default:
        this.protoMask |= Proto.OTHER_TRANSPORT;
    }
  }

  private gre(off: number, end: number): void {
    if (end - off < 4) return this.fail(DecodeProblem.TRUNCATED_TUNNEL);
    this.protoMask |= Proto.GRE;
    if (++this.encapsulations > MAX_ENCAPSULATIONS) return this.fail(DecodeProblem.TOO_MANY_ENCAPSULATIONS);
    const flags = this.u16(off);
    const protocol = this.u16(off + 2);
    const version = flags & 7;
    let p = off + 4;
    if (version === 0) {
      if (flags & 0x8000) p += 4; // checksum and reserved
      if (flags & 0x2000) p += 4; // key
      if (flags & 0x1000) p += 4; // sequence number
    } else if (version === 1) {
      p += 4; // enhanced GRE (PPTP): payload length and call id
      if (flags & 0x1000) p += 4;
      if (flags & 0x0080) p += 4; // acknowledgement number
    } else {
      return;
    }
    if (p > end) return this.fail(DecodeProblem.TRUNCATED_TUNNEL);
    switch (protocol) {
      case ETH_TRANSPARENT_BRIDGING:
        return this.ethernet(p, end);
      case ETH_ERSPAN_2:
        // ERSPAN type II has an 8-byte header when the sequence bit is set; type I has none.
        return this.ethernet(flags & 0x1000 ? p + 8 : p, end);
      case ETH_ERSPAN_3: {
        if (end - p < 12) return this.fail(DecodeProblem.TRUNCATED_TUNNEL);
        const optional = this.buf[p + 11]! & 0x01 ? 8 : 0;
        return this.ethernet(p + 12 + optional, end);
      }
      case ETH_PPP:
        return this.ppp(p, end);
      default:
        return this.etherType(protocol, p, end);
    }
  }

  private vxlan(p: number, end: number): void {
    if (end - p < 8 || !(this.buf[p]! & 0x08)) return;
    if (++this.encapsulations > MAX_ENCAPSULATIONS) return this.fail(DecodeProblem.TOO_MANY_ENCAPSULATIONS);
    this.protoMask |= Proto.VXLAN;
    this.ethernet(p + 8, end);
  }

  /** Teredo (RFC 4380): IPv6 in UDP, optionally behind origin-indication or authentication headers. */
  private teredo(off: number, end: number): void {
    let p = off;
    const b = this.buf;
    if (end - p >= 2 && b[p] === 0 && b[p + 1] === 1) {
      if (end - p < 4) return;
      p += 4 + b[p + 2]! + b[p + 3]! + 9; // client id, auth value, nonce and confirmation byte
    }
    if (end - p >= 2 && b[p] === 0 && b[p + 1] === 0) p += 8; // origin indication
    if (end - p < 40 || b[p]! >> 4 !== 6) return;
    // Only a packet whose IPv6 length fills the datagram is Teredo (the heuristic Wireshark uses).
    if (p + 40 + this.u16(p + 4) !== end) return;
    if (++this.encapsulations > MAX_ENCAPSULATIONS) return this.fail(DecodeProblem.TOO_MANY_ENCAPSULATIONS);
    this.protoMask |= Proto.TEREDO;
    this.ipv6(p, end);
  }

  private arp(off: number, end: number): void {
    if (end - off <= 0) return this.fail(DecodeProblem.TRUNCATED_ARP);
    this.protoMask |= Proto.ARP;
    if (end - off < 8) return this.fail(DecodeProblem.TRUNCATED_ARP);
    const b = this.buf;
    const hlen = b[off + 4]!;
    const plen = b[off + 5]!;
    if (end - off < 8 + 2 * hlen + 2 * plen) return this.fail(DecodeProblem.TRUNCATED_ARP);
    this.arpOp = this.u16(off + 6);
    // Ethernet (1) / IPv4 (0x0800): sender MAC, sender IP at 14, target MAC, target IP at 24.
    if (hlen === 6 && plen === 4 && this.u16(off) === 1 && this.u16(off + 2) === ETH_IPV4) {
      this.arpSenderIp = this.u32(off + 14);
      this.arpTargetIp = this.u32(off + 24);
    }
  }
}
