/**
 * Streaming parser for pcap and pcapng captures. Bytes are pushed in chunks of any size (from a
 * file, standard input, a gunzip stream or tcpdump's pipe) and every complete record is handed to
 * `onPacket` at once, so memory stays constant whatever the size of the capture.
 *
 * The format is recognised by its magic number, never by a file name. A record that cannot be
 * valid (a length beyond any snap length, a block that runs past its own end) stops the parse:
 * what was read so far stays good, and `stopped` says where and why. This module never throws
 * on bad capture bytes after the file header; it does not decode packets (see decode/).
 */

import { FlowTrackError, ErrorCode } from '../util/errors.js';

/** One captured frame. The parser reuses a single instance: copy what you keep. */
export interface CapturedPacket {
  linkType: number;
  /** Packet time in microseconds since the Unix epoch. */
  tsMicros: number;
  /** Bytes present in `data` (the captured length). */
  capLen: number;
  /** Length of the frame on the wire. */
  origLen: number;
  data: Buffer;
  /** Offset of the first frame byte in `data`. */
  offset: number;
  /** pcapng interface id; 0 for pcap. */
  interfaceId: number;
  /** Byte offset of this record in the capture stream. */
  fileOffset: number;
}

export type CaptureFormat = 'pcap' | 'pcapng';

/** Why and where reading stopped before the end of the input. */
export interface ReadStop {
  offset: number;
  reason: string;
}

export interface CaptureInterface {
  linkType: number;
  snapLen: number;
  /** Divisor from the interface's timestamp unit to microseconds (0.001 for ms units etc.). */
  unitsPerMicro: number;
  /** The timestamp unit exactly: `tsBase` to the power -`tsExponent` seconds (10, 6 for microseconds). */
  tsBase: 2 | 10;
  tsExponent: number;
  /** Seconds added to every timestamp (pcapng if_tsoffset). */
  offsetSeconds: number;
}

/** libpcap's largest snap length for ordinary link types; a bigger record is corrupt. */
const MAX_RECORD = 262_144;
/** Largest pcapng block accepted (Wireshark uses 16 MiB as well). */
const MAX_BLOCK = 16 * 1024 * 1024;

const PCAP_MAGIC_US = 0xa1b2c3d4;
const PCAP_MAGIC_NS = 0xa1b23c4d;
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
const PCAPNG_SHB = 0x0a0d0d0a;
const PCAPNG_BOM = 0x1a2b3c4d;

const BLOCK_IDB = 1;
const BLOCK_PB = 2;
const BLOCK_SPB = 3;
const BLOCK_EPB = 6;

function u32le(b: Uint8Array, p: number): number {
  return (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
}
function u32be(b: Uint8Array, p: number): number {
  return ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
}
function u16le(b: Uint8Array, p: number): number {
  return b[p]! | (b[p + 1]! << 8);
}
function u16be(b: Uint8Array, p: number): number {
  return (b[p]! << 8) | b[p + 1]!;
}

/** Bytes at the start of a file that identify a capture we can read, or null. */
export function sniffCaptureFormat(head: Uint8Array): CaptureFormat | null {
  if (head.length < 4) return null;
  const le = u32le(head, 0);
  const be = u32be(head, 0);
  for (const m of [PCAP_MAGIC_US, PCAP_MAGIC_NS, PCAP_MAGIC_MODIFIED])
    if (le === m || be === m) return 'pcap';
  if (le === PCAPNG_SHB) return 'pcapng';
  return null;
}

export class CaptureParser {
  format: CaptureFormat | null = null;
  /** Set when the input turned out corrupt; nothing after this point is read. */
  stopped: ReadStop | null = null;
  /** Records skipped without stopping (e.g. a pcapng packet for an undeclared interface). */
  skippedRecords = 0;
  /** Bytes of the input consumed as complete records or headers. */
  bytesConsumed = 0;
  readonly interfaces: CaptureInterface[] = [];

  private pending: Buffer | null = null;
  private headerDone = false;
  private littleEndian = true;
  private recordHeaderLen = 16;
  private pcapUnitsPerMicro = 1;
  private maxRecord = MAX_RECORD;
  private readonly packet: CapturedPacket = {
    linkType: 0,
    tsMicros: 0,
    capLen: 0,
    origLen: 0,
    data: Buffer.alloc(0),
    offset: 0,
    interfaceId: 0,
    fileOffset: 0,
  };

  constructor(private readonly onPacket: (packet: CapturedPacket) => void) {}

  /** Link type of every interface seen so far (one for pcap). */
  get linkTypes(): number[] {
    return [...new Set(this.interfaces.map((i) => i.linkType))];
  }

  /**
   * Parses as many complete records as `chunk` (plus what was left over) holds.
   * Throws FlowTrackError only when the stream does not start like a capture.
   */
  push(chunk: Buffer): void {
    if (this.stopped) return;
    let buf = chunk;
    let pos = 0;
    if (!this.headerDone) {
      if (this.pending) {
        buf = Buffer.concat([this.pending, chunk]);
        this.pending = null;
      }
      if (buf.length < 24) {
        this.pending = Buffer.from(buf);
        return;
      }
      this.format = this.readFileHeader(buf);
      if (this.format === 'pcap') {
        pos = 24;
        this.bytesConsumed = 24;
      }
      this.headerDone = true;
    } else if (this.pending) {
      pos = this.completePending(chunk);
      if (pos < 0) return;
    }
    pos = this.parseRecords(buf, pos);
    // The parse may have stopped (TS cannot see that through the call).
    if (pos < buf.length && !this.isStopped()) this.pending = Buffer.from(buf.subarray(pos));
  }

  /** Call at end of input: an incomplete last record becomes a `stopped` reason. */
  end(): void {
    if (!this.headerDone) {
      const got = this.pending?.length ?? 0;
      if (got > 0 && sniffCaptureFormat(this.pending!) === null) throw notACapture(this.pending!);
      throw new FlowTrackError(
        ErrorCode.BAD_CAPTURE_HEADER,
        got === 0
          ? 'the input is empty: expected a pcap or pcapng capture'
          : `the input ends after ${got} bytes, inside the capture's file header`,
      );
    }
    if (this.stopped || !this.pending || this.pending.length === 0) return;
    const left = this.pending.length;
    this.stopped = {
      offset: this.bytesConsumed,
      reason:
        left < (this.format === 'pcap' ? this.recordHeaderLen : 12)
          ? `${left} trailing byte${left === 1 ? '' : 's'} after the last complete record`
          : `the last record is cut short: ${left} bytes present at the end of the input`,
    };
    this.pending = null;
  }

  private readFileHeader(buf: Buffer): CaptureFormat {
    const le = u32le(buf, 0);
    const be = u32be(buf, 0);
    if (le === PCAPNG_SHB) return 'pcapng';
    let magic: number;
    if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || le === PCAP_MAGIC_MODIFIED) {
      this.littleEndian = true;
      magic = le;
    } else if (be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS || be === PCAP_MAGIC_MODIFIED) {
      this.littleEndian = false;
      magic = be;
    } else {
      throw notACapture(buf);
    }
    const u32 = this.littleEndian ? u32le : u32be;
    this.pcapUnitsPerMicro = magic === PCAP_MAGIC_NS ? 1000 : 1;
    this.recordHeaderLen = magic === PCAP_MAGIC_MODIFIED ? 24 : 16;
    const snapLen = u32(buf, 16);
    // Upper bits of the link-type field carry FCS information (pcap-savefile(5)).
    const linkType = u32(buf, 20) & 0xffff;
    this.maxRecord = Math.max(MAX_RECORD, Math.min(snapLen, MAX_BLOCK));
    this.interfaces.push({
      linkType,
      snapLen,
      unitsPerMicro: this.pcapUnitsPerMicro,
      tsBase: 10,
      tsExponent: magic === PCAP_MAGIC_NS ? 9 : 6,
      offsetSeconds: 0,
    });
    return 'pcap';
  }

  private parseRecords(buf: Buffer, start: number): number {
    return this.format === 'pcap' ? this.parsePcap(buf, start) : this.parsePcapng(buf, start);
  }

  /**
   * Finishes the record that straddles the previous chunk and `chunk` by copying only the bytes
   * it still needs, rather than the previous tail and the whole chunk (a full copy of every chunk
   * was a tenth of the run time on a large capture). Returns where the rest of `chunk` starts, or
   * -1 when `chunk` was used up (it is then part of `pending`) or the parse stopped.
   */
  private completePending(chunk: Buffer): number {
    let start = 0;
    while (this.pending) {
      const tail = this.pending;
      const need = this.recordBytesNeeded(tail);
      if (need <= tail.length) {
        // Cannot happen for a record the parser left incomplete; copy everything to stay correct.
        this.pending = null;
        const all = Buffer.concat([tail, chunk.subarray(start)]);
        const pos = this.parseRecords(all, 0);
        if (pos < all.length && !this.isStopped()) this.pending = all.subarray(pos);
        return -1;
      }
      const take = Math.min(need - tail.length, chunk.length - start);
      const joined = Buffer.concat([tail, chunk.subarray(start, start + take)]);
      start += take;
      this.pending = null;
      const pos = this.parseRecords(joined, 0);
      if (this.isStopped()) return -1;
      // `joined` is a fresh copy, so its unparsed tail can be kept without another copy.
      if (pos < joined.length) this.pending = joined.subarray(pos);
      if (start === chunk.length) return -1;
    }
    return start;
  }

  /**
   * Bytes the record at the start of `tail` occupies, or the bytes needed to learn that (its
   * header). A length the parse will reject needs only the header: the parse then stops on it.
   */
  private recordBytesNeeded(tail: Buffer): number {
    if (this.format === 'pcap') {
      const hdr = this.recordHeaderLen;
      if (tail.length < hdr) return hdr;
      const capLen = this.littleEndian ? u32le(tail, 8) : u32be(tail, 8);
      return capLen > this.maxRecord ? hdr : hdr + capLen;
    }
    if (tail.length < 12) return 12;
    let le = this.littleEndian;
    if (u32le(tail, 0) === PCAPNG_SHB) {
      // A section header states its own byte order.
      if (u32le(tail, 8) === PCAPNG_BOM) le = true;
      else if (u32be(tail, 8) === PCAPNG_BOM) le = false;
      else return 12;
    }
    const blockLen = le ? u32le(tail, 4) : u32be(tail, 4);
    return blockLen < 12 || blockLen % 4 !== 0 || blockLen > MAX_BLOCK ? 12 : blockLen;
  }

  private isStopped(): boolean {
    return this.stopped !== null;
  }

  private stop(offset: number, reason: string): void {
    this.stopped = { offset, reason };
  }

  private parsePcap(buf: Buffer, start: number): number {
    const hdr = this.recordHeaderLen;
    const le = this.littleEndian;
    const pkt = this.packet;
    const iface = this.interfaces[0]!;
    const div = this.pcapUnitsPerMicro;
    const maxRecord = this.maxRecord;
    const len = buf.length;
    pkt.data = buf;
    pkt.linkType = iface.linkType;
    let pos = start;
    while (pos + hdr <= len) {
      let sec: number, frac: number, capLen: number, origLen: number;
      if (le) {
        sec = u32le(buf, pos);
        frac = u32le(buf, pos + 4);
        capLen = u32le(buf, pos + 8);
        origLen = u32le(buf, pos + 12);
      } else {
        sec = u32be(buf, pos);
        frac = u32be(buf, pos + 4);
        capLen = u32be(buf, pos + 8);
        origLen = u32be(buf, pos + 12);
      }
      if (capLen > maxRecord) {
        this.stop(
          this.bytesConsumed,
          `record header at byte ${this.bytesConsumed} claims ${capLen} captured bytes, more than the ` +
            `${maxRecord}-byte maximum: the file is corrupt from here on`,
        );
        return pos;
      }
      const end = pos + hdr + capLen;
      if (end > len) break;
      pkt.tsMicros = sec * 1_000_000 + (div === 1 ? frac : Math.floor(frac / div));
      pkt.capLen = capLen;
      pkt.origLen = origLen < capLen ? capLen : origLen;
      pkt.offset = pos + hdr;
      pkt.fileOffset = this.bytesConsumed;
      this.onPacket(pkt);
      this.bytesConsumed += end - pos;
      pos = end;
    }
    return pos;
  }

  private parsePcapng(buf: Buffer, start: number): number {
    let pos = start;
    const len = buf.length;
    while (pos + 12 <= len) {
      let type = this.littleEndian ? u32le(buf, pos) : u32be(buf, pos);
      if (u32le(buf, pos) === PCAPNG_SHB) {
        const bom = u32le(buf, pos + 8);
        if (bom === PCAPNG_BOM) this.littleEndian = true;
        else if (u32be(buf, pos + 8) === PCAPNG_BOM) this.littleEndian = false;
        else {
          this.stop(
            this.bytesConsumed,
            `section header at byte ${this.bytesConsumed} has no valid byte-order mark`,
          );
          return pos;
        }
        type = PCAPNG_SHB;
      }
      const u32 = this.littleEndian ? u32le : u32be;
      const blockLen = u32(buf, pos + 4);
      if (blockLen < 12 || blockLen % 4 !== 0 || blockLen > MAX_BLOCK) {
        this.stop(
          this.bytesConsumed,
          `block at byte ${this.bytesConsumed} has an impossible length ${blockLen}: the file is corrupt from here on`,
        );
        return pos;
      }
      if (pos + blockLen > len) break;
      if (u32(buf, pos + blockLen - 4) !== blockLen) {
        this.stop(
          this.bytesConsumed,
          `block at byte ${this.bytesConsumed}: its trailing length does not match ${blockLen}: the file is corrupt from here on`,
        );
        return pos;
      }
      if (type === PCAPNG_SHB) this.interfaces.length = 0;
      else if (!this.handleBlock(buf, pos, type, blockLen)) return pos;
      this.bytesConsumed += blockLen;
      pos += blockLen;
    }
    return pos;
  }

  /** Returns false when the block stopped the parse. */
  private handleBlock(buf: Buffer, pos: number, type: number, blockLen: number): boolean {
    const le = this.littleEndian;
    const u32 = le ? u32le : u32be;
    const u16 = le ? u16le : u16be;
    const bodyEnd = pos + blockLen - 4;
    switch (type) {
      case BLOCK_IDB: {
        if (blockLen < 20) {
          this.stop(this.bytesConsumed, `interface block at byte ${this.bytesConsumed} is too short`);
          return false;
        }
        this.interfaces.push(readInterface(buf, pos + 8, bodyEnd, u16, u32, le));
        return true;
      }
      case BLOCK_EPB:
      case BLOCK_PB: {
        if (blockLen < 32) return this.corruptPacketBlock(blockLen);
        const ifId = type === BLOCK_EPB ? u32(buf, pos + 8) : u16(buf, pos + 8);
        const capLen = u32(buf, pos + 20);
        const origLen = u32(buf, pos + 24);
        if (capLen > blockLen - 32) return this.corruptPacketBlock(blockLen);
        const iface = this.interfaces[ifId];
        if (!iface) {
          this.skippedRecords++;
          return true;
        }
        this.emit(iface, ifId, u32(buf, pos + 12), u32(buf, pos + 16), buf, pos + 28, capLen, origLen);
        return true;
      }
      case BLOCK_SPB: {
        const iface = this.interfaces[0];
        if (blockLen < 16 || !iface) {
          this.skippedRecords++;
          return true;
        }
        const origLen = u32(buf, pos + 8);
        let capLen = Math.min(origLen, blockLen - 16);
        if (iface.snapLen > 0) capLen = Math.min(capLen, iface.snapLen);
        // A simple packet block has no timestamp of its own.
        this.emit(iface, 0, 0, 0, buf, pos + 12, capLen, origLen);
        return true;
      }
      default:
        return true; // name resolution, statistics, custom and unknown blocks are skipped
    }
  }

  private corruptPacketBlock(blockLen: number): boolean {
    this.stop(
      this.bytesConsumed,
      `packet block at byte ${this.bytesConsumed} (length ${blockLen}) holds a packet longer than itself: the file is corrupt from here on`,
    );
    return false;
  }

  private emit(
    iface: CaptureInterface,
    ifId: number,
    tsHigh: number,
    tsLow: number,
    buf: Buffer,
    offset: number,
    capLen: number,
    origLen: number,
  ): void {
    const pkt = this.packet;
    pkt.tsMicros = unitsToMicros(iface, tsHigh, tsLow) + iface.offsetSeconds * 1_000_000;
    pkt.linkType = iface.linkType;
    pkt.interfaceId = ifId;
    pkt.data = buf;
    pkt.offset = offset;
    pkt.capLen = capLen;
    pkt.origLen = origLen < capLen ? capLen : origLen;
    pkt.fileOffset = this.bytesConsumed;
    this.onPacket(pkt);
  }
}

function readInterface(
  buf: Buffer,
  body: number,
  end: number,
  u16: (b: Uint8Array, p: number) => number,
  u32: (b: Uint8Array, p: number) => number,
  le: boolean,
): CaptureInterface {
  const iface: CaptureInterface = {
    linkType: u16(buf, body),
    snapLen: u32(buf, body + 4),
    unitsPerMicro: 1,
    tsBase: 10,
    tsExponent: 6,
    offsetSeconds: 0,
  };
  let p = body + 8;
  while (p + 4 <= end) {
    const code = u16(buf, p);
    const optLen = u16(buf, p + 2);
    if (code === 0 || p + 4 + optLen > end) break;
    if (code === 9 && optLen >= 1) {
      // if_tsresol: high bit set means a power of two, else a power of ten (RFC draft 4.2).
      const v = buf[p + 4]!;
      iface.tsBase = v & 0x80 ? 2 : 10;
      iface.tsExponent = v & 0x7f;
      iface.unitsPerMicro = iface.tsBase ** iface.tsExponent / 1_000_000;
    } else if (code === 14 && optLen >= 8) {
      const big = le ? buf.readBigInt64LE(p + 4) : buf.readBigInt64BE(p + 4);
      iface.offsetSeconds = Number(big);
    }
    p += 4 + ((optLen + 3) & ~3);
  }
  return iface;
}

const TWO_POW_32 = 4294967296;

/**
 * Microseconds in a pcapng timestamp of `high` * 2^32 + `low` units, truncated as libpcap truncates
 * nanoseconds. A nanosecond count is above 2^53, so it is never formed as one double: each case
 * splits it so that every intermediate value is an exact integer (or an exact binary fraction).
 */
function unitsToMicros(iface: CaptureInterface, high: number, low: number): number {
  const e = iface.tsExponent;
  if (iface.tsBase === 10) {
    if (e === 6) return high * TWO_POW_32 + low;
    if (e < 6) return (high * TWO_POW_32 + low) * 10 ** (6 - e);
    if (e <= 15) {
      // units / d with 2^32 = q * d + r: high * q + (high * r + low) / d.
      const d = 10 ** (e - 6);
      const q = Math.floor(TWO_POW_32 / d);
      const rest = high * (TWO_POW_32 - q * d) + low;
      if (rest <= Number.MAX_SAFE_INTEGER) return high * q + Math.floor(rest / d);
    }
  } else if (e <= 32) {
    return high * 1_000_000 * 2 ** (32 - e) + Math.floor((low * 1_000_000) / 2 ** e);
  } else if (e <= 63) {
    // The fraction of a unit dropped inside the outer floor cannot change its result.
    return Math.floor((high * 1_000_000 + Math.floor((low * 1_000_000) / TWO_POW_32)) / 2 ** (e - 32));
  }
  // Resolutions no capture tool writes: exact, if slow.
  const units = (BigInt(high) << 32n) | BigInt(low);
  return Number((units * 1_000_000n) / BigInt(iface.tsBase) ** BigInt(e));
}

function notACapture(head: Uint8Array): FlowTrackError {
  const hex = Buffer.from(head.subarray(0, 4)).toString('hex');
  return new FlowTrackError(
    ErrorCode.NOT_A_CAPTURE,
    `not a pcap or pcapng capture (it starts with 0x${hex}); give a file written by tcpdump, Wireshark or dumpcap`,
  );
}
