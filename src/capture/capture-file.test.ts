import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { readCapture, type CaptureReadResult } from './capture-file.js';
import type { CapturedPacket } from './capture-parser.js';
import { FlowTrackError } from '../util/errors.js';
import { corpusAvailable, corpusPath, readManifest, describeWithCorpus } from '../../test/helpers/corpus.js';
import { epb, ethernet, idb, ipv4, ipv4Tcp, pcapFile, shb } from '../../test/helpers/pcap-builder.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-capture-file-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

interface Digest {
  result: CaptureReadResult;
  packets: number;
  /** SHA-256 over every packet's fields and bytes, in order. */
  hash: string;
  offsets: number[];
}

async function read(path: string, chunkBytes?: number): Promise<Digest> {
  const h = createHash('sha256');
  let packets = 0;
  const offsets: number[] = [];
  const onPacket = (p: CapturedPacket): void => {
    packets++;
    offsets.push(p.fileOffset);
    h.update(`${p.linkType},${p.tsMicros},${p.capLen},${p.origLen},${p.interfaceId},${p.fileOffset};`);
    h.update(p.data.subarray(p.offset, p.offset + p.capLen));
  };
  const result = await readCapture(path, onPacket, chunkBytes ? { chunkBytes } : {});
  return { result, packets, hash: h.digest('hex'), offsets };
}

async function readError(path: string): Promise<FlowTrackError> {
  try {
    await readCapture(path, () => undefined);
  } catch (err) {
    expect(err).toBeInstanceOf(FlowTrackError);
    return err as FlowTrackError;
  }
  throw new Error(`expected ${path} to be rejected`);
}

function tmpFile(name: string, bytes: Uint8Array): string {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  return path;
}

const SEC = 1_700_000_000;
const frames = Array.from({ length: 50 }, (_, i) =>
  ethernet(ipv4Tcp({ src: ipv4('10.0.0.1') + i, dst: ipv4('10.9.9.9'), srcPort: 1024 + i, dstPort: 443 })),
);
const syntheticPcap = pcapFile(frames.map((data, i) => ({ sec: SEC + i, frac: i, data })));

describe('readCapture: files built here', () => {
  it('reads a pcap file and reports its format, link types and size', async () => {
    const path = tmpFile('synthetic.pcap', syntheticPcap);
    const d = await read(path);
    expect(d.packets).toBe(50);
    expect(d.result).toEqual({
      format: 'pcap',
      linkTypes: [1],
      compressed: false,
      stopped: null,
      skippedRecords: 0,
      captureBytes: syntheticPcap.length,
    });
  });

  it('recognises a capture by its magic number whatever the file is called', async () => {
    const ng = Buffer.concat([
      shb(),
      idb({ linkType: 1 }),
      ...frames.map((data, i) => epb({ interfaceId: 0, units: BigInt(SEC + i) * 1_000_000n, data })),
    ]);
    const asTxt = await read(tmpFile('capture.txt', ng));
    expect(asTxt.result.format).toBe('pcapng');
    expect(asTxt.packets).toBe(50);
    const noName = await read(tmpFile('pcap-without-extension', syntheticPcap));
    expect(noName.result.format).toBe('pcap');
    const pcapAsPcapng = await read(tmpFile('classic.pcapng', syntheticPcap));
    expect(pcapAsPcapng.result.format).toBe('pcap');
    expect(pcapAsPcapng.hash).toBe(noName.hash);
  });

  it('gives identical packets whatever the read chunk size', async () => {
    const path = tmpFile('chunks.pcap', syntheticPcap);
    const whole = await read(path);
    for (const chunkBytes of [1, 7, 100, 4096]) {
      const d = await read(path, chunkBytes);
      expect(d.hash).toBe(whole.hash);
      expect(d.result).toEqual(whole.result);
    }
  });

  it('calls onProgress with the bytes read and the file size', async () => {
    const path = tmpFile('progress.pcap', syntheticPcap);
    const seen: [number, number | null][] = [];
    await readCapture(path, () => undefined, {
      chunkBytes: 512,
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(seen.length).toBeGreaterThan(2);
    expect(seen.every(([, total]) => total === syntheticPcap.length)).toBe(true);
    expect(seen[seen.length - 1]![0]).toBe(syntheticPcap.length);
    for (let i = 1; i < seen.length; i++) expect(seen[i]![0]).toBeGreaterThanOrEqual(seen[i - 1]![0]);
  });

  it('reads a file cut in the middle of a record up to that record and says where', async () => {
    const recordStart = 24 + 10 * (16 + frames[0]!.length);
    const path = tmpFile('cut.pcap', syntheticPcap.subarray(0, recordStart + 30));
    const d = await read(path);
    expect(d.packets).toBe(10);
    expect(d.result.stopped?.offset).toBe(recordStart);
    expect(d.result.stopped?.reason).toMatch(/cut short/);
    expect(d.result.captureBytes).toBe(recordStart);
  });

  it('rejects a missing file, a directory, an empty file, a cut file header and text', async () => {
    const missing = await readError(join(tmp, 'no-such-file.pcap'));
    expect(missing.code).toBe('IO_ERROR');
    expect(missing.message).toMatch(/no such file/);
    const dir = await readError(tmp);
    expect(dir.code).toBe('IO_ERROR');
    expect(dir.message).toMatch(/directory/);
    const empty = await readError(tmpFile('empty.pcap', Buffer.alloc(0)));
    expect(empty.code).toBe('BAD_CAPTURE_HEADER');
    const shortHeader = await readError(tmpFile('short.pcap', syntheticPcap.subarray(0, 20)));
    expect(shortHeader.code).toBe('BAD_CAPTURE_HEADER');
    const text = await readError(tmpFile('notes.pcap', Buffer.from('these are my notes, not a capture\n')));
    expect(text.code).toBe('NOT_A_CAPTURE');
    expect(text.message).toMatch(/not a pcap or pcapng capture/);
  });
});

describe('readCapture: gzip', () => {
  it('un-gzips transparently and gives the same packets', async () => {
    const plain = await read(tmpFile('g.pcap', syntheticPcap));
    const gz = await read(tmpFile('g.pcap.gz', gzipSync(syntheticPcap)));
    expect(gz.result.compressed).toBe(true);
    expect(gz.hash).toBe(plain.hash);
    expect({ ...gz.result, compressed: false }).toEqual(plain.result);
    // By content, not by name: a gzip file without .gz, read in tiny chunks.
    const tiny = await read(tmpFile('g-no-suffix', gzipSync(syntheticPcap, { level: 1 })), 3);
    expect(tiny.hash).toBe(plain.hash);
  });

  it('keeps what was read when the gzip stream is cut short, and says so', async () => {
    const gz = gzipSync(syntheticPcap);
    const d = await read(tmpFile('cut.pcap.gz', gz.subarray(0, Math.floor(gz.length * 0.6))));
    expect(d.result.compressed).toBe(true);
    expect(d.result.stopped).not.toBeNull();
    expect(d.result.stopped!.offset).toBe(d.result.captureBytes);
    expect(d.packets).toBeGreaterThan(0);
    expect(d.packets).toBeLessThan(50);
  });

  it('says a gzipped text file is not a capture (not that it is empty)', async () => {
    // Regression: a non-capture inside gzip was reported as "the input is empty".
    const err = await readError(
      tmpFile('notes.txt.gz', gzipSync(Buffer.from('these are my notes, not a capture at all\n'))),
    );
    expect(err.code).toBe('NOT_A_CAPTURE');
    expect(err.message).toMatch(/not a pcap or pcapng capture/);
  });

  it('says an empty gzip stream is empty', async () => {
    const err = await readError(tmpFile('empty.gz', gzipSync(Buffer.alloc(0))));
    expect(err.code).toBe('BAD_CAPTURE_HEADER');
  });
});

describeWithCorpus('readCapture: corpus', () => {
  const manifest = corpusAvailable ? readManifest() : [];
  const row = (f: string) => {
    const r = manifest.find((m) => m.local_file === f);
    if (!r) throw new Error(`${f} is not in MANIFEST.tsv`);
    return r;
  };

  it('reads pcapng saved as .pcap (nDPI dns.pcap) as pcapng', async () => {
    const f = 'nDPI/protocols/dns.pcap';
    const d = await read(corpusPath(f));
    expect(d.result.format).toBe('pcapng');
    expect(d.result.stopped).toBeNull();
    expect(d.packets).toBe(Number(row(f).capinfos_packets));
  });

  it('reads classic pcap saved as .pcapng (StopDDoS) as pcap', async () => {
    for (const f of [
      'StopDDoS-packet-captures/attacks/pkt.TCP.DOMINATE.syn.ecn.cwr.pcapng',
      'StopDDoS-packet-captures/attacks/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng',
    ]) {
      const d = await read(corpusPath(f));
      expect(d.result.format, f).toBe('pcap');
      expect(d.result.stopped, f).toBeNull();
      expect(d.packets, f).toBe(Number(row(f).capinfos_packets));
    }
  });

  it('reads a pcapng with three link types in one section', async () => {
    const d = await read(corpusPath('zeek/protocols/ldap__modify-request.pcapng'));
    expect(d.result.format).toBe('pcapng');
    expect([...d.result.linkTypes].sort((a, b) => a - b)).toEqual([1, 113, 274]);
    expect(d.packets).toBe(17);
  });

  it('reads a big-endian pcap and a nanosecond pcap', async () => {
    const be = await read(corpusPath('nDPI/protocols/nfsv3.pcap'));
    expect(be.packets).toBe(128);
    const ns = await read(corpusPath('tcpdump/protocols/tcp-handshake-nano.pcap'));
    expect(ns.result.format).toBe('pcap');
    expect(ns.packets).toBe(Number(row('tcpdump/protocols/tcp-handshake-nano.pcap').capinfos_packets));
  });

  for (const f of ['zeek/protocols/http__get.pcap', 'zeek/protocols/pcapng-multi-interface.pcapng']) {
    it(`reads ${f} gzipped into a temp dir exactly as the plain file`, async () => {
      const plain = await read(corpusPath(f));
      const gzPath = tmpFile(`${f.replace(/\//g, '_')}.gz`, gzipSync(readFileSync(corpusPath(f))));
      const gz = await read(gzPath);
      expect(gz.result.compressed).toBe(true);
      expect(gz.hash).toBe(plain.hash);
      expect(gz.packets).toBe(Number(row(f).capinfos_packets));
    });
  }

  it('stops at the corrupt record of bug-1450-04 and keeps the six packets before it', async () => {
    const d = await read(corpusPath('suricata-verify/malformed/bug-1450-04__tls_DER-incomplete-header.pcap'));
    expect(d.packets).toBe(6);
    expect(d.result.stopped?.offset).toBe(5035);
    expect(d.result.stopped?.reason).toMatch(/4325376/);
  });

  it('reads a corpus file truncated mid-record (copied into a temp dir) up to that record', async () => {
    const src = corpusPath('zeek/protocols/http__get.pcap');
    const whole = await read(src);
    const full = readFileSync(src);
    const cutAt = whole.offsets[9]! + 20; // inside the 10th record
    const cut = tmpFile('http_get_cut.pcap', full.subarray(0, cutAt));
    const d = await read(cut);
    expect(d.packets).toBe(9);
    expect(d.result.stopped?.offset).toBe(whole.offsets[9]);
    // And a copy of the whole file reads exactly like the original.
    const copyPath = join(tmp, 'copy.pcap');
    copyFileSync(src, copyPath);
    expect((await read(copyPath)).hash).toBe(whole.hash);
    expect(statSync(copyPath).size).toBe(full.length);
  });
});
