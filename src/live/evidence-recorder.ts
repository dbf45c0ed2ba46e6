/**
 * Keeps the packets of every attack as evidence: a ring buffer holds the most recent packets
 * (each cut to `snapBytes`); when an alert is raised, the ring's packets of its attacker and
 * victim from `beforeSeconds` before the attack began are written to `<alert id>.pcap`, and the
 * attack's later packets are added until the alert has been quiet for `quietSeconds` of packet
 * time or the file reaches `maxBytesPerAlert`. Bounded: the ring's size is fixed, at most
 * `maxRecordings` files are written at once, and the folder is kept under `maxTotalBytes` by
 * deleting the oldest files.
 *
 * At flood rates the ring holds less than a second (64 MiB of 256-byte packets is about 250,000
 * packets): the evidence then starts shortly before the alert, which is the flood itself.
 * Files are written with plain synchronous calls in 64 KiB pieces: this runs in the capture
 * worker, never on the API's thread.
 */

import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Alert } from '../alerts/alert.js';
import type { CapturedPacket } from '../capture/capture-parser.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { parseIp, type IpWords } from '../util/ip-address.js';

export interface EvidenceOptions {
  dir: string;
  ringBytes: number;
  /** Bytes kept of each packet. */
  snapBytes: number;
  beforeSeconds: number;
  quietSeconds: number;
  maxBytesPerAlert: number;
  maxRecordings: number;
  maxTotalBytes: number;
}

export const DEFAULT_EVIDENCE_OPTIONS: Omit<EvidenceOptions, 'dir'> = {
  ringBytes: 64 * 1024 * 1024,
  snapBytes: 256,
  beforeSeconds: 5,
  quietSeconds: 30,
  maxBytesPerAlert: 16 * 1024 * 1024,
  maxRecordings: 16,
  maxTotalBytes: 1024 * 1024 * 1024,
};

/** What the recorder tells the service about an alert's evidence file. */
export interface EvidenceFile {
  alertId: string;
  /** File name in the evidence folder. */
  file: string;
  packets: number;
  bytes: number;
  /** True once nothing more will be added (quiet, full, or shutdown). */
  done: boolean;
  /** True when the file reached `maxBytesPerAlert` before the attack ended. */
  truncated: boolean;
}

/** Alert ids become file names: only these characters (the tracker's ids are made of them). */
const SAFE_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** The evidence file name of `alertId`, or null when the id could not be a safe file name. */
export function evidenceFileName(alertId: string): string | null {
  return SAFE_ID.test(alertId) && !alertId.startsWith('.') ? `${alertId}.pcap` : null;
}

const PCAP_HEADER_BYTES = 24;
const RECORD_HEADER_BYTES = 16;
/** Ring record header: time (float64), link type, captured length, length on the wire (uint32 each). */
const RING_HEADER_BYTES = 20;
const WRITE_CHUNK = 64 * 1024;

interface Recording {
  alertId: string;
  file: string;
  fd: number;
  linkType: number;
  src: IpWords | null;
  dst: IpWords | null;
  /** Packet time of the alert's last report. */
  alertEnd: number;
  /** Ring sequence numbers up to this one were already looked at. */
  scannedUpTo: number;
  packets: number;
  bytes: number;
  buffer: Buffer;
  used: number;
  truncated: boolean;
}

export class EvidenceRecorder {
  /** Alerts that got no evidence file because `maxRecordings` were being written. */
  skipped = 0;
  private readonly ring: Buffer;
  private readonly offsets: Int32Array;
  private readonly lengths: Int32Array;
  /** Index of the oldest record in `offsets`, how many there are, and the oldest's sequence number. */
  private oldest = 0;
  private count = 0;
  private oldestSeq = 0;
  private writePos = 0;
  private readonly recordings: Recording[] = [];
  private readonly scanDecoder = new PacketDecoder();

  constructor(
    private readonly options: EvidenceOptions,
    private readonly onFile: (file: EvidenceFile) => void = () => undefined,
  ) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    this.ring = Buffer.allocUnsafe(options.ringBytes);
    const maxRecords = Math.max(16, Math.floor(options.ringBytes / (RING_HEADER_BYTES + 40)));
    this.offsets = new Int32Array(maxRecords);
    this.lengths = new Int32Array(maxRecords);
  }

  /** Sequence number the next kept packet gets. */
  private get nextSeq(): number {
    return this.oldestSeq + this.count;
  }

  /** Keeps `pkt` in the ring (call for every packet, before the pipeline sees it). */
  keep(pkt: CapturedPacket): void {
    const capLen = Math.min(pkt.capLen, this.options.snapBytes);
    const size = RING_HEADER_BYTES + capLen;
    if (size > this.ring.length) return;
    const slots = this.offsets.length;
    if (this.writePos + size > this.ring.length) {
      // Back to the start: the previous lap's records still beyond `writePos` are the oldest and
      // would be overwritten out of turn (they need not overlap the new record): drop them now.
      while (this.count > 0 && this.offsets[this.oldest]! >= this.writePos) this.dropOldest();
      this.writePos = 0;
    }
    const start = this.writePos;
    const end = start + size;
    while (this.count > 0) {
      const off = this.offsets[this.oldest]!;
      const overlaps = off < end && off + this.lengths[this.oldest]! > start;
      if (!overlaps && this.count < slots) break;
      this.dropOldest();
    }
    const ring = this.ring;
    ring.writeDoubleLE(pkt.tsMicros, start);
    ring.writeUInt32LE(pkt.linkType, start + 8);
    ring.writeUInt32LE(capLen, start + 12);
    ring.writeUInt32LE(pkt.origLen, start + 16);
    pkt.data.copy(ring, start + RING_HEADER_BYTES, pkt.offset, pkt.offset + capLen);
    const slot = (this.oldest + this.count) % slots;
    this.offsets[slot] = start;
    this.lengths[slot] = size;
    this.count++;
    this.writePos = end;
  }

  private dropOldest(): void {
    this.oldest = (this.oldest + 1) % this.offsets.length;
    this.count--;
    this.oldestSeq++;
  }

  /**
   * After the pipeline decoded `pkt` (into `decoder`): adds it to the recordings it belongs to,
   * and ends the recordings whose alert has been quiet long enough.
   */
  afterPacket(pkt: CapturedPacket, decoder: PacketDecoder): void {
    const recordings = this.recordings;
    if (recordings.length === 0) return;
    const seq = this.nextSeq - 1;
    for (let i = recordings.length - 1; i >= 0; i--) {
      const r = recordings[i]!;
      if (pkt.tsMicros > r.alertEnd + this.options.quietSeconds * 1e6) {
        this.finish(i);
        continue;
      }
      if (seq > r.scannedUpTo && matches(r, decoder)) {
        r.scannedUpTo = seq;
        this.write(
          r,
          pkt.tsMicros,
          pkt.linkType,
          pkt.data,
          pkt.offset,
          Math.min(pkt.capLen, this.options.snapBytes),
          pkt.origLen,
        );
        if (r.truncated) this.finish(i);
      }
    }
  }

  /** Time passes with no packet of the attack: ends the recordings quiet for long enough. */
  advance(nowMicros: number): void {
    for (let i = this.recordings.length - 1; i >= 0; i--) {
      if (nowMicros > this.recordings[i]!.alertEnd + this.options.quietSeconds * 1e6) this.finish(i);
    }
  }

  /** The tracker raised or updated `alert`: start its file, or let its recording go on longer. */
  onAlert(alert: Alert, isNew: boolean): void {
    const open = this.recordings.find((r) => r.alertId === alert.id);
    if (open) {
      open.alertEnd = Math.max(open.alertEnd, alert.end);
      return;
    }
    if (!isNew) return;
    const file = evidenceFileName(alert.id);
    const src = alert.src === null ? null : parseIp(alert.src);
    const dst = alert.dst === null ? null : parseIp(alert.dst);
    if (file === null || (src === null && dst === null)) return;
    if (this.recordings.length >= this.options.maxRecordings) {
      this.skipped++;
      return;
    }
    this.pruneFolder();
    const partial = join(this.options.dir, `${file}.part`);
    const recording: Recording = {
      alertId: alert.id,
      file,
      fd: openSync(partial, 'w', 0o600),
      linkType: -1,
      src,
      dst,
      alertEnd: alert.end,
      scannedUpTo: this.nextSeq - 1,
      packets: 0,
      bytes: PCAP_HEADER_BYTES,
      buffer: Buffer.allocUnsafe(WRITE_CHUNK),
      used: 0,
      truncated: false,
    };
    this.recordings.push(recording);
    this.backfill(recording, alert.start - this.options.beforeSeconds * 1e6);
    this.onFile(this.describe(recording, false));
    // Filled by the ring alone: nothing more can be added, so it is complete now.
    if (recording.truncated) this.finish(this.recordings.length - 1);
  }

  /** Ends every recording (shutdown): their files are complete pcaps. */
  close(): void {
    while (this.recordings.length > 0) this.finish(this.recordings.length - 1);
  }

  /** The ring's packets of `r`'s hosts since `fromMicros`. */
  private backfill(r: Recording, fromMicros: number): void {
    const ring = this.ring;
    const slots = this.offsets.length;
    for (let k = 0; k < this.count; k++) {
      const off = this.offsets[(this.oldest + k) % slots]!;
      const ts = ring.readDoubleLE(off);
      if (ts < fromMicros) continue;
      const linkType = ring.readUInt32LE(off + 8);
      const capLen = ring.readUInt32LE(off + 12);
      this.scanDecoder.decode(linkType, ring, off + RING_HEADER_BYTES, capLen);
      if (!matches(r, this.scanDecoder)) continue;
      this.write(r, ts, linkType, ring, off + RING_HEADER_BYTES, capLen, ring.readUInt32LE(off + 16));
      if (r.truncated) return;
    }
  }

  private write(
    r: Recording,
    ts: number,
    linkType: number,
    data: Buffer,
    offset: number,
    capLen: number,
    origLen: number,
  ): void {
    if (r.linkType === -1) {
      r.linkType = linkType;
      this.append(r, pcapFileHeader(linkType, this.options.snapBytes));
    }
    // One pcap holds one link type: packets of another interface kind are left out.
    if (linkType !== r.linkType) return;
    if (r.bytes + RECORD_HEADER_BYTES + capLen > this.options.maxBytesPerAlert) {
      r.truncated = true;
      return;
    }
    // Straight into the write buffer: no allocation per packet, even during a flood.
    if (r.used + RECORD_HEADER_BYTES + capLen > r.buffer.length) this.flush(r);
    const b = r.buffer;
    b.writeUInt32LE(Math.floor(ts / 1e6), r.used);
    b.writeUInt32LE(Math.round(ts % 1e6), r.used + 4);
    b.writeUInt32LE(capLen, r.used + 8);
    b.writeUInt32LE(origLen, r.used + 12);
    r.used += RECORD_HEADER_BYTES;
    this.append(r, data.subarray(offset, offset + capLen));
    r.packets++;
    r.bytes += RECORD_HEADER_BYTES + capLen;
  }

  private append(r: Recording, bytes: Buffer): void {
    if (r.used + bytes.length > r.buffer.length) this.flush(r);
    if (bytes.length > r.buffer.length) {
      writeSync(r.fd, bytes);
      return;
    }
    bytes.copy(r.buffer, r.used);
    r.used += bytes.length;
  }

  private flush(r: Recording): void {
    if (r.used > 0) writeSync(r.fd, r.buffer, 0, r.used);
    r.used = 0;
  }

  private finish(index: number): void {
    const r = this.recordings[index]!;
    this.recordings.splice(index, 1);
    if (r.linkType === -1) this.append(r, pcapFileHeader(1, this.options.snapBytes));
    this.flush(r);
    closeSync(r.fd);
    // Renamed when complete: a download never gets a file that is still being written.
    renameSync(join(this.options.dir, `${r.file}.part`), join(this.options.dir, r.file));
    this.onFile(this.describe(r, true));
  }

  private describe(r: Recording, done: boolean): EvidenceFile {
    return {
      alertId: r.alertId,
      file: r.file,
      packets: r.packets,
      bytes: r.bytes,
      done,
      truncated: r.truncated,
    };
  }

  /**
   * Deletes the oldest finished files until a new file fits under `maxTotalBytes` beside them and
   * the files still being written, each of which may grow to `maxBytesPerAlert`.
   */
  private pruneFolder(): void {
    const dir = this.options.dir;
    const files = readdirSync(dir)
      .filter((name) => name.endsWith('.pcap'))
      .map((name) => {
        const s = statSync(join(dir, name));
        return { name, bytes: s.size, mtime: s.mtimeMs };
      })
      .sort((a, b) => a.mtime - b.mtime);
    let total = files.reduce((sum, f) => sum + f.bytes, 0);
    const reserved = (this.recordings.length + 1) * this.options.maxBytesPerAlert;
    for (const f of files) {
      if (total + reserved <= this.options.maxTotalBytes) break;
      unlinkSync(join(dir, f.name));
      total -= f.bytes;
    }
  }
}

function pcapFileHeader(linkType: number, snapLength: number): Buffer {
  const header = Buffer.alloc(PCAP_HEADER_BYTES);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(snapLength, 16);
  header.writeUInt32LE(linkType, 20);
  return header;
}

function sameAddress(a: IpWords, version: number, words: Uint32Array): boolean {
  const w = a.words;
  return (
    a.version === version && w[0] === words[0] && w[1] === words[1] && w[2] === words[2] && w[3] === words[3]
  );
}

/** Between attacker and victim when both are known, else to or from the one that is. */
function matches(r: Recording, p: PacketDecoder): boolean {
  const v = p.ipVersion;
  if (v === 0) return false;
  const { src, dst } = r;
  if (src && dst) {
    return (
      (sameAddress(src, v, p.src) && sameAddress(dst, v, p.dst)) ||
      (sameAddress(dst, v, p.src) && sameAddress(src, v, p.dst))
    );
  }
  const one = (src ?? dst)!;
  return sameAddress(one, v, p.src) || sameAddress(one, v, p.dst);
}
