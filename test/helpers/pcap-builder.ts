/**
 * Writes pcap and pcapng bytes for tests: file headers, records and blocks in either byte order,
 * plus a few ready-made frames. It builds exactly what it is told, including invalid values, so
 * tests can also make broken captures. Test-only: never imported by src/.
 */

export type ByteOrder = 'le' | 'be';

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;

/** A growable byte writer in one byte order. */
class Writer {
  private parts: Buffer[] = [];
  length = 0;
  constructor(private readonly order: ByteOrder) {}

  u8(v: number): this {
    return this.push(Buffer.from([v & 0xff]));
  }
  u16(v: number): this {
    const b = Buffer.alloc(2);
    if (this.order === 'le') b.writeUInt16LE(v & 0xffff);
    else b.writeUInt16BE(v & 0xffff);
    return this.push(b);
  }
  u32(v: number): this {
    const b = Buffer.alloc(4);
    if (this.order === 'le') b.writeUInt32LE(v >>> 0);
    else b.writeUInt32BE(v >>> 0);
    return this.push(b);
  }
  i64(v: bigint): this {
    const b = Buffer.alloc(8);
    if (this.order === 'le') b.writeBigInt64LE(v);
    else b.writeBigInt64BE(v);
    return this.push(b);
  }
  bytes(b: Uint8Array): this {
    return this.push(Buffer.from(b));
  }
  pad4(): this {
    const n = (4 - (this.length % 4)) % 4;
    return n ? this.push(Buffer.alloc(n)) : this;
  }
  done(): Buffer {
    return Buffer.concat(this.parts);
  }
  private push(b: Buffer): this {
    this.parts.push(b);
    this.length += b.length;
    return this;
  }
}

// ---------------------------------------------------------------- pcap

export interface PcapHeaderOptions {
  order?: ByteOrder;
  /** Nanosecond timestamps (magic 0xa1b23c4d). */
  nanos?: boolean;
  /** Kuznetzov's modified pcap (magic 0xa1b2cd34, 24-byte record headers). */
  modified?: boolean;
  snapLen?: number;
  /** The whole 32-bit link-type field (upper bits may carry FCS information). */
  linkType?: number;
}

export interface PcapRecord {
  /** Seconds since the epoch. */
  sec: number;
  /** Microseconds, or nanoseconds in a nanosecond file. */
  frac: number;
  data: Uint8Array;
  /** Defaults to data.length. */
  origLen?: number;
  /** Defaults to data.length (set it to lie about the length). */
  capLen?: number;
}

/** The 24-byte pcap file header. */
export function pcapHeader(options: PcapHeaderOptions = {}): Buffer {
  const magic = options.modified ? PCAP_MAGIC_MODIFIED : options.nanos ? PCAP_MAGIC_NS : PCAP_MAGIC_US;
  return new Writer(options.order ?? 'le')
    .u32(magic)
    .u16(2)
    .u16(4)
    .u32(0)
    .u32(0)
    .u32(options.snapLen ?? 65535)
    .u32(options.linkType ?? 1)
    .done();
}

/** One pcap record (header and data). */
export function pcapRecord(record: PcapRecord, options: PcapHeaderOptions = {}): Buffer {
  const w = new Writer(options.order ?? 'le')
    .u32(record.sec)
    .u32(record.frac)
    .u32(record.capLen ?? record.data.length)
    .u32(record.origLen ?? record.data.length);
  // The modified format adds ifindex (4), protocol (2), pkt_type (1) and padding (1).
  if (options.modified) w.u32(3).u16(0x0800).u8(0).u8(0);
  return w.bytes(record.data).done();
}

/** A whole pcap file. */
export function pcapFile(records: readonly PcapRecord[], options: PcapHeaderOptions = {}): Buffer {
  return Buffer.concat([pcapHeader(options), ...records.map((r) => pcapRecord(r, options))]);
}

// ---------------------------------------------------------------- pcapng

export interface PcapngOption {
  code: number;
  value: Uint8Array;
}

/** A generic pcapng block: type, body (padded to 4 bytes), and both length fields. */
export function pcapngBlock(
  type: number,
  body: Uint8Array,
  order: ByteOrder = 'le',
  options: readonly PcapngOption[] = [],
): Buffer {
  const inner = new Writer(order).bytes(body).pad4();
  if (options.length > 0) {
    for (const o of options) inner.u16(o.code).u16(o.value.length).bytes(o.value).pad4();
    inner.u16(0).u16(0); // opt_endofopt
  }
  const content = inner.done();
  const total = content.length + 12;
  return new Writer(order).u32(type).u32(total).bytes(content).u32(total).done();
}

/** Section header block; `sectionLength` -1 means unspecified. */
export function shb(order: ByteOrder = 'le', options: readonly PcapngOption[] = []): Buffer {
  const body = new Writer(order).u32(0x1a2b3c4d).u16(1).u16(0).i64(-1n).done();
  return pcapngBlock(0x0a0d0d0a, body, order, options);
}

export interface IdbOptions {
  linkType: number;
  snapLen?: number;
  /** Raw if_tsresol byte: 6 = microseconds, 9 = nanoseconds, 0x80 | n = 2^-n seconds. */
  tsresol?: number;
  /** if_tsoffset in seconds. */
  tsoffset?: bigint;
  /** Extra options (if_name and such) written before the timestamp ones. */
  extra?: readonly PcapngOption[];
}

/** Interface description block. */
export function idb(options: IdbOptions, order: ByteOrder = 'le'): Buffer {
  const body = new Writer(order)
    .u16(options.linkType)
    .u16(0)
    .u32(options.snapLen ?? 0)
    .done();
  const opts: PcapngOption[] = [...(options.extra ?? [])];
  if (options.tsresol !== undefined) opts.push({ code: 9, value: Uint8Array.of(options.tsresol) });
  if (options.tsoffset !== undefined) {
    opts.push({ code: 14, value: new Writer(order).i64(options.tsoffset).done() });
  }
  return pcapngBlock(1, body, order, opts);
}

export interface EpbOptions {
  interfaceId: number;
  /** Timestamp in the interface's units (a 64-bit count). */
  units: bigint;
  data: Uint8Array;
  origLen?: number;
  /** Defaults to data.length (set it to lie about the length). */
  capLen?: number;
  options?: readonly PcapngOption[];
}

/** Enhanced packet block. */
export function epb(p: EpbOptions, order: ByteOrder = 'le'): Buffer {
  const body = new Writer(order)
    .u32(p.interfaceId)
    .u32(Number(p.units >> 32n))
    .u32(Number(p.units & 0xffffffffn))
    .u32(p.capLen ?? p.data.length)
    .u32(p.origLen ?? p.data.length)
    .bytes(p.data)
    .done();
  return pcapngBlock(6, body, order, p.options ?? []);
}

/** Obsolete packet block (type 2): 16-bit interface id and drop count. */
export function obsoletePacketBlock(p: EpbOptions, order: ByteOrder = 'le'): Buffer {
  const body = new Writer(order)
    .u16(p.interfaceId)
    .u16(0)
    .u32(Number(p.units >> 32n))
    .u32(Number(p.units & 0xffffffffn))
    .u32(p.capLen ?? p.data.length)
    .u32(p.origLen ?? p.data.length)
    .bytes(p.data)
    .done();
  return pcapngBlock(2, body, order);
}

/** Simple packet block: original length and data, no timestamp, interface 0. */
export function spb(data: Uint8Array, origLen = data.length, order: ByteOrder = 'le'): Buffer {
  return pcapngBlock(3, new Writer(order).u32(origLen).bytes(data).done(), order);
}

/** Name resolution block with one IPv4 record. */
export function nrb(order: ByteOrder = 'le'): Buffer {
  const name = Buffer.from('host.example\0');
  const rec = new Writer(order)
    .u16(1)
    .u16(4 + name.length)
    .bytes(Uint8Array.of(192, 0, 2, 1))
    .bytes(name)
    .pad4()
    .u16(0)
    .u16(0)
    .done();
  return pcapngBlock(4, rec, order);
}

/** Interface statistics block for interface `interfaceId`. */
export function isb(interfaceId: number, order: ByteOrder = 'le'): Buffer {
  const body = new Writer(order).u32(interfaceId).u32(0).u32(0).done();
  // isb_ifrecv (4) = 8 bytes.
  return pcapngBlock(5, body, order, [{ code: 4, value: new Writer(order).i64(1234n).done() }]);
}

/** Custom block (type 0x00000BAD, copiable) with a private enterprise number and payload. */
export function customBlock(order: ByteOrder = 'le'): Buffer {
  const body = new Writer(order).u32(32473).bytes(Buffer.from('opaque custom data!')).done();
  return pcapngBlock(0x00000bad, body, order);
}

/** Decryption secrets block (type 0x0000000A), which a packet reader skips. */
export function decryptionSecretsBlock(order: ByteOrder = 'le'): Buffer {
  const secret = Buffer.from('CLIENT_RANDOM 00 11\n');
  const body = new Writer(order).u32(0x544c534b).u32(secret.length).bytes(secret).done();
  return pcapngBlock(0x0a, body, order);
}

/** String option (if_name, opt_comment, ...). */
export function stringOption(code: number, text: string): PcapngOption {
  return { code, value: Buffer.from(text) };
}

// ---------------------------------------------------------------- frames

export interface TcpFrameOptions {
  src: number;
  dst: number;
  srcPort: number;
  dstPort: number;
  /** TCP flag byte; SYN by default. */
  flags?: number;
  payload?: Uint8Array;
}

/** "a.b.c.d" -> host-order number. */
export function ipv4(text: string): number {
  const [a, b, c, d] = text.split('.').map(Number) as [number, number, number, number];
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** IPv4 + TCP header (no link layer), 40 bytes plus payload. */
export function ipv4Tcp(o: TcpFrameOptions): Buffer {
  const payload = o.payload ?? new Uint8Array(0);
  const b = Buffer.alloc(40 + payload.length);
  b[0] = 0x45;
  b.writeUInt16BE(40 + payload.length, 2);
  b.writeUInt16BE(0x4000, 6); // don't fragment
  b[8] = 64;
  b[9] = 6;
  b.writeUInt32BE(o.src >>> 0, 12);
  b.writeUInt32BE(o.dst >>> 0, 16);
  b.writeUInt16BE(o.srcPort, 20);
  b.writeUInt16BE(o.dstPort, 22);
  b.writeUInt32BE(1000, 24);
  b[32] = 5 << 4;
  b[33] = o.flags ?? 0x02;
  b.writeUInt16BE(64240, 34);
  b.set(payload, 40);
  return b;
}

/** IPv4 + UDP header (no link layer). */
export function ipv4Udp(src: number, dst: number, srcPort: number, dstPort: number, payload = 8): Buffer {
  const b = Buffer.alloc(28 + payload);
  b[0] = 0x45;
  b.writeUInt16BE(28 + payload, 2);
  b[8] = 64;
  b[9] = 17;
  b.writeUInt32BE(src >>> 0, 12);
  b.writeUInt32BE(dst >>> 0, 16);
  b.writeUInt16BE(srcPort, 20);
  b.writeUInt16BE(dstPort, 22);
  b.writeUInt16BE(8 + payload, 24);
  return b;
}

/**
 * One IPv4 fragment of a UDP datagram: the first (offset 0, more fragments, with the UDP header)
 * or a later one at `offset8` eight-byte units.
 */
export function ipv4UdpFragment(
  src: number,
  dst: number,
  id: number,
  part: { first: true; srcPort: number; dstPort: number } | { first: false; offset8: number; last: boolean },
  payload = 16,
): Buffer {
  const b = Buffer.alloc(20 + payload);
  b[0] = 0x45;
  b.writeUInt16BE(20 + payload, 2);
  b.writeUInt16BE(id, 4);
  b.writeUInt16BE(part.first ? 0x2000 : (part.last ? 0 : 0x2000) | part.offset8, 6);
  b[8] = 64;
  b[9] = 17;
  b.writeUInt32BE(src >>> 0, 12);
  b.writeUInt32BE(dst >>> 0, 16);
  if (part.first) {
    b.writeUInt16BE(part.srcPort, 20);
    b.writeUInt16BE(part.dstPort, 22);
    b.writeUInt16BE(8 + payload + 64, 24); // the whole datagram is longer than this fragment
  }
  return b;
}

/** Ethernet II header carrying IPv4 in front of `ip`. */
export function ethernet(ip: Uint8Array, etherType = 0x0800): Buffer {
  const h = Buffer.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa, 0, 0]);
  h.writeUInt16BE(etherType, 12);
  return Buffer.concat([h, ip]);
}

/** Linux cooked (SLL, link type 113) header carrying IPv4 in front of `ip`. */
export function linuxSll(ip: Uint8Array): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // to us
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  h.writeUInt16BE(0x0800, 14);
  return Buffer.concat([h, ip]);
}
