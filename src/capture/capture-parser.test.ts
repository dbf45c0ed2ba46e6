import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CaptureParser, sniffCaptureFormat, type CapturedPacket } from './capture-parser.js';
import { FlowTrackError } from '../util/errors.js';
import { corpusPath, describeWithCorpus } from '../../test/helpers/corpus.js';
import {
  customBlock,
  decryptionSecretsBlock,
  epb,
  ethernet,
  idb,
  ipv4,
  ipv4Tcp,
  ipv4Udp,
  isb,
  linuxSll,
  nrb,
  obsoletePacketBlock,
  pcapFile,
  pcapHeader,
  pcapRecord,
  pcapngBlock,
  shb,
  spb,
  stringOption,
} from '../../test/helpers/pcap-builder.js';

/** A packet as a test keeps it (the parser reuses its object and buffer). */
interface Got {
  linkType: number;
  tsMicros: number;
  capLen: number;
  origLen: number;
  interfaceId: number;
  fileOffset: number;
  hex: string;
}

function copy(p: CapturedPacket): Got {
  expect(p.offset).toBeGreaterThanOrEqual(0);
  expect(p.offset + p.capLen).toBeLessThanOrEqual(p.data.length);
  return {
    linkType: p.linkType,
    tsMicros: p.tsMicros,
    capLen: p.capLen,
    origLen: p.origLen,
    interfaceId: p.interfaceId,
    fileOffset: p.fileOffset,
    hex: p.data.toString('hex', p.offset, p.offset + p.capLen),
  };
}

interface Parsed {
  packets: Got[];
  parser: CaptureParser;
}

/** Parses `input` in chunks of the given sizes (cycled), or whole when none are given. */
function parse(input: Buffer, chunkSizes: readonly number[] = [input.length || 1]): Parsed {
  const packets: Got[] = [];
  const parser = new CaptureParser((p) => packets.push(copy(p)));
  let pos = 0;
  let i = 0;
  while (pos < input.length) {
    const n = Math.max(1, chunkSizes[i++ % chunkSizes.length]!);
    parser.push(input.subarray(pos, pos + n));
    pos += n;
  }
  parser.end();
  return { packets, parser };
}

function summary({ packets, parser }: Parsed): object {
  return {
    packets,
    format: parser.format,
    stopped: parser.stopped,
    skipped: parser.skippedRecords,
    consumed: parser.bytesConsumed,
    linkTypes: parser.linkTypes,
  };
}

/** Deterministic chunk sizes from 1 to `max` (xorshift32). */
function randomChunks(seed: number, count: number, max: number): number[] {
  let x = seed >>> 0 || 1;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.push(1 + (x % max));
  }
  return out;
}

function thrown(fn: () => void): FlowTrackError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FlowTrackError);
    return err as FlowTrackError;
  }
  throw new Error('expected a FlowTrackError, nothing was thrown');
}

const SEC = 1_700_000_000;
const frameA = ethernet(
  ipv4Tcp({ src: ipv4('10.0.0.1'), dst: ipv4('10.0.0.2'), srcPort: 40000, dstPort: 80 }),
);
const frameB = ethernet(ipv4Udp(ipv4('10.0.0.3'), ipv4('10.0.0.4'), 5353, 53, 30));
const rawIp = ipv4Udp(ipv4('192.0.2.1'), ipv4('192.0.2.2'), 1000, 2000, 12);

describe('sniffCaptureFormat', () => {
  it('recognises every pcap magic in both byte orders and the pcapng section header', () => {
    for (const order of ['le', 'be'] as const) {
      expect(sniffCaptureFormat(pcapHeader({ order }))).toBe('pcap');
      expect(sniffCaptureFormat(pcapHeader({ order, nanos: true }))).toBe('pcap');
      expect(sniffCaptureFormat(pcapHeader({ order, modified: true }))).toBe('pcap');
      expect(sniffCaptureFormat(shb(order))).toBe('pcapng');
    }
  });

  it('rejects text, gzip and too-short input', () => {
    expect(sniffCaptureFormat(Buffer.from('hello, world\n'))).toBeNull();
    expect(sniffCaptureFormat(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0]))).toBeNull();
    expect(sniffCaptureFormat(Buffer.from([0xd4, 0xc3, 0xb2]))).toBeNull();
  });
});

describe('CaptureParser: pcap', () => {
  for (const order of ['le', 'be'] as const) {
    it(`reads microsecond records in ${order} byte order`, () => {
      const file = pcapFile(
        [
          { sec: SEC, frac: 123_456, data: frameA },
          { sec: SEC + 1, frac: 999_999, data: frameB, origLen: 1500 },
        ],
        { order, linkType: 1, snapLen: 65535 },
      );
      const { packets, parser } = parse(file);
      expect(parser.format).toBe('pcap');
      expect(parser.stopped).toBeNull();
      expect(parser.linkTypes).toEqual([1]);
      expect(parser.interfaces[0]!.snapLen).toBe(65535);
      expect(parser.bytesConsumed).toBe(file.length);
      expect(packets).toEqual([
        {
          linkType: 1,
          tsMicros: SEC * 1e6 + 123_456,
          capLen: frameA.length,
          origLen: frameA.length,
          interfaceId: 0,
          fileOffset: 24,
          hex: frameA.toString('hex'),
        },
        {
          linkType: 1,
          tsMicros: (SEC + 1) * 1e6 + 999_999,
          capLen: frameB.length,
          origLen: 1500,
          interfaceId: 0,
          fileOffset: 24 + 16 + frameA.length,
          hex: frameB.toString('hex'),
        },
      ]);
    });

    it(`reads nanosecond records in ${order} byte order (truncated to microseconds)`, () => {
      const file = pcapFile(
        [
          { sec: SEC, frac: 123_456_789, data: rawIp },
          { sec: SEC, frac: 999_999_999, data: rawIp },
        ],
        { order, nanos: true, linkType: 101 },
      );
      const { packets, parser } = parse(file);
      expect(parser.stopped).toBeNull();
      expect(packets.map((p) => [p.linkType, p.tsMicros])).toEqual([
        [101, SEC * 1e6 + 123_456],
        [101, SEC * 1e6 + 999_999],
      ]);
    });
  }

  it('reads the modified pcap format with its 24-byte record headers', () => {
    const file = pcapFile(
      [
        { sec: SEC, frac: 1, data: frameA },
        { sec: SEC, frac: 2, data: frameB },
      ],
      { modified: true },
    );
    const { packets, parser } = parse(file);
    expect(parser.stopped).toBeNull();
    expect(packets.map((p) => p.hex)).toEqual([frameA.toString('hex'), frameB.toString('hex')]);
    expect(packets[1]!.fileOffset).toBe(24 + 24 + frameA.length);
  });

  it('takes the link type from the low 16 bits (upper bits carry FCS information)', () => {
    const file = pcapFile([{ sec: SEC, frac: 0, data: frameA }], { linkType: 0x14000001 });
    expect(parse(file).packets[0]!.linkType).toBe(1);
  });

  it('keeps the original length of a frame cut by the snap length', () => {
    const cut = frameA.subarray(0, 34);
    const file = pcapFile([{ sec: SEC, frac: 0, data: cut, origLen: 1514 }], { snapLen: 34 });
    const [p] = parse(file).packets;
    expect(p).toMatchObject({ capLen: 34, origLen: 1514 });
  });

  it('reads a header-only capture as zero packets', () => {
    const { packets, parser } = parse(pcapHeader());
    expect(packets).toEqual([]);
    expect(parser.stopped).toBeNull();
    expect(parser.format).toBe('pcap');
  });

  it('stops at a record that claims an impossible length and keeps the packets before it', () => {
    const good = pcapRecord({ sec: SEC, frac: 0, data: frameA });
    const bad = pcapRecord({ sec: SEC, frac: 1, data: frameB, capLen: 4_325_376 });
    const after = pcapRecord({ sec: SEC, frac: 2, data: frameA });
    const file = Buffer.concat([pcapHeader(), good, bad, after]);
    const { packets, parser } = parse(file);
    expect(packets).toHaveLength(1);
    expect(parser.stopped?.offset).toBe(24 + good.length);
    expect(parser.stopped?.reason).toMatch(/4325376/);
    // Nothing more is read once stopped.
    parser.push(pcapRecord({ sec: SEC, frac: 3, data: frameA }));
    expect(packets).toHaveLength(1);
  });

  it('says where the last record is cut short', () => {
    const full = pcapFile([
      { sec: SEC, frac: 0, data: frameA },
      { sec: SEC, frac: 1, data: frameB },
    ]);
    const cut = full.subarray(0, full.length - 5);
    const { packets, parser } = parse(cut);
    expect(packets).toHaveLength(1);
    expect(parser.stopped?.offset).toBe(24 + 16 + frameA.length);
    expect(parser.stopped?.reason).toMatch(/cut short/);
  });

  it('reports trailing bytes shorter than a record header', () => {
    const file = Buffer.concat([pcapFile([{ sec: SEC, frac: 0, data: frameA }]), Buffer.from([1, 2, 3])]);
    const { packets, parser } = parse(file);
    expect(packets).toHaveLength(1);
    expect(parser.stopped?.offset).toBe(file.length - 3);
    expect(parser.stopped?.reason).toMatch(/3 trailing bytes/);
  });
});

describe('CaptureParser: not a capture', () => {
  it('throws NOT_A_CAPTURE for text, whatever its length', () => {
    const long = thrown(() => parse(Buffer.from('GET / HTTP/1.1\r\nHost: example.com\r\n\r\n')));
    expect(long.code).toBe('NOT_A_CAPTURE');
    expect(long.message).toMatch(/not a pcap or pcapng capture/);
    const short = thrown(() => parse(Buffer.from('hi\n')));
    expect(short.code).toBe('NOT_A_CAPTURE');
  });

  it('throws BAD_CAPTURE_HEADER for empty input and a cut file header', () => {
    const empty = thrown(() => parse(Buffer.alloc(0)));
    expect(empty.code).toBe('BAD_CAPTURE_HEADER');
    expect(empty.message).toMatch(/empty/);
    const cut = thrown(() => parse(pcapHeader().subarray(0, 10)));
    expect(cut.code).toBe('BAD_CAPTURE_HEADER');
    expect(cut.message).toMatch(/10 bytes/);
  });
});

describe('CaptureParser: pcapng', () => {
  for (const order of ['le', 'be'] as const) {
    it(`reads enhanced, simple and obsolete packet blocks and skips other blocks (${order})`, () => {
      const file = Buffer.concat([
        shb(order, [stringOption(4, 'FlowTrack test')]),
        idb({ linkType: 1, snapLen: 262144, extra: [stringOption(2, 'eth0')] }, order),
        nrb(order),
        epb(
          {
            interfaceId: 0,
            units: BigInt(SEC) * 1_000_000n + 42n,
            data: frameA,
            origLen: 1000,
            options: [stringOption(1, 'a comment'), { code: 2, value: Uint8Array.of(0, 0, 0, 1) }],
          },
          order,
        ),
        customBlock(order),
        spb(frameB, frameB.length, order),
        decryptionSecretsBlock(order),
        obsoletePacketBlock({ interfaceId: 0, units: BigInt(SEC + 5) * 1_000_000n, data: frameB }, order),
        isb(0, order),
      ]);
      const { packets, parser } = parse(file);
      expect(parser.format).toBe('pcapng');
      expect(parser.stopped).toBeNull();
      expect(parser.skippedRecords).toBe(0);
      expect(parser.bytesConsumed).toBe(file.length);
      expect(parser.linkTypes).toEqual([1]);
      expect(packets).toHaveLength(3);
      expect(packets[0]).toMatchObject({
        linkType: 1,
        tsMicros: SEC * 1e6 + 42,
        capLen: frameA.length,
        origLen: 1000,
        interfaceId: 0,
        hex: frameA.toString('hex'),
      });
      // A simple packet block has no timestamp; its data ends at the original length.
      expect(packets[1]).toMatchObject({ linkType: 1, capLen: frameB.length, hex: frameB.toString('hex') });
      expect(packets[2]).toMatchObject({ tsMicros: (SEC + 5) * 1e6, hex: frameB.toString('hex') });
    });

    it(`gives each interface its own link type, resolution and offset (${order})`, () => {
      const sll = linuxSll(ipv4Udp(ipv4('10.1.1.1'), ipv4('10.1.1.2'), 1, 2, 4));
      const file = Buffer.concat([
        shb(order),
        idb({ linkType: 1 }, order), // default: microseconds
        idb({ linkType: 101, tsresol: 9 }, order), // nanoseconds
        idb({ linkType: 113, tsresol: 0x80 | 20 }, order), // 2^-20 s
        idb({ linkType: 228, tsresol: 3, tsoffset: 1_000_000_000n }, order), // ms + offset
        idb({ linkType: 1, tsresol: 6, tsoffset: -3600n }, order), // negative offset
        epb({ interfaceId: 0, units: BigInt(SEC) * 1_000_000n + 7n, data: frameA }, order),
        epb({ interfaceId: 1, units: BigInt(SEC) * 1_000_000_000n + 123_456_000n, data: rawIp }, order),
        epb({ interfaceId: 2, units: BigInt(SEC) * 1_048_576n + 524_288n, data: sll }, order),
        epb({ interfaceId: 3, units: 700_000_000_250n, data: rawIp }, order),
        epb({ interfaceId: 4, units: BigInt(SEC) * 1_000_000n, data: frameB }, order),
      ]);
      const { packets, parser } = parse(file);
      expect(parser.stopped).toBeNull();
      expect(parser.interfaces).toHaveLength(5);
      expect(parser.linkTypes).toEqual([1, 101, 113, 228]);
      expect(packets.map((p) => [p.interfaceId, p.linkType, p.tsMicros])).toEqual([
        [0, 1, SEC * 1e6 + 7],
        [1, 101, SEC * 1e6 + 123_456],
        [2, 113, SEC * 1e6 + 500_000],
        [3, 228, (700_000_000 + 1_000_000_000) * 1e6 + 250_000],
        [4, 1, (SEC - 3600) * 1e6],
      ]);
      expect(packets[2]!.hex).toBe(sll.toString('hex'));
    });
  }

  it('converts nanosecond and power-of-two timestamps exactly, truncating to the microsecond', () => {
    // Regression: units were divided as doubles, so 64-bit nanosecond counts (> 2^53) and
    // 2^-n fractions came out one microsecond late; pcap's nanosecond path truncates exactly.
    const ns = [1_700_000_000_123_460_999n, 1_700_000_000_000_000_999n, 1_234_567_890_999_999_999n];
    const pow2 = [1_782_579_200_098_760n, BigInt(SEC) * 1_048_576n + 1_048_575n];
    const deci = [17_000_000_000n];
    const file = Buffer.concat([
      shb(),
      idb({ linkType: 101, tsresol: 9 }),
      idb({ linkType: 101, tsresol: 0x80 | 20 }),
      idb({ linkType: 101, tsresol: 1 }),
      ...ns.map((units) => epb({ interfaceId: 0, units, data: rawIp })),
      ...pow2.map((units) => epb({ interfaceId: 1, units, data: rawIp })),
      ...deci.map((units) => epb({ interfaceId: 2, units, data: rawIp })),
    ]);
    const got = parse(file).packets.map((p) => p.tsMicros);
    const want = [
      ...ns.map((u) => Number(u / 1000n)),
      ...pow2.map((u) => Number((u * 1_000_000n) / 1_048_576n)),
      ...deci.map((u) => Number(u * 100_000n)),
    ];
    expect(got).toEqual(want);
  });

  it('skips packets of undeclared interfaces and simple packets before any interface', () => {
    const file = Buffer.concat([
      shb(),
      spb(frameA),
      idb({ linkType: 1 }),
      epb({ interfaceId: 3, units: 1n, data: frameA }),
      epb({ interfaceId: 0, units: 2n, data: frameB }),
    ]);
    const { packets, parser } = parse(file);
    expect(parser.skippedRecords).toBe(2);
    expect(parser.stopped).toBeNull();
    expect(packets.map((p) => p.hex)).toEqual([frameB.toString('hex')]);
  });

  it('limits a simple packet to the snap length and keeps its original length', () => {
    const cut = frameA.subarray(0, 40);
    const file = Buffer.concat([shb(), idb({ linkType: 1, snapLen: 40 }), spb(cut, 1514)]);
    const [p] = parse(file).packets;
    expect(p).toMatchObject({ capLen: 40, origLen: 1514, hex: cut.toString('hex') });
  });

  it('starts over at a new section, with its own byte order and interfaces', () => {
    const file = Buffer.concat([
      shb('le'),
      idb({ linkType: 1 }, 'le'),
      idb({ linkType: 1 }, 'le'),
      epb({ interfaceId: 1, units: 10n, data: frameA }, 'le'),
      shb('be'),
      idb({ linkType: 101, tsresol: 9 }, 'be'),
      epb({ interfaceId: 0, units: 5_000n, data: rawIp }, 'be'),
      epb({ interfaceId: 1, units: 6_000n, data: rawIp }, 'be'), // interface 1 was the old section's
    ]);
    const { packets, parser } = parse(file);
    expect(parser.stopped).toBeNull();
    expect(parser.skippedRecords).toBe(1);
    expect(packets.map((p) => [p.linkType, p.tsMicros])).toEqual([
      [1, 10],
      [101, 5],
    ]);
  });

  describe('stops at corrupt blocks, saying at which byte', () => {
    const head = Buffer.concat([
      shb(),
      idb({ linkType: 1 }),
      epb({ interfaceId: 0, units: 1n, data: frameA }),
    ]);
    const cases: [string, Buffer, RegExp][] = [
      [
        'a block length that is not a multiple of 4',
        (() => {
          const b = epb({ interfaceId: 0, units: 2n, data: frameB });
          b.writeUInt32LE(b.length + 2, 4);
          return b;
        })(),
        /impossible length/,
      ],
      [
        'a block longer than 16 MiB',
        (() => {
          const b = epb({ interfaceId: 0, units: 2n, data: frameB });
          b.writeUInt32LE(0x7ffffff0, 4);
          return b;
        })(),
        /impossible length/,
      ],
      [
        'a trailing length that does not match',
        (() => {
          const b = epb({ interfaceId: 0, units: 2n, data: frameB });
          b.writeUInt32LE(b.length + 4, b.length - 4);
          return b;
        })(),
        /trailing length/,
      ],
      [
        'a packet longer than its block',
        epb({ interfaceId: 0, units: 2n, data: frameB, capLen: 5000 }),
        /longer than itself/,
      ],
      [
        'a section header without a byte-order mark',
        (() => {
          const b = shb();
          b.writeUInt32LE(0x12345678, 8);
          return b;
        })(),
        /byte-order mark/,
      ],
    ];
    for (const [name, bad, reason] of cases) {
      it(name, () => {
        const tail = epb({ interfaceId: 0, units: 3n, data: frameA });
        const { packets, parser } = parse(Buffer.concat([head, bad, tail]));
        expect(packets).toHaveLength(1);
        expect(parser.stopped?.offset).toBe(head.length);
        expect(parser.stopped?.reason).toMatch(reason);
      });
    }

    it('a last block cut short', () => {
      const file = Buffer.concat([head, epb({ interfaceId: 0, units: 2n, data: frameB })]);
      const { packets, parser } = parse(file.subarray(0, file.length - 9));
      expect(packets).toHaveLength(1);
      expect(parser.stopped?.offset).toBe(head.length);
      expect(parser.stopped?.reason).toMatch(/cut short/);
    });
  });

  it('skips an unknown block type with a valid length', () => {
    const file = Buffer.concat([
      shb(),
      idb({ linkType: 1 }),
      pcapngBlock(0x40000123, Buffer.from('experimental')),
      epb({ interfaceId: 0, units: 1n, data: frameA }),
    ]);
    const { packets, parser } = parse(file);
    expect(parser.stopped).toBeNull();
    expect(packets).toHaveLength(1);
  });
});

describe('CaptureParser: chunk boundaries anywhere', () => {
  const synthetic: [string, Buffer][] = [
    [
      'pcap be ns',
      pcapFile(
        Array.from({ length: 40 }, (_, i) => ({
          sec: SEC + i,
          frac: i * 7919,
          data: i % 2 ? frameA : frameB,
        })),
        { order: 'be', nanos: true },
      ),
    ],
    [
      'pcapng multi-interface with skipped blocks and a cut tail',
      (() => {
        const parts: Buffer[] = [
          shb('be'),
          idb({ linkType: 1 }, 'be'),
          idb({ linkType: 101, tsresol: 9 }, 'be'),
        ];
        for (let i = 0; i < 30; i++) {
          parts.push(
            epb({ interfaceId: i % 2, units: BigInt(i) * 1_000_003n, data: i % 2 ? rawIp : frameA }, 'be'),
          );
          if (i % 7 === 0) parts.push(nrb('be'), isb(0, 'be'), customBlock('be'));
          if (i % 5 === 0) parts.push(spb(frameB, frameB.length, 'be'));
        }
        const all = Buffer.concat(parts);
        return all.subarray(0, all.length - 11);
      })(),
    ],
  ];

  for (const [name, file] of synthetic) {
    it(`${name}: byte by byte and in random chunks give identical packets`, () => {
      const whole = summary(parse(file));
      expect(summary(parse(file, [1]))).toEqual(whole);
      for (const seed of [1, 2, 3, 4, 5]) {
        expect(summary(parse(file, randomChunks(seed, 97, 300)))).toEqual(whole);
      }
    });
  }

  // Small files for byte-by-byte; every kind the corpus offers: pcapng saved as .pcap, big-endian,
  // nanosecond, several link types in one pcapng, and a file that is corrupt part-way.
  const corpusFiles = [
    'nDPI/protocols/dns.pcap',
    'zeek/protocols/pcapng-multi-interface.pcapng',
    'zeek/protocols/ldap__modify-request.pcapng',
    'nDPI/protocols/nfsv3.pcap',
    'tcpdump/protocols/tcp-handshake-nano.pcap',
    'suricata-verify/malformed/bug-1450-04__tls_DER-incomplete-header.pcap',
    'zeek/protocols/http__get.pcap',
    'tcpdump/malformed/empty.pcapng',
  ];
  describeWithCorpus('corpus files', () => {
    for (const f of corpusFiles) {
      it(`${f}: byte by byte and in random chunks give identical packets`, () => {
        const file = readFileSync(corpusPath(f));
        const whole = summary(parse(file));
        expect(summary(parse(file, [1]))).toEqual(whole);
        expect(summary(parse(file, randomChunks(f.length, 211, 4096)))).toEqual(whole);
        expect(summary(parse(file, [65536]))).toEqual(whole);
      });
    }
    it('http-mime-truncated (2.7 MB, trailing byte) in random chunks', () => {
      const file = readFileSync(corpusPath('suricata-verify/malformed/http-mime-truncated__input.pcap'));
      const whole = summary(parse(file));
      expect(summary(parse(file, randomChunks(99, 1000, 20000)))).toEqual(whole);
    });
  });
});

describe('CaptureParser: streaming in constant memory', () => {
  it('parses 768 MiB pushed in odd-sized chunks without holding on to them', () => {
    // One 1 MiB period of whole 1 KiB records, pushed round and round in 65521-byte chunks so
    // records straddle chunk boundaries everywhere.
    const data = Buffer.alloc(1024 - 16, 0xab);
    const period = Buffer.concat(
      Array.from({ length: 1024 }, (_, i) => pcapRecord({ sec: SEC + i, frac: 0, data })),
    );
    let packets = 0;
    let bytes = 0;
    const parser = new CaptureParser((p) => {
      packets++;
      bytes += p.capLen;
    });
    parser.push(pcapHeader());
    const total = 768 * 1024 * 1024;
    const chunk = 65521;
    const used = (): number => {
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const before = used();
    let peak = before;
    let pos = 0;
    for (let sent = 0; sent < total; sent += chunk) {
      const n = Math.min(chunk, total - sent);
      const start = pos % period.length;
      const piece =
        start + n <= period.length
          ? period.subarray(start, start + n)
          : Buffer.concat([period.subarray(start), period.subarray(0, n - (period.length - start))]);
      parser.push(piece);
      pos += n;
      if ((sent / chunk) % 256 === 0) peak = Math.max(peak, used());
    }
    parser.end();
    expect(parser.stopped).toBeNull();
    expect(packets).toBe(total / 1024);
    expect(bytes).toBe((total / 1024) * data.length);
    // Holding on to the input would grow by hundreds of MiB; garbage not yet collected stays far below.
    expect(peak - before).toBeLessThan(192 * 1024 * 1024);
  });
});
