/**
 * FlowTrack against tshark on the shared corpus (issue: "Agreement with tshark on ../shared/pcaps").
 *
 * - Every capture capinfos reads without error: FlowTrack's packet count equals capinfos', and
 *   its frames containing IPv4, IPv6, TCP, UDP, ICMP, ICMPv6 and ARP equal the recorded
 *   `tshark -z io,phs` hierarchy (_meta/tshark_phs/). A file that differs must be listed in
 *   KNOWN_DIFFERENCES with exactly the protocols that differ, and a listed file that now agrees
 *   fails too, so the list stays honest.
 * - Every listed reason is proved by tshark itself in this run: rerun with the preference that
 *   causes the difference turned off, and/or with the frames the reason is about left out (chosen
 *   by a tshark display filter), tshark and FlowTrack then agree on all seven protocols; and
 *   FlowTrack's decode of each left-out frame is checked to be what the reason says.
 * - On FLOW_FILES, FlowTrack's TCP and UDP flow counts equal the conversation rows of
 *   `tshark -q -z conv,tcp` / `conv,udp`, run here. tshark has no flow timeouts, so FlowTrack runs
 *   with timeouts longer than any capture: only the TCP rules (close, port reuse) split flows.
 *
 * Reads the corpus in place (never copies it); tshark parts need tshark on the PATH.
 */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { analyzeCapture } from '../src/analyze/analyze-capture.js';
import { readCapture } from '../src/capture/capture-file.js';
import { LinkType } from '../src/capture/link-type.js';
import { PacketDecoder } from '../src/decode/packet-decoder.js';
import { DecodeProblem, Proto } from '../src/decode/protocols.js';
import type { FlowRecord } from '../src/flows/flow-record.js';
import {
  corpusAvailable,
  corpusDir,
  corpusPath,
  readManifest,
  tsharkFrameCounts,
  type ManifestRow,
  describeWithCorpus,
  parsePhsFrameCounts,
} from './helpers/corpus.js';
import { describeWithTools } from './helpers/system-tools.js';

const execFileAsync = promisify(execFile);

/** The report's protocol names, and tshark's name for each. */
const PROTOCOLS = {
  ipv4: 'ip',
  ipv6: 'ipv6',
  tcp: 'tcp',
  udp: 'udp',
  icmp: 'icmp',
  icmpv6: 'icmpv6',
  arp: 'arp',
} as const;
type Protocol = keyof typeof PROTOCOLS;
const PROTOCOL_NAMES = Object.keys(PROTOCOLS) as Protocol[];
const PROTOCOL_BITS: Record<Protocol, number> = {
  ipv4: Proto.IPV4,
  ipv6: Proto.IPV6,
  tcp: Proto.TCP,
  udp: Proto.UDP,
  icmp: Proto.ICMP,
  icmpv6: Proto.ICMPV6,
  arp: Proto.ARP,
};
type Counts = Record<Protocol, number>;

/** One frame as FlowTrack's decoder saw it (for the proofs, which look at single frames). */
interface DecodedFrame {
  linkType: number;
  protoMask: number;
  problem: number;
}

/** Frames a reason is about: a tshark display filter, and what FlowTrack must make of each. */
interface ReasonFrames {
  filter: string;
  flowtrack: (frame: DecodedFrame) => boolean;
  /** What `flowtrack` checks, for the failure message. */
  expect: string;
}

interface KnownDifference {
  /** The protocols whose frame counts differ from the recorded tshark hierarchy, no more. */
  protocols: Protocol[];
  reason: string;
  /** tshark preferences that remove the difference. */
  tsharkOptions?: string[];
  /** Frames that differ for a reason no preference changes; all other frames must agree. */
  frames?: ReasonFrames;
  /** What tcpdump's expected output in the corpus (tcpdump/groundtruth/NAME.out) shows. */
  tcpdump?: RegExp;
}

/**
 * tshark reassembles IP fragments by default and dissects the transport header once, in the frame
 * that completes the datagram (and never when a fragment is missing); FlowTrack counts TCP/UDP/ICMP
 * on the first fragment, which carries the header, and joins the later ones to its flow.
 */
const NO_REASSEMBLY = ['-o', 'ip.defragment:FALSE', '-o', 'ipv6.defragment:FALSE'];
const FRAGMENTS =
  'IP fragments: tshark reassembles them and counts the transport protocol on the frame that ' +
  'completes the datagram (none when a fragment is missing); FlowTrack counts it on the first ' +
  'fragment. With reassembly off tshark agrees.';

/**
 * The link says IPv4 (EtherType 0x0800, or LINKTYPE_IPV4) but the version nibble is 6. tshark's
 * IPv4 dissector hands such bytes to IPv6 ("Bogus IPv4 version"); FlowTrack, like tcpdump
 * ("[version 6 != 4] (invalid)" in tcpdump's expected output) and like a receiving host, rejects
 * the packet and counts it as DecodeProblem bad-ip-version.
 */
const BOGUS_IPV4_VERSION: ReasonFrames = {
  // 129 is Wireshark's own number for the "Raw IPv4" encapsulation (LINKTYPE_IPV4).
  filter: 'ip.version == 6 || (frame.encap_type == 129 && ipv6 && !ip)',
  flowtrack: (f) => f.problem === DecodeProblem.BAD_IP_VERSION && (f.protoMask & Proto.IPV6) === 0,
  expect: 'counted as bad-ip-version, not decoded as IPv6',
};

/**
 * tshark 4.0 has no dissector for LINKTYPE_SLIP (8): the whole frame is "data". FlowTrack decodes
 * the BSD/OS SLIP pseudo-header and the IPv6 behind it, as tcpdump does (its expected output for
 * both files starts with "IP6").
 */
const SLIP_NOT_DISSECTED: ReasonFrames = {
  filter: 'frame.protocols == "data"',
  flowtrack: (f) => f.linkType === LinkType.SLIP && (f.protoMask & Proto.IPV6) !== 0,
  expect: 'a SLIP frame decoded to IPv6',
};

/** Files whose protocol counts differ from the recorded tshark hierarchy, and why. */
const KNOWN_DIFFERENCES: Record<string, KnownDifference> = {
  'zeek/protocols/ipv4__fragmented-1.pcap': {
    protocols: ['udp'],
    reason: `${FRAGMENTS} One datagram: its first fragment, its last, then the first again.`,
    tsharkOptions: NO_REASSEMBLY,
  },
  'nDPI/malformed/quic-fuzz-overflow.pcapng': {
    protocols: ['udp'],
    reason: `${FRAGMENTS} A lone first fragment (MF set): tshark waits for the rest and shows data.`,
    tsharkOptions: NO_REASSEMBLY,
  },
  'StopDDoS-packet-captures/attacks/amp.dns.RRSIG.fragmented.pcap': {
    protocols: ['udp'],
    reason: `${FRAGMENTS} Fragmented DNS amplification responses, some with fragments missing.`,
    tsharkOptions: NO_REASSEMBLY,
  },
  'suricata-verify/attacks/ipv6-evasion__ipv6-dos-with-ext-headers-6__denial6-6.pcap': {
    protocols: ['icmpv6'],
    reason: `${FRAGMENTS} 39,812 first fragments of ICMPv6 behind hop-by-hop options that never complete.`,
    tsharkOptions: NO_REASSEMBLY,
  },
  'nDPI/malformed/fuzz-2006-06-26-2594.pcap': {
    protocols: ['ipv6', 'udp'],
    reason:
      `udp: ${FRAGMENTS} ipv6: frame 669 says IPv4 but has version 6; tshark decodes it as IPv6, ` +
      'FlowTrack counts it as bad-ip-version.',
    tsharkOptions: NO_REASSEMBLY,
    frames: BOGUS_IPV4_VERSION,
  },
  'tcpdump/malformed/bad-ipv4-version-pgm-heapoverflow.pcap': {
    protocols: ['ipv6'],
    reason:
      'EtherType IPv4 with version 6: tshark decodes the bytes as IPv6 ("Bogus IPv4 version"); ' +
      'FlowTrack, like tcpdump, counts it as bad-ip-version.',
    frames: BOGUS_IPV4_VERSION,
    tcpdump: /\[version 6 != 4\] \(invalid\)/,
  },
  'tcpdump/malformed/LINKTYPE_IPV4_invalid.pcap': {
    protocols: ['ipv4', 'ipv6', 'udp'],
    reason:
      'LINKTYPE_IPV4 carrying an IPv6 packet: tshark decodes it as IPv6/UDP; FlowTrack, like ' +
      'tcpdump, counts a frame the link calls IPv4 with a bad-ip-version problem.',
    frames: BOGUS_IPV4_VERSION,
    tcpdump: /\[version 6 != 4\] \(invalid\)/,
  },
  'tcpdump/malformed/icmp6_nodeinfo_oobr.pcap': {
    protocols: ['ipv6', 'icmpv6'],
    reason:
      'LINKTYPE_SLIP: tshark has no SLIP dissector (frame shown as data); FlowTrack decodes IPv6/ICMPv6.',
    frames: SLIP_NOT_DISSECTED,
    tcpdump: /^\s*1\s.* IP6 /,
  },
  'tcpdump/malformed/cve2015-0261-crash.pcap': {
    protocols: ['ipv6'],
    reason: 'LINKTYPE_SLIP: tshark has no SLIP dissector (frame shown as data); FlowTrack decodes IPv6.',
    frames: SLIP_NOT_DISSECTED,
    tcpdump: /^\s*1\s.* IP6 /,
  },
  'tcpdump/malformed/arp-oobr.pcap': {
    protocols: ['arp'],
    reason:
      'Frame 1166 is EtherType ARP with hardware type 19 (ATM): tshark hands it to ATMARP, which ' +
      'throws before the arp item is in the tree, so io,phs files the frame under eth as ' +
      '_ws.malformed although frame.protocols lists arp. FlowTrack counts it as ARP.',
    frames: {
      filter: 'frame.protocols contains "arp" && !arp',
      flowtrack: (f) => (f.protoMask & Proto.ARP) !== 0,
      expect: 'counted as ARP',
    },
  },
};

/**
 * Files whose TCP and UDP flow counts are compared with tshark's conversations: plain sessions,
 * stacked VLAN, MPLS, PPPoE, Linux cooked v2, mixed link types, IPv6, IPv4 fragments, GRE and
 * 6in4 tunnels, port scans, SYN floods, SYN-ACK reflection, SYN port reuse and UDP reflection.
 */
const FLOW_FILES = [
  'zeek/protocols/http__get.pcap',
  'zeek/protocols/vlan-qinqinq.pcap',
  'zeek/protocols/mixed-vlan-mpls.pcap',
  'zeek/protocols/pppoe.pcap',
  'suricata-verify/protocols/decode-sll2-02__input.pcap',
  'zeek/protocols/ldap__modify-request.pcapng',
  'zeek/protocols/dns-edns-ecs.pcap',
  'zeek/protocols/var-services-std-ports.pcap',
  'zeek/protocols/ftp__ipv6.pcap',
  'zeek/protocols/ipv4__fragmented-1.pcap',
  'zeek/protocols/tunnels__gre-sample.pcap',
  'nDPI/protocols/6in4tunnel.pcap',
  'zeek/attacks/ftp__bruteforce.pcap',
  'nDPI/attacks/synscan.pcap',
  'Pcaphunt/attacks/ps-udp.pcap',
  'StopDDoS-packet-captures/attacks/pkt.TCP.synflood.spoofed.pcap',
  'StopDDoS-packet-captures/attacks/amp.TCP.reflection.SYNACK.pcap',
  'StopDDoS-packet-captures/attacks/amp.TCP.syn.optionallyACK.optionallysamePort.pcapng',
  'StopDDoS-packet-captures/attacks/amp.UDP.isakmp.pcap',
];

/** Longer than any capture: tshark's conversations never time out. */
const NO_TIMEOUT_MICROS = 1e15;

interface FlowCountDifference {
  protocol: 'tcp' | 'udp';
  reason: string;
  /** tshark arguments that remove the cause (preferences, disabled dissectors). */
  tsharkArgs?: string[];
  /** A display filter for tshark's conversation table that leaves out what the reason names. */
  conversationFilter?: string;
  /** FlowTrack's flows that the reason leaves in (default: all of the protocol). */
  flowtrack?: (flow: FlowRecord) => boolean;
}

/** Files left out of FLOW_FILES because their flow counts differ from tshark's, proved here. */
const FLOW_COUNT_DIFFERENCES: Record<string, FlowCountDifference> = {
  'zeek/protocols/tunnels__vxlan.pcap': {
    protocol: 'udp',
    reason:
      'tshark lists the outer UDP conversation of VXLAN packets that carry IP; FlowTrack keys those ' +
      'by the inner IP packet only (DESIGN: the inner packet defines the flow key)',
    conversationFilter: '!(vxlan && count(ip) > 1)',
  },
  'zeek/protocols/tunnels__Teredo.pcap': {
    protocol: 'udp',
    reason:
      'tshark lists the outer UDP conversation of Teredo packets (port 3544); FlowTrack keys them ' +
      'by the inner IPv6 packet only',
    conversationFilter: '!(teredo && ipv6)',
  },
  'zeek/protocols/ipv6-fragmented-dns.pcap': {
    protocol: 'udp',
    reason:
      'a later fragment whose first fragment was never captured has no ports: FlowTrack keeps it ' +
      'in a portless flow between the two hosts; tshark cannot reassemble it and shows no UDP',
    flowtrack: (f) => f.clientPort !== 0 || f.serverPort !== 0,
  },
  'StopDDoS-packet-captures/attacks/amp.UDP.snmp.src161.pcapng': {
    protocol: 'udp',
    reason:
      "tshark's SNMP dissector sets up a conversation of its own for an agent's replies, which " +
      'splits one UDP conversation in two; with SNMP disabled tshark agrees',
    tsharkArgs: ['--disable-protocol', 'snmp'],
  },
};

async function tshark(args: readonly string[]): Promise<string> {
  // tshark says `Running as user "root"` on stderr; only stdout is read.
  const { stdout } = await execFileAsync('tshark', args, { maxBuffer: 1 << 28, encoding: 'utf8' });
  return stdout;
}

/** Frames per protocol from `-z io,phs` output (a tunnel's inner layer is not counted twice). */
function phsCounts(text: string): Counts {
  return mapTsharkCounts(parsePhsFrameCounts(text));
}

function mapTsharkCounts(counts: Map<string, number>): Counts {
  return Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, counts.get(PROTOCOLS[p]) ?? 0])) as Counts;
}

/** Decodes every frame of a capture with the engine's decoder, as analyzeCapture does. */
async function decodeFrames(path: string): Promise<DecodedFrame[]> {
  const decoder = new PacketDecoder();
  const frames: DecodedFrame[] = [];
  await readCapture(path, (pkt) => {
    decoder.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
    frames.push({ linkType: pkt.linkType, protoMask: decoder.protoMask, problem: decoder.problem });
  });
  return frames;
}

function countFrames(frames: readonly DecodedFrame[], skip: ReadonlySet<number>): Counts {
  const counts = Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, 0])) as Counts;
  frames.forEach((f, i) => {
    if (skip.has(i + 1)) return;
    for (const p of PROTOCOL_NAMES) if (f.protoMask & PROTOCOL_BITS[p]) counts[p]++;
  });
  return counts;
}

/** Protocols whose counts differ, with both counts. */
function differences(flowtrack: Counts, tsharkCounts: Counts): Partial<Record<Protocol, string>> {
  const out: Partial<Record<Protocol, string>> = {};
  for (const p of PROTOCOL_NAMES) {
    if (flowtrack[p] !== tsharkCounts[p]) out[p] = `FlowTrack ${flowtrack[p]}, tshark ${tsharkCounts[p]}`;
  }
  return out;
}

interface ConversationTables {
  tcp: string[];
  udp: string[];
}

/** Rows of the TCP and UDP conversation tables of one tshark run. */
function parseConversations(text: string): ConversationTables {
  const tables: ConversationTables = { tcp: [], udp: [] };
  let current: string[] | null = null;
  for (const line of text.split('\n')) {
    if (/^TCP Conversations/.test(line)) current = tables.tcp;
    else if (/^UDP Conversations/.test(line)) current = tables.udp;
    else if (/^=+$/.test(line)) current = null;
    else if (current && /\S\s+<->\s+\S/.test(line)) current.push(line);
  }
  return tables;
}

async function tsharkConversations(
  path: string,
  extra: readonly string[] = [],
  filter?: string,
): Promise<ConversationTables> {
  const suffix = filter ? `,${filter}` : '';
  return parseConversations(
    await tshark(['-r', path, ...extra, '-q', '-z', `conv,tcp${suffix}`, '-z', `conv,udp${suffix}`]),
  );
}

async function flowtrackFlows(path: string): Promise<FlowRecord[]> {
  const flows: FlowRecord[] = [];
  await analyzeCapture(path, {
    flows: { idleTimeoutMicros: NO_TIMEOUT_MICROS, activeTimeoutMicros: NO_TIMEOUT_MICROS },
    onFlow: (f) => flows.push(f),
  });
  return flows;
}

const inScope: ManifestRow[] = corpusAvailable ? readManifest().filter((r) => r.capinfos_rc === '0') : [];

describeWithCorpus(
  `packet and protocol counts agree with capinfos and tshark (${inScope.length} captures capinfos reads)`,
  () => {
    it('every known difference names a capture in scope', () => {
      const names = new Set(inScope.map((r) => r.local_file));
      for (const file of [
        ...Object.keys(KNOWN_DIFFERENCES),
        ...FLOW_FILES,
        ...Object.keys(FLOW_COUNT_DIFFERENCES),
      ]) {
        expect(names.has(file), file).toBe(true);
      }
      expect(inScope.length).toBeGreaterThanOrEqual(190);
    });

    for (const row of inScope) {
      it(row.local_file, async () => {
        const report = await analyzeCapture(corpusPath(row.local_file));
        expect(report.packets, 'packets (capinfos)').toBe(Number(row.capinfos_packets));
        const recorded = mapTsharkCounts(tsharkFrameCounts(row.local_file));
        const ours = Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, report.protocols[p]])) as Counts;
        const diff = differences(ours, recorded);
        const known = KNOWN_DIFFERENCES[row.local_file];
        if (known) {
          // Listed: exactly the listed protocols differ. Once it agrees, take it off the list.
          expect(Object.keys(diff).sort(), `differing protocols (${JSON.stringify(diff)})`).toEqual(
            [...known.protocols].sort(),
          );
        } else {
          expect(diff, 'not in KNOWN_DIFFERENCES').toEqual({});
        }
      });
    }
  },
);

describeWithTools(['tshark'], 'each known difference, proved by tshark', () => {
  for (const [file, known] of Object.entries(KNOWN_DIFFERENCES)) {
    it(`${file}: ${known.protocols.join(', ')}`, async () => {
      const path = corpusPath(file);
      const frames = await decodeFrames(path);
      // The per-frame decode is the engine's: same totals as the report.
      const report = await analyzeCapture(path);
      expect(countFrames(frames, new Set())).toEqual(
        Object.fromEntries(PROTOCOL_NAMES.map((p) => [p, report.protocols[p]])),
      );

      const skip = new Set<number>();
      if (known.frames) {
        const out = await tshark([
          '-r',
          path,
          '-Y',
          known.frames.filter,
          '-T',
          'fields',
          '-e',
          'frame.number',
        ]);
        for (const n of out.split('\n').filter(Boolean)) skip.add(Number(n));
        expect(skip.size, `frames matching ${known.frames.filter}`).toBeGreaterThan(0);
        for (const n of skip) {
          const frame = frames[n - 1];
          expect(frame && known.frames.flowtrack(frame), `frame ${n}: ${known.frames.expect}`).toBe(true);
        }
      }
      if (known.tcpdump) {
        const name = basename(file).replace(/\.pcap(ng)?$/, '');
        expect(readFileSync(join(corpusDir, 'tcpdump/groundtruth', `${name}.out`), 'utf8')).toMatch(
          known.tcpdump,
        );
      }
      const filter = known.frames ? [`io,phs,!(${known.frames.filter})`] : ['io,phs'];
      const tsharkCounts = phsCounts(
        await tshark(['-r', path, ...(known.tsharkOptions ?? []), '-q', '-z', ...filter]),
      );
      // With the cause removed, every protocol agrees.
      expect(differences(countFrames(frames, skip), tsharkCounts)).toEqual({});
    });
  }
});

describeWithTools(['tshark'], 'TCP and UDP flow counts equal tshark conversations', () => {
  it('compares at least a dozen captures', () => {
    expect(FLOW_FILES.length).toBeGreaterThanOrEqual(12);
  });

  for (const file of FLOW_FILES) {
    it(file, async () => {
      const path = corpusPath(file);
      const [flows, conversations] = await Promise.all([flowtrackFlows(path), tsharkConversations(path)]);
      const ours = {
        tcp: flows.filter((f) => f.protocol === 'tcp').length,
        udp: flows.filter((f) => f.protocol === 'udp').length,
      };
      expect(ours).toEqual({ tcp: conversations.tcp.length, udp: conversations.udp.length });
      expect(ours.tcp + ours.udp, 'a file with flows').toBeGreaterThan(0);
    });
  }

  for (const [file, known] of Object.entries(FLOW_COUNT_DIFFERENCES)) {
    it(`${file} differs, explained: ${known.reason}`, async () => {
      const path = corpusPath(file);
      const [flows, plain, explained] = await Promise.all([
        flowtrackFlows(path),
        tsharkConversations(path),
        tsharkConversations(path, known.tsharkArgs, known.conversationFilter),
      ]);
      const ours = flows.filter((f) => f.protocol === known.protocol);
      expect(ours.length, 'still differs (else move it to FLOW_FILES)').not.toBe(
        plain[known.protocol].length,
      );
      const kept = known.flowtrack ? ours.filter(known.flowtrack) : ours;
      expect(kept.length).toBe(explained[known.protocol].length);
    });
  }
});
