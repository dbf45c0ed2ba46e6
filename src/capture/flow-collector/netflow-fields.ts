/**
 * Templates as the decoder reads them: the NetFlow v9 field types and IPFIX information elements
 * the collector reads (RFC 3954 section 8, the IANA IPFIX registry; the two numbering plans agree
 * for every id below), and how a template's fields become a fixed layout of offsets per role, so
 * a record is read without looking at field ids. Every other field, and every enterprise-specific
 * one, is skipped by its length. Pure: no I/O, nothing read from a datagram here.
 */

export const FieldId = {
  /** octetDeltaCount / IN_BYTES. */
  OCTETS: 1,
  /** packetDeltaCount / IN_PKTS. */
  PACKETS: 2,
  PROTOCOL: 4,
  /** tcpControlBits: 1 byte in NetFlow v9, 2 bytes (with NS, ECE, CWR) in IPFIX. */
  TCP_FLAGS: 6,
  SRC_PORT: 7,
  SRC_IPV4: 8,
  DST_PORT: 11,
  DST_IPV4: 12,
  /** icmpTypeCodeIPv4: type * 256 + code (softflowd's v9 and IPFIX carry ICMP's here, not in ports). */
  ICMP_TYPE_CODE_IPV4: 32,
  /** Milliseconds of the exporter's uptime (v9: header sysUptime; IPFIX: systemInitTimeMilliseconds). */
  LAST_SWITCHED: 21,
  FIRST_SWITCHED: 22,
  SRC_IPV6: 27,
  DST_IPV6: 28,
  /** 1 out of N, for the exporter (v9 options data, or inline in a data record). */
  SAMPLING_INTERVAL: 34,
  /** Which sampler a data record went through; its interval comes in options data. */
  SAMPLER_ID: 48,
  SAMPLER_RANDOM_INTERVAL: 50,
  IP_VERSION: 60,
  /** octetTotalCount / packetTotalCount: read when the delta counts are absent. */
  OCTETS_TOTAL: 85,
  PACKETS_TOTAL: 86,
  /** icmpTypeCodeIPv6, as element 32 for ICMPv6. */
  ICMP_TYPE_CODE_IPV6: 139,
  FLOW_END_REASON: 136,
  FLOW_START_SECONDS: 150,
  FLOW_END_SECONDS: 151,
  FLOW_START_MILLISECONDS: 152,
  FLOW_END_MILLISECONDS: 153,
  FLOW_START_MICROSECONDS: 154,
  FLOW_END_MICROSECONDS: 155,
  FLOW_START_NANOSECONDS: 156,
  FLOW_END_NANOSECONDS: 157,
  /** Microseconds before the message's export time. */
  FLOW_START_DELTA_MICROSECONDS: 158,
  FLOW_END_DELTA_MICROSECONDS: 159,
  /** When the exporter's uptime began: the base of FIRST_SWITCHED/LAST_SWITCHED in IPFIX. */
  SYSTEM_INIT_TIME_MILLISECONDS: 160,
  FLOW_DURATION_MILLISECONDS: 161,
  FLOW_DURATION_MICROSECONDS: 162,
  /** PSAMP (RFC 5477): which selector a record went through, like SAMPLER_ID. */
  SELECTOR_ID: 302,
  /** Systematic count-based sampling: SAMPLING_PACKET_INTERVAL taken, then SPACE skipped. */
  SAMPLING_PACKET_INTERVAL: 305,
  SAMPLING_PACKET_SPACE: 306,
  /** Random n-out-of-N sampling: SIZE taken out of every POPULATION. */
  SAMPLING_SIZE: 309,
  SAMPLING_POPULATION: 310,
} as const;

/** flowEndReason values (IANA IPFIX registry, element 136). */
export const FlowEndReason = {
  IDLE_TIMEOUT: 1,
  ACTIVE_TIMEOUT: 2,
  END_OF_FLOW: 3,
  FORCED_END: 4,
  LACK_OF_RESOURCES: 5,
} as const;

/** The IPFIX length that announces a variable-length field (RFC 7011 section 7). */
export const VARIABLE_LENGTH = 0xffff;
/** Set and flowset ids that carry templates (v9: 0 and 1; IPFIX: 2 and 3); data sets are >= 256. */
export const V9_TEMPLATE_SET = 0;
export const V9_OPTIONS_TEMPLATE_SET = 1;
export const IPFIX_TEMPLATE_SET = 2;
export const IPFIX_OPTIONS_TEMPLATE_SET = 3;
export const FIRST_DATA_SET_ID = 256;

/**
 * What the decoder reads from a record, whatever field carries it. A template maps each role to
 * the index of its field (or -1), so a record is read by offsets without looking at field ids.
 */
export const Role = {
  SRC_IPV4: 0,
  DST_IPV4: 1,
  SRC_IPV6: 2,
  DST_IPV6: 3,
  SRC_PORT: 4,
  DST_PORT: 5,
  PROTOCOL: 6,
  TCP_FLAGS: 7,
  OCTETS: 8,
  PACKETS: 9,
  IP_VERSION: 10,
  END_REASON: 11,
  FIRST_UPTIME: 12,
  LAST_UPTIME: 13,
  /** An absolute start or end time in `Template.startUnit` / `endUnit`. */
  START_TIME: 14,
  END_TIME: 15,
  START_DELTA_US: 16,
  END_DELTA_US: 17,
  /** The flow's duration in `Template.durationUnit`. */
  DURATION: 18,
  SAMPLER_ID: 19,
  /** 1 out of N: samplingInterval or samplerRandomInterval. */
  SAMPLING_RATE: 20,
  PACKET_INTERVAL: 21,
  PACKET_SPACE: 22,
  SAMPLING_SIZE: 23,
  SAMPLING_POPULATION: 24,
  SYSTEM_INIT_MS: 25,
  /** ICMP or ICMPv6 type * 256 + code. */
  ICMP_TYPE_CODE: 26,
} as const;
export const ROLE_COUNT = 27;

export const TimeUnit = { SECONDS: 0, MILLISECONDS: 1, MICROSECONDS: 2, NANOSECONDS: 3 } as const;
export type TimeUnit = (typeof TimeUnit)[keyof typeof TimeUnit];

/** A template made ready for reading records: field lengths, fixed offsets, roles. */
export interface Template {
  id: number;
  /** An options template: its records describe the exporter (sampling, uptime), not flows. */
  options: boolean;
  /** The template record as it came: a resent template is told from a redefined one by it. */
  wire: Buffer;
  /** Length of each field, in order; VARIABLE_LENGTH for IPFIX variable-length fields. */
  lengths: Uint16Array;
  /** Offset of each field in a record when no field is variable-length; null otherwise. */
  offsets: Int32Array | null;
  /** Bytes of a record: exact when `offsets` is set, else the least a record can take. */
  minLength: number;
  /** Field index of each `Role`, or -1. */
  roles: Int16Array;
  /** Offset in a record of each `Role`'s field, or -1, when `offsets` is set; null otherwise. */
  roleOffsets: Int32Array | null;
  /** Length of each `Role`'s field (0 when absent): roles are never variable-length. */
  roleLengths: Uint16Array;
  /** Its records name a sampler or carry a sampling rate (most templates do not). */
  sampling: boolean;
  startUnit: TimeUnit;
  endUnit: TimeUnit;
  durationUnit: TimeUnit;
}

/**
 * A bound on fields per template, to bound the memory a hostile exporter can make us keep. Real
 * templates have a few dozen; a set of 65,535 bytes could otherwise describe 16,382.
 */
export const MAX_TEMPLATE_FIELDS = 512;

/** One field of a template as the wire gives it. */
export interface FieldSpec {
  id: number;
  length: number;
  /** Enterprise-specific (IPFIX enterprise bit) or an options scope of NetFlow v9: never read. */
  opaque: boolean;
}

/** Builds a Template from its fields, or returns why it cannot be used. */
export function compileTemplate(
  id: number,
  options: boolean,
  fields: readonly FieldSpec[],
  variableLengthAllowed: boolean,
  wire: Buffer,
): Template | string {
  const count = fields.length;
  const lengths = new Uint16Array(count);
  const roles = new Int16Array(ROLE_COUNT).fill(-1);
  const template: Template = {
    id,
    options,
    wire,
    lengths,
    offsets: null,
    minLength: 0,
    roles,
    roleOffsets: null,
    roleLengths: new Uint16Array(ROLE_COUNT),
    sampling: false,
    startUnit: TimeUnit.MILLISECONDS,
    endUnit: TimeUnit.MILLISECONDS,
    durationUnit: TimeUnit.MILLISECONDS,
  };
  let variable = false;
  for (let i = 0; i < count; i++) {
    const field = fields[i]!;
    lengths[i] = field.length;
    if (variableLengthAllowed && field.length === VARIABLE_LENGTH) {
      variable = true;
      template.minLength += 1;
      continue;
    }
    template.minLength += field.length;
    if (!field.opaque) assignRole(template, field.id, field.length, i);
  }
  if (template.minLength === 0) return `template ${id} describes records of 0 bytes`;
  const samplingRoles = [Role.SAMPLER_ID, Role.SAMPLING_RATE, Role.PACKET_INTERVAL, Role.SAMPLING_SIZE];
  template.sampling = samplingRoles.some((role) => roles[role]! >= 0);
  for (let role = 0; role < ROLE_COUNT; role++) {
    const index = roles[role]!;
    if (index >= 0) template.roleLengths[role] = lengths[index]!;
  }
  if (!variable) {
    const offsets = new Int32Array(count);
    let at = 0;
    for (let i = 0; i < count; i++) {
      offsets[i] = at;
      at += lengths[i]!;
    }
    template.offsets = offsets;
    template.roleOffsets = roleOffsetsOf(template, offsets);
  }
  return template;
}

/**
 * Offset in a record of each role's field, or -1, from the offsets of all fields (fixed for a
 * template without variable-length fields; measured per record otherwise). Fills `into` if given.
 */
export function roleOffsetsOf(t: Template, fieldOffsets: Int32Array, into?: Int32Array): Int32Array {
  const out = into ?? new Int32Array(ROLE_COUNT);
  for (let role = 0; role < ROLE_COUNT; role++) {
    const index = t.roles[role]!;
    out[role] = index < 0 ? -1 : fieldOffsets[index]!;
  }
  return out;
}

/**
 * Gives field `index` its role when its id is one the decoder reads and its length one it can
 * read (addresses exactly 4 or 16 bytes, numbers 1 to 8 bytes, µs/ns times 8 or 16); other fields
 * are skipped like unknown ones. The first field of a role wins, except that a delta counter
 * replaces a total one.
 */
function assignRole(t: Template, id: number, length: number, index: number): void {
  const set = (role: number): boolean => {
    if (t.roles[role]! >= 0) return false;
    t.roles[role] = index;
    return true;
  };
  const numeric = length >= 1 && length <= 8;
  const preciseTime = length === 8 || length === 16;
  switch (id) {
    case FieldId.SRC_IPV4:
      if (length === 4) set(Role.SRC_IPV4);
      return;
    case FieldId.DST_IPV4:
      if (length === 4) set(Role.DST_IPV4);
      return;
    case FieldId.SRC_IPV6:
      if (length === 16) set(Role.SRC_IPV6);
      return;
    case FieldId.DST_IPV6:
      if (length === 16) set(Role.DST_IPV6);
      return;
    case FieldId.OCTETS:
      if (numeric) t.roles[Role.OCTETS] = index;
      return;
    case FieldId.PACKETS:
      if (numeric) t.roles[Role.PACKETS] = index;
      return;
    case FieldId.FLOW_START_SECONDS:
    case FieldId.FLOW_START_MILLISECONDS:
      if (numeric && set(Role.START_TIME)) t.startUnit = unitOf(id);
      return;
    case FieldId.FLOW_END_SECONDS:
    case FieldId.FLOW_END_MILLISECONDS:
      if (numeric && set(Role.END_TIME)) t.endUnit = unitOf(id);
      return;
    case FieldId.FLOW_START_MICROSECONDS:
    case FieldId.FLOW_START_NANOSECONDS:
      if (preciseTime && set(Role.START_TIME)) t.startUnit = unitOf(id);
      return;
    case FieldId.FLOW_END_MICROSECONDS:
    case FieldId.FLOW_END_NANOSECONDS:
      if (preciseTime && set(Role.END_TIME)) t.endUnit = unitOf(id);
      return;
    case FieldId.FLOW_DURATION_MILLISECONDS:
    case FieldId.FLOW_DURATION_MICROSECONDS:
      if (numeric && set(Role.DURATION)) {
        t.durationUnit =
          id === FieldId.FLOW_DURATION_MILLISECONDS ? TimeUnit.MILLISECONDS : TimeUnit.MICROSECONDS;
      }
      return;
  }
  const role = NUMERIC_ROLES.get(id);
  if (role !== undefined && numeric) set(role);
}

const NUMERIC_ROLES = new Map<number, number>([
  [FieldId.SRC_PORT, Role.SRC_PORT],
  [FieldId.DST_PORT, Role.DST_PORT],
  [FieldId.ICMP_TYPE_CODE_IPV4, Role.ICMP_TYPE_CODE],
  [FieldId.ICMP_TYPE_CODE_IPV6, Role.ICMP_TYPE_CODE],
  [FieldId.PROTOCOL, Role.PROTOCOL],
  [FieldId.TCP_FLAGS, Role.TCP_FLAGS],
  [FieldId.OCTETS_TOTAL, Role.OCTETS],
  [FieldId.PACKETS_TOTAL, Role.PACKETS],
  [FieldId.IP_VERSION, Role.IP_VERSION],
  [FieldId.FLOW_END_REASON, Role.END_REASON],
  [FieldId.FIRST_SWITCHED, Role.FIRST_UPTIME],
  [FieldId.LAST_SWITCHED, Role.LAST_UPTIME],
  [FieldId.FLOW_START_DELTA_MICROSECONDS, Role.START_DELTA_US],
  [FieldId.FLOW_END_DELTA_MICROSECONDS, Role.END_DELTA_US],
  [FieldId.SAMPLER_ID, Role.SAMPLER_ID],
  [FieldId.SELECTOR_ID, Role.SAMPLER_ID],
  [FieldId.SAMPLING_INTERVAL, Role.SAMPLING_RATE],
  [FieldId.SAMPLER_RANDOM_INTERVAL, Role.SAMPLING_RATE],
  [FieldId.SAMPLING_PACKET_INTERVAL, Role.PACKET_INTERVAL],
  [FieldId.SAMPLING_PACKET_SPACE, Role.PACKET_SPACE],
  [FieldId.SAMPLING_SIZE, Role.SAMPLING_SIZE],
  [FieldId.SAMPLING_POPULATION, Role.SAMPLING_POPULATION],
  [FieldId.SYSTEM_INIT_TIME_MILLISECONDS, Role.SYSTEM_INIT_MS],
]);

function unitOf(id: number): TimeUnit {
  switch (id) {
    case FieldId.FLOW_START_SECONDS:
    case FieldId.FLOW_END_SECONDS:
      return TimeUnit.SECONDS;
    case FieldId.FLOW_START_MICROSECONDS:
    case FieldId.FLOW_END_MICROSECONDS:
      return TimeUnit.MICROSECONDS;
    case FieldId.FLOW_START_NANOSECONDS:
    case FieldId.FLOW_END_NANOSECONDS:
      return TimeUnit.NANOSECONDS;
    default:
      return TimeUnit.MILLISECONDS;
  }
}
