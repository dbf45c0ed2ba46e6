/**
 * NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) datagrams into FlowTrack flow rows.
 * Pure: no sockets, no clock of its own (the caller says when a datagram arrived). Reads the
 * Buffer in place by offsets; what it allocates per record is the row, its CollectedFlow and the
 * text of addresses not seen lately (measured: formatting them cost more than the rest).
 *
 * It keeps, per exporter (address, port, version and source id / observation domain, as RFC 7011
 * section 8 scopes templates), the templates learnt, the sampling the exporter announced and its
 * uptime base, all bounded: past the caps the least recently heard exporter and the oldest
 * template are dropped and counted. It must never throw on what the network sends: a datagram it
 * cannot read is reported in `malformed`, a data set whose template has not arrived is counted.
 *
 * How a one-way NetFlow record becomes a FlowRow (FlowRow's "client" is the record's source):
 * - counts go to the ToServer side, multiplied by the sampling rate (see `samplingRate`);
 *   the ToClient side is 0;
 * - state, from what the record's TCP flags can tell of one direction: ACK seen: 'established';
 *   SYN without ACK: 'attempted'; RST without ACK or SYN: 'closed-rst'; other flags: 'midstream';
 *   no flags, and every other protocol: 'active';
 * - endReason from flowEndReason (136) where the exporter sends it (idle, active timeout, end of
 *   flow: 'closed', forced end: 'end-of-input', lack of resources: 'evicted'); without it 'closed'
 *   for TCP that saw FIN or RST, else 'idle';
 * - ports are 0 for ICMP and ICMPv6, as in FlowTrack's own flows; the type and code go to
 *   `icmpTypeCode` (type * 256 + code) for the flow-record detectors, from icmpTypeCodeIPv4/IPv6
 *   (elements 32 and 139) or else the destination port, where v5 and many exporters put them;
 *   counters past 2^53 are held at Number.MAX_SAFE_INTEGER;
 * - a flow cannot end after the datagram reporting it was sent: one that would (pmacct 1.7.7's
 *   v5 uptimes run hours ahead of its header's sysUptime) is moved back to end at the export
 *   time, keeping its duration, so it shows with the traffic of now rather than hours ahead.
 */

import { protocolName, tcpFlagLetters } from '../../flows/flow-record.js';
import type { FlowRow } from '../../store/flow-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { formatIpv4, formatIpv6, parseIp, formatIp } from '../../util/ip-address.js';
import {
  FIRST_DATA_SET_ID,
  FlowEndReason,
  IPFIX_OPTIONS_TEMPLATE_SET,
  IPFIX_TEMPLATE_SET,
  MAX_TEMPLATE_FIELDS,
  ROLE_COUNT,
  Role,
  TimeUnit,
  V9_OPTIONS_TEMPLATE_SET,
  V9_TEMPLATE_SET,
  VARIABLE_LENGTH,
  compileTemplate,
  roleOffsetsOf,
  type FieldSpec,
  type Template,
} from './netflow-fields.js';

/** Where a datagram came from: the exporter's address (no zone, IPv4 not IPv4-mapped) and port. */
export interface ExporterAddress {
  address: string;
  port: number;
}

/**
 * A flow and the exporter that sent it. `exporter` is the exporter's address alone, e.g.
 * "192.0.2.1": a router restarting exports from a new source port but is the same sensor.
 * (Templates are still kept apart per port and domain.)
 */
export interface CollectedFlow {
  exporter: string;
  flow: FlowRow;
  /** An ICMP or ICMPv6 record's type * 256 + code; -1 for other protocols, or when not sent. */
  icmpTypeCode: number;
}

/** What one datagram held. */
export interface DecodeResult {
  /** 5, 9 or 10 (IPFIX); 0 when the datagram is none of them. */
  version: number;
  flows: CollectedFlow[];
  /** Flow data records read: the flows, and records that had no address pair to be one. */
  dataRecords: number;
  /** Data records without a source and destination address (IPv4 or IPv6): no flow. */
  recordsWithoutAddresses: number;
  /** Templates and options templates learnt or refreshed. */
  templatesLearnt: number;
  templatesWithdrawn: number;
  /** Options data records read (sampling, uptime base). */
  optionsRecords: number;
  /** Data sets skipped because their template has not arrived (or was withdrawn or dropped). */
  unknownTemplateSets: number;
  /**
   * Why the datagram could not be read, from where it went wrong; null when it was whole. Flows
   * in the sets before the bad one are still given.
   */
  malformed: string | null;
}

export interface NetflowDecoderOptions {
  /** Exporters (address, port, version, domain) kept at most; the least recently heard goes. */
  maxExporters?: number;
  /** Templates kept per exporter; the oldest learnt goes. Also bounds its samplers. */
  maxTemplatesPerExporter?: number;
  /** Templates kept over all exporters; the least recently heard exporters go. */
  maxTemplates?: number;
  /**
   * Sampling rate (1 out of N) per exporter address, used instead of whatever it announces:
   * for exporters that sample but do not say so, or say it wrongly.
   */
  samplingOverrides?: Readonly<Record<string, number>>;
}

/** What is kept, and what was dropped to stay within the caps. */
export interface DecoderState {
  exporters: number;
  templates: number;
  exportersEvicted: number;
  templatesEvicted: number;
}

interface ExporterState {
  key: string;
  templates: Map<number, Template>;
  /** The exporter-wide rate from options data or a v9/IPFIX default; 0 when none was sent. */
  samplingRate: number;
  /** Rate per sampler or selector id, for records that name theirs. */
  samplers: Map<number, number>;
  /** IPFIX: when the exporter's uptime began (ms since the epoch), from options data; -1 unknown. */
  systemInitMs: number;
}

const DEFAULTS = { maxExporters: 1000, maxTemplatesPerExporter: 1000, maxTemplates: 100_000 };

const V5_HEADER = 24;
const V5_RECORD = 48;
const V9_HEADER = 20;
const IPFIX_HEADER = 16;
const SET_HEADER = 4;
/** Seconds from the NTP era (1900) to the Unix epoch. */
const NTP_UNIX_OFFSET = 2_208_988_800;
/**
 * How far past its datagram's export time a flow may end before it is moved back to end at it
 * (keeping its duration): a NetFlow v9 header's clock has whole seconds only.
 */
const FUTURE_SLACK_US = 1_000_000;
const TCP = 6;
const ICMP = 1;
const ICMPV6 = 58;
const ACK = 0x10;
const SYN = 0x02;
const RST = 0x04;
const FIN = 0x01;

/** What `buf` holds between datagrams, so none is kept alive by the decoder. */
const NO_DATAGRAM = Buffer.alloc(0);
/** Protocol names for every 1-byte protocol number, built once. */
const PROTOCOL_TEXT: readonly string[] = Array.from({ length: 256 }, (_, n) => protocolName(n));
/**
 * IPv4 address texts kept for reuse: flow data repeats addresses (a server, a victim, a router's
 * own networks), and formatting one costs more than the rest of its record. Cleared when full.
 */
const IPV4_CACHE_SIZE = 65_536;
/** TCP flag letters for every value of the 9 flag bits, built once. */
const FLAG_TEXT: readonly string[] = Array.from({ length: 512 }, (_, flags) => tcpFlagLetters(flags));

export class NetflowDecoder {
  private readonly exporters = new Map<string, ExporterState>();
  private readonly overrides = new Map<string, number>();
  private readonly limits: typeof DEFAULTS;
  private templateCount = 0;
  private exportersEvicted = 0;
  private templatesEvicted = 0;
  /** Field and role offsets of the current record of a template with variable-length fields. */
  private readonly varOffsets = new Int32Array(MAX_TEMPLATE_FIELDS);
  private readonly varRoleOffsets = new Int32Array(ROLE_COUNT);
  private readonly ipv6Words = new Uint32Array(4);
  private readonly ipv4Texts = new Map<number, string>();

  // The datagram being decoded: set by decode() so the record readers need no arguments for it.
  private buf: Buffer = NO_DATAGRAM;
  private result: DecodeResult = emptyResult();
  private exporterName = '';
  private state: ExporterState | null = null;
  /** The exporter of the last datagram, to skip the lookup for the next from the same one. */
  private recent: {
    address: string;
    port: number;
    version: number;
    domain: number;
    state: ExporterState;
  } | null = null;
  private override = 0;
  /** Export time of the datagram, ms since the epoch. */
  private exportMs = 0;
  /** NetFlow v9: the header's sysUptime (ms); -1 for IPFIX. */
  private sysUptimeMs = -1;
  /** Times of the record being read (see flowTimes). */
  private recordStartUs = NaN;
  private recordEndUs = NaN;

  constructor(options: NetflowDecoderOptions = {}) {
    this.limits = {
      maxExporters: positiveInteger('maxExporters', options.maxExporters ?? DEFAULTS.maxExporters),
      maxTemplatesPerExporter: positiveInteger(
        'maxTemplatesPerExporter',
        options.maxTemplatesPerExporter ?? DEFAULTS.maxTemplatesPerExporter,
      ),
      maxTemplates: positiveInteger('maxTemplates', options.maxTemplates ?? DEFAULTS.maxTemplates),
    };
    for (const [address, rate] of Object.entries(options.samplingOverrides ?? {})) {
      const ip = parseIp(address);
      if (ip === null) {
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          `sampling override for "${address}": not an IP address; give the exporter's address, e.g. 192.0.2.1`,
        );
      }
      this.overrides.set(
        formatIp(ip.version, ip.words),
        positiveInteger(`sampling rate for ${address}`, rate),
      );
    }
  }

  /** Decodes one datagram from `exporter`, received at `receivedAtMs` (ms since the epoch). */
  decode(datagram: Buffer, exporter: ExporterAddress, receivedAtMs: number): DecodeResult {
    const result = emptyResult();
    this.buf = datagram;
    this.result = result;
    this.exporterName = exporter.address;
    this.override = this.overrides.get(exporter.address) ?? 0;
    this.exportMs = receivedAtMs;
    this.state = null;
    if (datagram.length < 4) {
      result.malformed = `${datagram.length} bytes: too short for any NetFlow or IPFIX header`;
      return result;
    }
    const version = datagram.readUInt16BE(0);
    try {
      if (version === 5) this.decodeV5();
      else if (version === 9) this.decodeTemplated(exporter, 9);
      else if (version === 10) this.decodeTemplated(exporter, 10);
      else result.malformed = `version ${version}: not NetFlow v5, v9 or IPFIX (10)`;
    } catch (err) {
      // Every read is bounds-checked before it is made; this is the guard for a missed case, so a
      // hostile datagram is counted rather than ending the collector.
      if (!(err instanceof RangeError)) throw err;
      result.malformed = `read past the end of the datagram (${err.message})`;
    }
    if (version === 5 || version === 9 || version === 10) result.version = version;
    this.buf = NO_DATAGRAM;
    return result;
  }

  /** How much state is kept, and how much was dropped to keep within the caps. */
  stateStats(): DecoderState {
    return {
      exporters: this.exporters.size,
      templates: this.templateCount,
      exportersEvicted: this.exportersEvicted,
      templatesEvicted: this.templatesEvicted,
    };
  }

  private decodeV5(): void {
    const b = this.buf;
    const r = this.result;
    if (b.length < V5_HEADER) {
      r.malformed = `NetFlow v5 header needs ${V5_HEADER} bytes, the datagram has ${b.length}`;
      return;
    }
    const count = b.readUInt16BE(2);
    const needed = V5_HEADER + count * V5_RECORD;
    if (b.length < needed) {
      r.malformed = `NetFlow v5 header announces ${count} records (${needed} bytes), the datagram has ${b.length} bytes: truncated`;
      return;
    }
    const sysUptime = b.readUInt32BE(4);
    this.exportMs = b.readUInt32BE(8) * 1000 + Math.floor(b.readUInt32BE(12) / 1e6);
    // The low 14 bits are the interval, the top 2 the mode; some exporters leave the mode 0.
    const interval = b.readUInt16BE(22) & 0x3fff;
    const rate = this.override || interval || 1;
    for (let p = V5_HEADER; p < needed; p += V5_RECORD) {
      r.dataRecords++;
      const protocol = b[p + 38]!;
      const flags = protocol === TCP ? b[p + 37]! : 0;
      const firstUs = this.uptimeAtExportUs(b.readUInt32BE(p + 24), sysUptime);
      const lastUs = this.uptimeAtExportUs(b.readUInt32BE(p + 28), sysUptime);
      const hasPorts = protocol !== ICMP && protocol !== ICMPV6;
      this.emit(
        4,
        this.ipv4Text(b.readUInt32BE(p)),
        this.ipv4Text(b.readUInt32BE(p + 4)),
        hasPorts ? b.readUInt16BE(p + 32) : 0,
        hasPorts ? b.readUInt16BE(p + 34) : 0,
        hasPorts ? -1 : b.readUInt16BE(p + 34),
        protocol,
        flags,
        protocol === TCP,
        b.readUInt32BE(p + 16) * rate,
        b.readUInt32BE(p + 20) * rate,
        firstUs,
        lastUs,
        0,
      );
    }
  }

  /** v9 and IPFIX share everything but the header and the set ids of templates. */
  private decodeTemplated(exporter: ExporterAddress, version: 9 | 10): void {
    const b = this.buf;
    const r = this.result;
    const ipfix = version === 10;
    const header = ipfix ? IPFIX_HEADER : V9_HEADER;
    const name = ipfix ? 'IPFIX' : 'NetFlow v9';
    if (b.length < header) {
      r.malformed = `${name} header needs ${header} bytes, the datagram has ${b.length}`;
      return;
    }
    let end = b.length;
    if (ipfix) {
      const length = b.readUInt16BE(2);
      if (length < IPFIX_HEADER || length > b.length) {
        r.malformed = `IPFIX header gives a message length of ${length} bytes, the datagram has ${b.length}`;
        return;
      }
      end = length;
      const exportSeconds = b.readUInt32BE(4);
      if (exportSeconds > 0) this.exportMs = exportSeconds * 1000;
      this.sysUptimeMs = -1;
    } else {
      this.sysUptimeMs = b.readUInt32BE(4);
      const unixSeconds = b.readUInt32BE(8);
      if (unixSeconds > 0) this.exportMs = unixSeconds * 1000;
    }
    const domain = b.readUInt32BE(ipfix ? 12 : 16);
    this.state = this.stateFor(exporter, version, domain);
    let p = header;
    while (p < end) {
      // v9 has no message length; a few stray bytes after the last flowset are padding.
      if (end - p < SET_HEADER) {
        if (ipfix) r.malformed = `${end - p} stray bytes after the last set`;
        return;
      }
      const setId = b.readUInt16BE(p);
      const setLength = b.readUInt16BE(p + 2);
      if (setLength < SET_HEADER || p + setLength > end) {
        r.malformed = `set ${setId} at byte ${p} claims ${setLength} bytes, ${end - p} are left: truncated or corrupt`;
        return;
      }
      const setEnd = p + setLength;
      let problem: string | null = null;
      if (setId >= FIRST_DATA_SET_ID) problem = this.dataSet(setId, p + SET_HEADER, setEnd);
      else if (setId === (ipfix ? IPFIX_TEMPLATE_SET : V9_TEMPLATE_SET))
        problem = this.templateSet(p + SET_HEADER, setEnd, ipfix, false);
      else if (setId === (ipfix ? IPFIX_OPTIONS_TEMPLATE_SET : V9_OPTIONS_TEMPLATE_SET))
        problem = ipfix
          ? this.templateSet(p + SET_HEADER, setEnd, true, true)
          : this.v9OptionsSet(p + SET_HEADER, setEnd);
      // Other ids below 256 are reserved: skipped, as the RFCs ask.
      if (problem !== null) {
        r.malformed = `set ${setId} at byte ${p}: ${problem}`;
        return;
      }
      p = setEnd;
    }
  }

  /** v9 template flowset, or IPFIX template / options template set. */
  private templateSet(start: number, end: number, ipfix: boolean, options: boolean): string | null {
    const b = this.buf;
    let p = start;
    while (end - p >= 4) {
      const id = b.readUInt16BE(p);
      const count = b.readUInt16BE(p + 2);
      if (count === 0) {
        // Padding is zeros; a withdrawal (IPFIX section 8.1) names a template, or the set id for all.
        if (id === 0) return null;
        this.withdraw(id, ipfix && (id === IPFIX_TEMPLATE_SET || id === IPFIX_OPTIONS_TEMPLATE_SET));
        p += 4;
        continue;
      }
      if (id < FIRST_DATA_SET_ID) return `template id ${id} is below ${FIRST_DATA_SET_ID}`;
      let q = p + 4;
      if (options) {
        // IPFIX scope fields are information elements like the others: read alike.
        if (end - q < 2) return `options template ${id} is cut short`;
        const scopeCount = b.readUInt16BE(q);
        q += 2;
        if (scopeCount > count) return `options template ${id} has ${scopeCount} scope fields of ${count}`;
      }
      const fields: FieldSpec[] = [];
      for (let i = 0; i < count; i++) {
        if (end - q < 4) return `template ${id} announces ${count} fields, the set ends after ${i}`;
        const type = b.readUInt16BE(q);
        const length = b.readUInt16BE(q + 2);
        q += 4;
        const enterprise = ipfix && (type & 0x8000) !== 0;
        if (enterprise) {
          if (end - q < 4) return `template ${id}: enterprise field ${i} is cut short`;
          q += 4;
        }
        fields.push({ id: type & 0x7fff, length, opaque: enterprise });
      }
      const problem = this.learn(id, options, fields, ipfix, b.subarray(p, q));
      if (problem !== null) return problem;
      p = q;
    }
    return null;
  }

  /** v9 options template flowset: scope and option fields given as byte lengths (RFC 3954 6.1). */
  private v9OptionsSet(start: number, end: number): string | null {
    const b = this.buf;
    let p = start;
    while (end - p >= 6) {
      const id = b.readUInt16BE(p);
      const scopeBytes = b.readUInt16BE(p + 2);
      const optionBytes = b.readUInt16BE(p + 4);
      if (id === 0 && scopeBytes === 0 && optionBytes === 0) return null;
      if (id < FIRST_DATA_SET_ID) return `options template id ${id} is below ${FIRST_DATA_SET_ID}`;
      if (scopeBytes % 4 !== 0 || optionBytes % 4 !== 0) {
        return `options template ${id}: scope length ${scopeBytes} and option length ${optionBytes} must be multiples of 4`;
      }
      const q = p + 6;
      if (end - q < scopeBytes + optionBytes) return `options template ${id} runs past its flowset`;
      const fields: FieldSpec[] = [];
      for (let f = q; f < q + scopeBytes + optionBytes; f += 4) {
        // v9 scope types (system, interface, ...) are their own numbering, not field ids.
        fields.push({ id: b.readUInt16BE(f), length: b.readUInt16BE(f + 2), opaque: f < q + scopeBytes });
      }
      const problem = this.learn(id, true, fields, false, b.subarray(p, q + scopeBytes + optionBytes));
      if (problem !== null) return problem;
      p = q + scopeBytes + optionBytes;
    }
    return null;
  }

  /** Keeps a template record (`wire`: its bytes in the datagram) for the current exporter. */
  private learn(
    id: number,
    options: boolean,
    fields: FieldSpec[],
    ipfix: boolean,
    wire: Buffer,
  ): string | null {
    const state = this.state!;
    const known = state.templates.get(id);
    if (known?.options === options && known.wire.equals(wire)) {
      // Resent unchanged, as exporters do every few datagrams: kept as it is, now the newest.
      state.templates.delete(id);
      state.templates.set(id, known);
      this.result.templatesLearnt++;
      return null;
    }
    if (fields.length > MAX_TEMPLATE_FIELDS) {
      return `template ${id} has ${fields.length} fields, more than the ${MAX_TEMPLATE_FIELDS} kept`;
    }
    const template = compileTemplate(id, options, fields, ipfix, Buffer.from(wire));
    if (typeof template === 'string') return template;
    // Redefined: the new one replaces it and counts as the newest.
    if (state.templates.delete(id)) this.templateCount--;
    state.templates.set(id, template);
    this.templateCount++;
    this.result.templatesLearnt++;
    if (state.templates.size > this.limits.maxTemplatesPerExporter) {
      const oldest = state.templates.keys().next().value!;
      state.templates.delete(oldest);
      this.templateCount--;
      this.templatesEvicted++;
    }
    this.evictForTemplates();
    return null;
  }

  private withdraw(id: number, all: boolean): void {
    const state = this.state!;
    const options = id === IPFIX_OPTIONS_TEMPLATE_SET;
    for (const [templateId, template] of state.templates) {
      if (all ? template.options === options : templateId === id) {
        state.templates.delete(templateId);
        this.templateCount--;
        this.result.templatesWithdrawn++;
      }
    }
  }

  private dataSet(id: number, start: number, end: number): string | null {
    const template = this.state!.templates.get(id);
    if (template === undefined) {
      this.result.unknownTemplateSets++;
      return null;
    }
    const { minLength, roleOffsets } = template;
    let p = start;
    // What is left shorter than a record is padding (RFC 7011 section 3.3.1).
    while (end - p >= minLength) {
      let length = minLength;
      let at = roleOffsets;
      if (at === null) {
        length = this.measureVariable(template, p, end);
        if (length < 0) return `a variable-length field of template ${id} runs past its set`;
        at = roleOffsetsOf(template, this.varOffsets, this.varRoleOffsets);
      }
      if (template.options) this.optionsRecord(template, at, p);
      else this.flowRecord(template, at, p);
      p += length;
    }
    return null;
  }

  /** Fills varOffsets for the record at `p`; returns its length, or -1 when it overruns `end`. */
  private measureVariable(t: Template, p: number, end: number): number {
    const b = this.buf;
    let at = 0;
    for (let i = 0; i < t.lengths.length; i++) {
      let length = t.lengths[i]!;
      if (length === VARIABLE_LENGTH) {
        if (p + at + 1 > end) return -1;
        length = b[p + at]!;
        at += 1;
        if (length === 255) {
          if (p + at + 2 > end) return -1;
          length = b.readUInt16BE(p + at);
          at += 2;
        }
      }
      this.varOffsets[i] = at;
      at += length;
      if (p + at > end) return -1;
    }
    return at;
  }

  /**
   * Value of `role` in the record at `base`, or -1 when the template has no such field. Here and
   * below, `at` holds the offset of each role's field in the record (-1 when absent).
   */
  private field(t: Template, at: Int32Array, base: number, role: number): number {
    const offset = at[role]!;
    return offset < 0 ? -1 : readUnsigned(this.buf, base + offset, t.roleLengths[role]!);
  }

  private optionsRecord(t: Template, at: Int32Array, base: number): void {
    const state = this.state!;
    this.result.optionsRecords++;
    const rate = this.announcedRate(t, at, base);
    if (rate > 0) {
      const sampler = this.field(t, at, base, Role.SAMPLER_ID);
      if (sampler < 0) state.samplingRate = rate;
      else {
        state.samplers.delete(sampler);
        state.samplers.set(sampler, rate);
        if (state.samplers.size > this.limits.maxTemplatesPerExporter) {
          state.samplers.delete(state.samplers.keys().next().value!);
        }
      }
    }
    const init = this.field(t, at, base, Role.SYSTEM_INIT_MS);
    if (init > 0) state.systemInitMs = init;
  }

  /**
   * A sampling rate (1 out of N) given by this record, or 0. samplingInterval (34) and
   * samplerRandomInterval (50) are N; PSAMP systematic sampling takes samplingPacketInterval (305)
   * packets and skips samplingPacketSpace (306), so N = (305 + 306) / 305 (305 alone is read as
   * N, as exporters that send only it mean); random n-out-of-N is samplingPopulation (310) /
   * samplingSize (309).
   */
  private announcedRate(t: Template, at: Int32Array, base: number): number {
    const rate = this.field(t, at, base, Role.SAMPLING_RATE);
    if (rate > 0) return rate;
    const interval = this.field(t, at, base, Role.PACKET_INTERVAL);
    if (interval > 0) {
      const space = this.field(t, at, base, Role.PACKET_SPACE);
      return space < 0 ? interval : (interval + space) / interval;
    }
    const size = this.field(t, at, base, Role.SAMPLING_SIZE);
    const population = this.field(t, at, base, Role.SAMPLING_POPULATION);
    return size > 0 && population > 0 ? population / size : 0;
  }

  /**
   * The rate a data record's counts are multiplied by: the caller's override for the exporter;
   * else a rate in the record itself; else its sampler's, when it names one the exporter has
   * described; else the exporter's (options data for the whole exporter or domain); else 1.
   */
  private samplingRate(t: Template, at: Int32Array, base: number): number {
    if (this.override > 0) return this.override;
    if (!t.sampling) return this.state!.samplingRate || 1;
    const own = this.announcedRate(t, at, base);
    if (own > 0) return own;
    const state = this.state!;
    const sampler = this.field(t, at, base, Role.SAMPLER_ID);
    const rate = sampler >= 0 ? state.samplers.get(sampler) : undefined;
    return rate ?? (state.samplingRate || 1);
  }

  private flowRecord(t: Template, at: Int32Array, base: number): void {
    const b = this.buf;
    const r = this.result;
    r.dataRecords++;
    const roles = t.roles;
    let version: 4 | 6;
    const hasV4 = roles[Role.SRC_IPV4]! >= 0 && roles[Role.DST_IPV4]! >= 0;
    const hasV6 = roles[Role.SRC_IPV6]! >= 0 && roles[Role.DST_IPV6]! >= 0;
    if (hasV4 && hasV6) version = this.field(t, at, base, Role.IP_VERSION) === 6 ? 6 : 4;
    else if (hasV4) version = 4;
    else if (hasV6) version = 6;
    else {
      r.recordsWithoutAddresses++;
      return;
    }
    let srcAddr: string;
    let dstAddr: string;
    if (version === 4) {
      srcAddr = this.ipv4Text(b.readUInt32BE(base + at[Role.SRC_IPV4]!));
      dstAddr = this.ipv4Text(b.readUInt32BE(base + at[Role.DST_IPV4]!));
    } else {
      srcAddr = this.ipv6At(base + at[Role.SRC_IPV6]!);
      dstAddr = this.ipv6At(base + at[Role.DST_IPV6]!);
    }
    const protocol = Math.max(0, this.field(t, at, base, Role.PROTOCOL));
    const hasPorts = protocol !== ICMP && protocol !== ICMPV6;
    const flagsField = this.field(t, at, base, Role.TCP_FLAGS);
    // ICMP's type and code: its own element, or else where v5 puts them (the destination port).
    let typeCode = -1;
    if (!hasPorts) {
      typeCode = this.field(t, at, base, Role.ICMP_TYPE_CODE);
      if (typeCode < 0) typeCode = this.field(t, at, base, Role.DST_PORT);
      if (typeCode >= 0) typeCode &= 0xffff;
    }
    const rate = this.samplingRate(t, at, base);
    this.flowTimes(t, at, base);
    this.emit(
      version,
      srcAddr,
      dstAddr,
      hasPorts ? Math.max(0, this.field(t, at, base, Role.SRC_PORT)) : 0,
      hasPorts ? Math.max(0, this.field(t, at, base, Role.DST_PORT)) : 0,
      typeCode,
      protocol,
      protocol === TCP && flagsField > 0 ? flagsField & 0x1ff : 0,
      protocol === TCP,
      Math.max(0, this.field(t, at, base, Role.PACKETS)) * rate,
      Math.max(0, this.field(t, at, base, Role.OCTETS)) * rate,
      this.recordStartUs,
      this.recordEndUs,
      Math.max(0, this.field(t, at, base, Role.END_REASON)),
    );
  }

  /**
   * Sets recordStartUs and recordEndUs (µs since the epoch, NaN where the record does not say)
   * from whichever time fields the template has; a duration fills in a missing start or end.
   */
  private flowTimes(t: Template, at: Int32Array, base: number): void {
    const roles = t.roles;
    let start = NaN;
    let end = NaN;
    if (roles[Role.START_TIME]! >= 0) start = this.absoluteUs(t, at, base, Role.START_TIME, t.startUnit);
    else if (roles[Role.FIRST_UPTIME]! >= 0) {
      start = this.uptimeUs(t, at, base, this.field(t, at, base, Role.FIRST_UPTIME));
    } else if (roles[Role.START_DELTA_US]! >= 0) {
      start = this.exportMs * 1000 - this.field(t, at, base, Role.START_DELTA_US);
    }
    if (roles[Role.END_TIME]! >= 0) end = this.absoluteUs(t, at, base, Role.END_TIME, t.endUnit);
    else if (roles[Role.LAST_UPTIME]! >= 0) {
      end = this.uptimeUs(t, at, base, this.field(t, at, base, Role.LAST_UPTIME));
    } else if (roles[Role.END_DELTA_US]! >= 0) {
      end = this.exportMs * 1000 - this.field(t, at, base, Role.END_DELTA_US);
    }
    const duration = this.durationUs(t, at, base);
    if (duration >= 0 && Number.isNaN(start) !== Number.isNaN(end)) {
      if (Number.isNaN(start)) start = end - duration;
      else end = start + duration;
    }
    this.recordStartUs = start;
    this.recordEndUs = end;
  }

  private durationUs(t: Template, at: Int32Array, base: number): number {
    const d = this.field(t, at, base, Role.DURATION);
    return d < 0 ? -1 : t.durationUnit === TimeUnit.MILLISECONDS ? d * 1000 : d;
  }

  /**
   * µs since the epoch of an uptime stamp (ms). NetFlow v9 gives the uptime at export time in its
   * header; the signed 32-bit difference survives the uptime wrapping at 2^32 ms (49.7 days)
   * between the two. IPFIX has no uptime in its header: with systemInitTimeMilliseconds from
   * options data the stamp is an offset from it; without, the record's end is taken as its
   * export time, which keeps its duration.
   */
  private uptimeUs(t: Template, at: Int32Array, base: number, uptimeMs: number): number {
    if (this.sysUptimeMs >= 0) return this.uptimeAtExportUs(uptimeMs, this.sysUptimeMs);
    const init = this.state!.systemInitMs;
    if (init >= 0) return (init + uptimeMs) * 1000;
    const last = this.field(t, at, base, Role.LAST_UPTIME);
    return (this.exportMs - ((last >= 0 ? last : uptimeMs) - uptimeMs)) * 1000;
  }

  /** µs since the epoch of a v5/v9 uptime stamp, against the header's sysUptime at export time. */
  private uptimeAtExportUs(uptimeMs: number, sysUptime: number): number {
    return (this.exportMs - ((sysUptime - uptimeMs) | 0)) * 1000;
  }

  /**
   * An absolute time field in µs since the epoch. Seconds and milliseconds are plain numbers;
   * micro- and nanoseconds are 8-byte NTP timestamps (RFC 7011 section 6.1.9), or 16 bytes of
   * seconds then micro- or nanoseconds, as pmacct 1.7 writes them.
   */
  private absoluteUs(t: Template, at: Int32Array, base: number, role: number, unit: TimeUnit): number {
    const p = base + at[role]!;
    const length = t.roleLengths[role]!;
    const b = this.buf;
    switch (unit) {
      case TimeUnit.SECONDS:
        return readUnsigned(b, p, length) * 1e6;
      case TimeUnit.MILLISECONDS:
        return readUnsigned(b, p, length) * 1000;
      default: {
        if (length === 16) {
          const fraction = readUnsigned(b, p + 8, 8);
          return readUnsigned(b, p, 8) * 1e6 + (unit === TimeUnit.MICROSECONDS ? fraction : fraction / 1000);
        }
        const seconds = b.readUInt32BE(p) - NTP_UNIX_OFFSET;
        return seconds * 1e6 + Math.floor((b.readUInt32BE(p + 4) * 1e6) / 2 ** 32);
      }
    }
  }

  private ipv4Text(address: number): string {
    let text = this.ipv4Texts.get(address);
    if (text === undefined) {
      if (this.ipv4Texts.size >= IPV4_CACHE_SIZE) this.ipv4Texts.clear();
      text = formatIpv4(address);
      this.ipv4Texts.set(address, text);
    }
    return text;
  }

  private ipv6At(p: number): string {
    const b = this.buf;
    const w = this.ipv6Words;
    w[0] = b.readUInt32BE(p);
    w[1] = b.readUInt32BE(p + 4);
    w[2] = b.readUInt32BE(p + 8);
    w[3] = b.readUInt32BE(p + 12);
    return formatIpv6(w);
  }

  private emit(
    ipVersion: number,
    srcAddr: string,
    dstAddr: string,
    srcPort: number,
    dstPort: number,
    icmpTypeCode: number,
    protocol: number,
    flags: number,
    tcp: boolean,
    packets: number,
    bytes: number,
    startUs: number,
    endUs: number,
    endReason: number,
  ): void {
    const exportUs = this.exportMs * 1000;
    let last = endUs;
    let first = startUs;
    if (!(last >= 0)) last = first >= 0 ? first : exportUs;
    if (!(first >= 0) || first > last) first = last;
    if (last > exportUs + FUTURE_SLACK_US) {
      first -= last - exportUs;
      last = exportUs;
    }
    const flow: FlowRow = {
      firstSeenUs: Math.round(first),
      lastSeenUs: Math.round(last),
      ipVersion,
      protocol: PROTOCOL_TEXT[protocol] ?? protocolName(protocol),
      srcAddr,
      dstAddr,
      srcPort,
      dstPort,
      packetsToServer: safeCount(packets),
      bytesToServer: safeCount(bytes),
      packetsToClient: 0,
      bytesToClient: 0,
      tcpFlagsToServer: FLAG_TEXT[flags]!,
      tcpFlagsToClient: '',
      state: tcp ? tcpState(flags) : 'active',
      endReason: endReasonName(endReason, flags),
    };
    this.result.flows.push({ exporter: this.exporterName, flow, icmpTypeCode });
  }

  /** The exporter's state, made the most recently heard; created (within the caps) when new. */
  private stateFor(exporter: ExporterAddress, version: number, domain: number): ExporterState {
    // Datagrams mostly come in runs from one exporter: that one is already the most recent.
    const recent = this.recent;
    if (
      recent !== null &&
      recent.address === exporter.address &&
      recent.port === exporter.port &&
      recent.version === version &&
      recent.domain === domain &&
      this.exporters.get(recent.state.key) === recent.state
    ) {
      return recent.state;
    }
    const key = `${exporter.address}|${exporter.port}|${version}|${domain}`;
    let state = this.exporters.get(key);
    if (state !== undefined) this.exporters.delete(key);
    else state = { key, templates: new Map(), samplingRate: 0, samplers: new Map(), systemInitMs: -1 };
    this.exporters.set(key, state);
    while (this.exporters.size > this.limits.maxExporters) this.evictOldestExporter();
    this.recent = { address: exporter.address, port: exporter.port, version, domain, state };
    return state;
  }

  private evictForTemplates(): void {
    while (this.templateCount > this.limits.maxTemplates) {
      const oldest = this.exporters.keys().next().value;
      if (oldest === undefined || oldest === this.state?.key) return;
      this.evictOldestExporter();
    }
  }

  private evictOldestExporter(): void {
    const [key, state] = this.exporters.entries().next().value!;
    this.exporters.delete(key);
    this.exportersEvicted++;
    this.templateCount -= state.templates.size;
    this.templatesEvicted += state.templates.size;
  }
}

function emptyResult(): DecodeResult {
  return {
    version: 0,
    flows: [],
    dataRecords: 0,
    recordsWithoutAddresses: 0,
    templatesLearnt: 0,
    templatesWithdrawn: 0,
    optionsRecords: 0,
    unknownTemplateSets: 0,
    malformed: null,
  };
}

/** An unsigned big-endian number of 1 to 8 bytes; past 2^53 it is held at MAX_SAFE_INTEGER. */
function readUnsigned(b: Buffer, p: number, length: number): number {
  switch (length) {
    case 1:
      return b[p]!;
    case 2:
      return b.readUInt16BE(p);
    case 4:
      return b.readUInt32BE(p);
    case 8: {
      const high = b.readUInt32BE(p);
      return high >= 0x200000 ? Number.MAX_SAFE_INTEGER : high * 2 ** 32 + b.readUInt32BE(p + 4);
    }
    default:
      if (length <= 6) return b.readUIntBE(p, length);
      return b[p]! !== 0 ? Number.MAX_SAFE_INTEGER : readUnsigned(b, p + 1, length - 1);
  }
}

function safeCount(n: number): number {
  return Math.min(Math.round(n), Number.MAX_SAFE_INTEGER);
}

function tcpState(flags: number): string {
  if (flags & ACK) return 'established';
  if (flags & SYN) return 'attempted';
  if (flags & RST) return 'closed-rst';
  return flags === 0 ? 'active' : 'midstream';
}

function endReasonName(reason: number, flags: number): string {
  switch (reason) {
    case FlowEndReason.IDLE_TIMEOUT:
      return 'idle';
    case FlowEndReason.ACTIVE_TIMEOUT:
      return 'active-timeout';
    case FlowEndReason.END_OF_FLOW:
      return 'closed';
    case FlowEndReason.FORCED_END:
      return 'end-of-input';
    case FlowEndReason.LACK_OF_RESOURCES:
      return 'evicted';
    default:
      return flags & (FIN | RST) ? 'closed' : 'idle';
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `${name} is ${value}: give a whole number of 1 or more`);
  }
  return value;
}
