/**
 * What to send to a UDP port so that its service answers, and how to name the service from the
 * answer. UDP services ignore what they do not understand, so each well-known port gets a valid
 * request of its protocol (a DNS query on 53, an NTP client packet on 123, an SNMP GetRequest on
 * 161, ...), built here byte by byte; any other port gets an empty datagram, as nmap sends.
 * The UDP engine (udp-scan.ts) sends the payloads and offers every reply to the recognisers.
 *
 * Must never: send a request that changes anything on the server or makes it query third parties
 * (DNS questions go out with recursion off); name a service from a reply that does not answer our
 * own request (DNS, SNMP, NetBIOS and memcached ids, the NTP origin timestamp and the SIP Call-ID
 * are checked: each call of udpProbesFor draws new ones); throw on any bytes.
 */

import { randomBytes, randomInt } from 'node:crypto';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { ServiceInfo } from './scan-types.js';
import { cleanBanner, parseHttpResponse } from './service-probes.js';

/** One datagram to send to a port, and what its answer says. */
export interface UdpProbe {
  /** Short name of the request, e.g. `dns-version-bind`. */
  name: string;
  payload: Buffer;
  /** The service, when `reply` answers this very request; null otherwise. Never throws. */
  recognize(reply: Buffer): ServiceInfo | null;
}

function firstLine(data: Buffer): string {
  const lf = data.indexOf(0x0a);
  return cleanBanner(data.toString('latin1', 0, lf === -1 ? Math.min(data.length, 1024) : lf));
}

function randomId16(): number {
  return randomInt(1, 0x10000);
}

// ---------------------------------------------------------------------------------------------
// DNS (RFC 1035), mDNS (RFC 6762)

const DNS_TYPE_NS = 2;
const DNS_TYPE_PTR = 12;
const DNS_TYPE_TXT = 16;
const DNS_CLASS_IN = 1;
const DNS_CLASS_CH = 3;

/** A one-question query with recursion desired off: the server answers from what it has. */
export function encodeDnsQuery(id: number, name: string, type: number, qclass: number): Buffer {
  const labels = name.split('.').filter((label) => label !== '');
  const qname = Buffer.concat([
    ...labels.map((label) => {
      const bytes = Buffer.from(label, 'ascii');
      return Buffer.concat([Buffer.from([bytes.length]), bytes]);
    }),
    Buffer.from([0]),
  ]);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4); // QDCOUNT
  const tail = Buffer.alloc(4);
  tail.writeUInt16BE(type, 0);
  tail.writeUInt16BE(qclass, 2);
  return Buffer.concat([header, qname, tail]);
}

/**
 * A domain name at `offset`, following compression pointers (RFC 1035 section 4.1.4) with a limit
 * on jumps so that a pointer loop ends. `next` is the offset after the name where it started.
 */
export function readDnsName(message: Buffer, offset: number): { name: string; next: number } | null {
  const labels: string[] = [];
  let at = offset;
  let next = -1;
  for (let jumps = 0; jumps < 32;) {
    const length = message[at];
    if (length === undefined) return null;
    if (length === 0) return { name: labels.join('.'), next: next === -1 ? at + 1 : next };
    if ((length & 0xc0) === 0xc0) {
      const low = message[at + 1];
      if (low === undefined) return null;
      if (next === -1) next = at + 2;
      at = ((length & 0x3f) << 8) | low;
      jumps++;
      continue;
    }
    if ((length & 0xc0) !== 0 || at + 1 + length > message.length) return null;
    labels.push(message.toString('latin1', at + 1, at + 1 + length));
    if (labels.length > 127) return null;
    at += 1 + length;
  }
  return null;
}

/** The parts of a DNS reply that identify the server. */
export interface DnsReply {
  id: number;
  rcode: number;
  authoritative: boolean;
  recursionAvailable: boolean;
  /** TXT answers, each one's strings joined, cleaned. */
  txt: string[];
  /** PTR answers' targets. */
  ptr: string[];
}

/** A reply (QR set) to query `id`; null for anything else. */
export function parseDnsReply(reply: Buffer, id: number): DnsReply | null {
  if (reply.length < 12 || reply.readUInt16BE(0) !== id) return null;
  const flags = reply.readUInt16BE(2);
  if ((flags & 0x8000) === 0) return null;
  const parsed: DnsReply = {
    id,
    rcode: flags & 0x0f,
    authoritative: (flags & 0x0400) !== 0,
    recursionAvailable: (flags & 0x0080) !== 0,
    txt: [],
    ptr: [],
  };
  let at = 12;
  for (let q = reply.readUInt16BE(4); q > 0; q--) {
    const name = readDnsName(reply, at);
    if (!name || name.next + 4 > reply.length) return parsed;
    at = name.next + 4;
  }
  for (let a = Math.min(reply.readUInt16BE(6), 64); a > 0; a--) {
    const name = readDnsName(reply, at);
    if (!name || name.next + 10 > reply.length) return parsed;
    const type = reply.readUInt16BE(name.next);
    const rdLength = reply.readUInt16BE(name.next + 8);
    const rdStart = name.next + 10;
    const rdEnd = rdStart + rdLength;
    if (rdEnd > reply.length) return parsed;
    if (type === DNS_TYPE_TXT) {
      let text = '';
      for (let i = rdStart; i < rdEnd;) {
        const length = reply[i]!;
        text += reply.toString('latin1', i + 1, Math.min(i + 1 + length, rdEnd));
        i += 1 + length;
      }
      parsed.txt.push(cleanBanner(text));
    } else if (type === DNS_TYPE_PTR) {
      const target = readDnsName(reply, rdStart);
      if (target) parsed.ptr.push(cleanBanner(target.name));
    }
    at = rdEnd;
  }
  return parsed;
}

const DNS_PRODUCTS: readonly { re: RegExp; product: string }[] = [
  { re: /^dnsmasq-(\S+)/, product: 'dnsmasq' },
  { re: /^unbound (\S+)/i, product: 'Unbound' },
  { re: /^PowerDNS (?:Authoritative Server|Recursor) (\S+)/, product: 'PowerDNS' },
  { re: /^Knot DNS (\S+)/, product: 'Knot DNS' },
  { re: /^Microsoft DNS (\S+)/, product: 'Microsoft DNS' },
  // BIND answers with its bare version: "9.18.19-1~deb12u1-Debian".
  { re: /^(9\.\d+\.\d+)/, product: 'BIND' },
];

/** The product in a `version.bind` answer: `dnsmasq-2.90` is dnsmasq 2.90. */
export function parseDnsVersion(text: string): { product?: string; version?: string } {
  for (const { re, product } of DNS_PRODUCTS) {
    const version = re.exec(text)?.[1];
    if (version !== undefined) return { product, version };
  }
  return {};
}

/** `version.bind` in class CHAOS: most servers say what they are (BIND, dnsmasq, Unbound, ...). */
function dnsVersionProbe(): UdpProbe {
  const id = randomId16();
  return {
    name: 'dns-version-bind',
    payload: encodeDnsQuery(id, 'version.bind', DNS_TYPE_TXT, DNS_CLASS_CH),
    recognize(reply) {
      const parsed = parseDnsReply(reply, id);
      if (!parsed) return null;
      const version = parsed.txt[0];
      return {
        name: 'dns',
        ...(version !== undefined && version !== '' && { ...parseDnsVersion(version), banner: version }),
        details: { recursionAvailable: parsed.recursionAvailable },
      };
    },
  };
}

/** The root's NS records, for a server that ignores CHAOS questions; asked without recursion. */
function dnsRootProbe(): UdpProbe {
  const id = randomId16();
  return {
    name: 'dns-root-ns',
    payload: encodeDnsQuery(id, '.', DNS_TYPE_NS, DNS_CLASS_IN),
    recognize(reply) {
      const parsed = parseDnsReply(reply, id);
      return parsed ? { name: 'dns', details: { recursionAvailable: parsed.recursionAvailable } } : null;
    },
  };
}

/**
 * DNS-SD's service enumeration (RFC 6763 section 9) as a legacy unicast query: a responder answers
 * it to our port with our id (RFC 6762 section 6.7), listing the service types it announces.
 */
function mdnsProbe(): UdpProbe {
  const id = randomId16();
  return {
    name: 'mdns-services',
    payload: encodeDnsQuery(id, '_services._dns-sd._udp.local', DNS_TYPE_PTR, DNS_CLASS_IN),
    recognize(reply) {
      const parsed = parseDnsReply(reply, id);
      if (!parsed) return null;
      const banner = cleanBanner(parsed.ptr.join(', '));
      return { name: 'mdns', ...(banner !== '' && { banner }) };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// NTP (RFC 5905)

/**
 * An NTP client request (mode 3, version 4, leap "unsynchronised" as a client without time has):
 * 48 bytes whose transmit timestamp `transmit` (8 bytes) the server copies into its answer's
 * origin timestamp, which is how an answer is tied to this request.
 */
export function ntpRequest(transmit: Buffer): Buffer {
  const packet = Buffer.alloc(48);
  packet[0] = 0xe3; // LI 3, VN 4, mode 3
  packet[2] = 6; // poll 2^6 s
  packet[3] = 0xec; // precision 2^-20 s
  transmit.copy(packet, 40, 0, 8);
  return packet;
}

/** A server reply (mode 4) to the request whose transmit timestamp was `transmit`; null otherwise. */
export function parseNtpReply(
  reply: Buffer,
  transmit: Buffer,
): { version: number; stratum: number; referenceId?: string } | null {
  if (reply.length < 48) return null;
  const version = (reply[0]! >> 3) & 0x07;
  if ((reply[0]! & 0x07) !== 4 || version < 1 || version > 4) return null;
  if (!reply.subarray(24, 32).equals(transmit.subarray(0, 8))) return null;
  const stratum = reply[1]!;
  // Stratum 0 (a kiss-o'-death code such as RATE) and 1 (a clock: GPS, PPS) name it in ASCII.
  const referenceId = stratum <= 1 ? cleanBanner(reply.toString('latin1', 12, 16)) : '';
  return { version, stratum, ...(referenceId !== '' && { referenceId }) };
}

function ntpProbe(): UdpProbe {
  const transmit = randomBytes(8);
  return {
    name: 'ntp-client',
    payload: ntpRequest(transmit),
    recognize(reply) {
      const parsed = parseNtpReply(reply, transmit);
      if (!parsed) return null;
      return {
        name: 'ntp',
        details: {
          stratum: parsed.stratum,
          ntpVersion: parsed.version,
          ...(parsed.referenceId !== undefined && { referenceId: parsed.referenceId }),
        },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SNMP (RFC 3416) in BER

function berLength(length: number): Buffer {
  if (length < 0x80) return Buffer.from([length]);
  if (length < 0x100) return Buffer.from([0x81, length]);
  return Buffer.from([0x82, length >> 8, length & 0xff]);
}

function ber(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), berLength(body.length), body]);
}

/** A non-negative INTEGER in the fewest bytes (a leading 0 when the top bit is set). */
function berUnsigned(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  if (bytes[0]! & 0x80) bytes.unshift(0);
  return ber(0x02, Buffer.from(bytes));
}

function berOid(oid: string): Buffer {
  const arcs = oid.split('.').map(Number);
  const bytes: number[] = [40 * (arcs[0] ?? 0) + (arcs[1] ?? 0)];
  for (const arc of arcs.slice(2)) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return ber(0x06, Buffer.from(bytes));
}

/** sysDescr.0: the agent's own description ("Linux host 6.1.0-18-amd64 #1 SMP ... x86_64"). */
export const SNMP_SYS_DESCR = '1.3.6.1.2.1.1.1.0';

/** An SNMPv2c GetRequest for `oid` (default sysDescr.0). */
export function snmpGetRequest(community: string, requestId: number, oid = SNMP_SYS_DESCR): Buffer {
  const varbind = ber(0x30, berOid(oid), Buffer.from([0x05, 0x00]));
  const pdu = ber(0xa0, berUnsigned(requestId), berUnsigned(0), berUnsigned(0), ber(0x30, varbind));
  return ber(0x30, berUnsigned(1), ber(0x04, Buffer.from(community, 'latin1')), pdu);
}

interface Tlv {
  tag: number;
  start: number;
  end: number;
}

/** The TLV at `at`, inside `[at, limit)`; null when it does not fit. */
function readTlv(data: Buffer, at: number, limit: number): Tlv | null {
  const tag = data[at];
  let lengthByte = data[at + 1];
  if (tag === undefined || lengthByte === undefined) return null;
  let start = at + 2;
  let length = lengthByte;
  if (lengthByte & 0x80) {
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 3) return null;
    length = 0;
    for (let i = 0; i < count; i++) {
      lengthByte = data[start + i];
      if (lengthByte === undefined) return null;
      length = length * 256 + lengthByte;
    }
    start += count;
  }
  const end = start + length;
  return end > limit ? null : { tag, start, end };
}

function berInteger(data: Buffer, tlv: Tlv): number | null {
  const length = tlv.end - tlv.start;
  if (length < 1 || length > 6) return null;
  return data.readIntBE(tlv.start, length);
}

function berOidText(data: Buffer, tlv: Tlv): string {
  const arcs: number[] = [];
  let value = 0;
  for (let i = tlv.start; i < tlv.end; i++) {
    const byte = data[i]!;
    value = value * 128 + (byte & 0x7f);
    if (byte & 0x80) continue;
    if (arcs.length === 0)
      arcs.push(Math.min(2, Math.floor(value / 40)), value - 40 * Math.min(2, Math.floor(value / 40)));
    else arcs.push(value);
    value = 0;
  }
  return arcs.join('.');
}

/** An SNMP response message: version (0 = v1, 1 = v2c), community, PDU and its variable bindings. */
export interface SnmpResponse {
  version: number;
  community: string;
  pduType: number;
  requestId: number;
  errorStatus: number;
  varbinds: { oid: string; value: string | number | null }[];
}

/** Parses an SNMP v1/v2c message; null when the bytes are not one. */
export function parseSnmpResponse(reply: Buffer): SnmpResponse | null {
  const message = readTlv(reply, 0, reply.length);
  if (message?.tag !== 0x30) return null;
  const version = readTlv(reply, message.start, message.end);
  if (version?.tag !== 0x02) return null;
  const community = readTlv(reply, version.end, message.end);
  if (community?.tag !== 0x04) return null;
  const pdu = readTlv(reply, community.end, message.end);
  if (!pdu || (pdu.tag & 0xe0) !== 0xa0) return null;
  const requestId = readTlv(reply, pdu.start, pdu.end);
  const errorStatus = requestId && readTlv(reply, requestId.end, pdu.end);
  const errorIndex = errorStatus && readTlv(reply, errorStatus.end, pdu.end);
  const list = errorIndex && readTlv(reply, errorIndex.end, pdu.end);
  if (requestId?.tag !== 0x02 || errorStatus?.tag !== 0x02 || list?.tag !== 0x30) return null;
  const varbinds: SnmpResponse['varbinds'] = [];
  for (let at = list.start; at < list.end && varbinds.length < 16;) {
    const varbind = readTlv(reply, at, list.end);
    if (varbind?.tag !== 0x30) break;
    const name = readTlv(reply, varbind.start, varbind.end);
    const value = name && readTlv(reply, name.end, varbind.end);
    if (name?.tag !== 0x06 || !value) break;
    let decoded: string | number | null = null;
    if (value.tag === 0x04) decoded = cleanBanner(reply.toString('latin1', value.start, value.end));
    else if (value.tag === 0x06) decoded = berOidText(reply, value);
    else if (value.tag === 0x02) decoded = berInteger(reply, value);
    else if (value.tag >= 0x41 && value.tag <= 0x43 && value.end - value.start <= 5) {
      decoded = value.end === value.start ? 0 : reply.readUIntBE(value.start, value.end - value.start);
    }
    varbinds.push({ oid: berOidText(reply, name), value: decoded });
    at = varbind.end;
  }
  return {
    version: berInteger(reply, version) ?? -1,
    community: cleanBanner(reply.toString('latin1', community.start, community.end)),
    pduType: pdu.tag,
    requestId: berInteger(reply, requestId) ?? -1,
    errorStatus: berInteger(reply, errorStatus) ?? -1,
    varbinds,
  };
}

/** sysDescr.0 with the community `public`: an agent that answers gives itself away to anyone. */
function snmpProbe(): UdpProbe {
  const requestId = randomInt(1, 0x7fffffff);
  return {
    name: 'snmp-v2c-public',
    payload: snmpGetRequest('public', requestId),
    recognize(reply) {
      const parsed = parseSnmpResponse(reply);
      if (parsed?.pduType !== 0xa2 || parsed.requestId !== requestId) return null;
      const sysDescr = parsed.varbinds.find((v) => v.oid === SNMP_SYS_DESCR)?.value;
      return {
        name: 'snmp',
        ...(typeof sysDescr === 'string' && sysDescr !== '' && { banner: sysDescr }),
        details: { community: 'public', snmpVersion: '2c' },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// SSDP (UPnP Device Architecture 2.0, section 1.3), memcached, NetBIOS, TFTP, SIP, MS-SQL

/** An SSDP search for all devices, sent to one host. */
export const SSDP_SEARCH: Buffer = Buffer.from(
  'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n',
  'latin1',
);

/**
 * An SSDP search response (`HTTP/1.1 200 OK` with SERVER `OS/version UPnP/1.0 product/version`):
 * the product is the token after UPnP's, e.g. MiniUPnPd 2.3.3.
 */
export function parseSsdpReply(reply: Buffer): ServiceInfo | null {
  const response = parseHttpResponse(reply);
  if (response?.status !== 200) return null;
  const server = response.headers.get('server');
  const tokens = (server ?? '').split(/\s+/);
  const upnp = tokens.findIndex((token) => /^UPnP\//i.test(token));
  const product = upnp === -1 ? undefined : /^([^/]+)(?:\/(\S+))?$/.exec(tokens[upnp + 1] ?? '');
  const location = response.headers.get('location');
  return {
    name: 'ssdp',
    banner: server === undefined ? response.statusLine : cleanBanner(server),
    ...(product?.[1] !== undefined && { product: cleanBanner(product[1]) }),
    ...(product?.[2] !== undefined && { version: cleanBanner(product[2]) }),
    ...(location !== undefined && { details: { location: cleanBanner(location) } }),
  };
}

/** memcached's UDP frame (protocol.txt "UDP protocol"): request id, sequence 0, 1 datagram, then the command. */
export function memcachedUdpRequest(requestId: number, command: string): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt16BE(requestId, 0);
  header.writeUInt16BE(1, 4);
  return Buffer.concat([header, Buffer.from(command, 'latin1')]);
}

/** A memcached UDP answer to `requestId`: STAT lines (or VERSION), its version when given. */
export function parseMemcachedUdpReply(reply: Buffer, requestId: number): ServiceInfo | null {
  if (reply.length < 9 || reply.readUInt16BE(0) !== requestId) return null;
  const text = reply.toString('latin1', 8);
  if (!/^(?:STAT |VERSION |END\r\n)/.test(text)) return null;
  const version = /(?:^|\n)STAT version (\S+)/.exec(text)?.[1] ?? /^VERSION (\S+)/.exec(text)?.[1];
  return {
    name: 'memcached',
    product: 'memcached',
    ...(version !== undefined && { version: cleanBanner(version) }),
    // A stats answer's first line is "STAT pid <n>": only a VERSION line is worth keeping.
    ...(text.startsWith('VERSION ') && { banner: firstLine(reply.subarray(8)) }),
    // memcached over UDP has no authentication, and answers a 15-byte stats request with kilobytes.
    details: { udp: true, auth: 'none' },
  };
}

/** NetBIOS name encoding (RFC 1001 section 14.1): each half-byte as a letter from 'A'. */
function netbiosEncode(name: Buffer): Buffer {
  const out = Buffer.alloc(name.length * 2);
  name.forEach((byte, i) => {
    out[2 * i] = 0x41 + (byte >> 4);
    out[2 * i + 1] = 0x41 + (byte & 0x0f);
  });
  return out;
}

/** A NetBIOS NBSTAT query for `*` (RFC 1002 section 4.2.17): the node lists its names and MAC address. */
export function nbstatRequest(id: number): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(id, 0);
  header.writeUInt16BE(1, 4);
  const star = Buffer.alloc(16);
  star[0] = 0x2a;
  return Buffer.concat([
    header,
    Buffer.from([32]),
    netbiosEncode(star),
    Buffer.from([0, 0x00, 0x21, 0x00, 0x01]),
  ]);
}

export interface NbstatName {
  name: string;
  /** The 16th byte: 0x00 workstation or domain, 0x20 file server, 0x1d master browser... */
  suffix: number;
  group: boolean;
}

/** The node status answer to query `id`: its names and (when not all zero) its MAC address. */
export function parseNbstatReply(reply: Buffer, id: number): { names: NbstatName[]; mac?: string } | null {
  if (reply.length < 12 || reply.readUInt16BE(0) !== id || (reply[2]! & 0x80) === 0) return null;
  if (reply.readUInt16BE(6) < 1) return null;
  let at = 12;
  for (let q = reply.readUInt16BE(4); q > 0; q--) {
    const name = readDnsName(reply, at);
    if (!name) return null;
    at = name.next + 4;
  }
  const owner = readDnsName(reply, at);
  if (!owner || owner.next + 11 > reply.length || reply.readUInt16BE(owner.next) !== 0x21) return null;
  const rdEnd = Math.min(reply.length, owner.next + 10 + reply.readUInt16BE(owner.next + 8));
  at = owner.next + 10;
  const count = reply[at]!;
  at++;
  const names: NbstatName[] = [];
  for (let i = 0; i < count && at + 18 <= rdEnd; i++, at += 18) {
    names.push({
      name: cleanBanner(reply.toString('latin1', at, at + 15)),
      suffix: reply[at + 15]!,
      group: (reply[at + 16]! & 0x80) !== 0,
    });
  }
  const macBytes = at + 6 <= rdEnd ? reply.subarray(at, at + 6) : null;
  const mac =
    macBytes?.some((b) => b !== 0) === true
      ? [...macBytes].map((b) => b.toString(16).padStart(2, '0')).join(':')
      : undefined;
  return { names, ...(mac !== undefined && { mac }) };
}

function nbstatProbe(): UdpProbe {
  const id = randomId16();
  return {
    name: 'netbios-nbstat',
    payload: nbstatRequest(id),
    recognize(reply) {
      const parsed = parseNbstatReply(reply, id);
      if (!parsed) return null;
      const host = parsed.names.find((n) => n.suffix === 0 && !n.group)?.name;
      const workgroup = parsed.names.find((n) => n.suffix === 0 && n.group)?.name;
      const details: Record<string, string> = {};
      if (host !== undefined) details.netbiosName = host;
      if (workgroup !== undefined) details.workgroup = workgroup;
      if (parsed.mac !== undefined) details.mac = parsed.mac;
      const banner = [host, workgroup].filter((v) => v !== undefined).join(' ');
      return { name: 'netbios-ns', ...(banner !== '' && { banner }), details };
    },
  };
}

/** A TFTP read request (RFC 1350) for `file` in octet mode. */
export function tftpReadRequest(file: string): Buffer {
  return Buffer.concat([Buffer.from([0, 1]), Buffer.from(`${file}\u0000octet\u0000`, 'latin1')]);
}

/** A TFTP answer: ERROR (5, with its message), DATA (3) or OACK (6). */
export function parseTftpReply(reply: Buffer): ServiceInfo | null {
  if (reply.length < 4 || reply[0] !== 0) return null;
  const opcode = reply[1];
  if (opcode === 5) {
    if (reply.readUInt16BE(2) > 8) return null;
    const end = reply.indexOf(0, 4);
    const message = cleanBanner(reply.toString('latin1', 4, end === -1 ? reply.length : end));
    return { name: 'tftp', ...(message !== '' && { banner: message }) };
  }
  if (opcode === 3 || opcode === 6) return { name: 'tftp' };
  return null;
}

/**
 * A read request for a file that does not exist, so the server answers "File not found". The
 * answer comes from a new port (the server's transfer ID, RFC 1350 section 4): only a socket that
 * is not connected to port 69 receives it.
 */
function tftpProbe(): UdpProbe {
  return {
    name: 'tftp-read',
    payload: tftpReadRequest(`flowtrack-${randomBytes(6).toString('hex')}.txt`),
    recognize: parseTftpReply,
  };
}

/** A SIP OPTIONS request (RFC 3261 section 11) whose answer carries `callId` back. */
export function sipOptionsRequest(callId: string, branch: string, tag: string): Buffer {
  return Buffer.from(
    [
      'OPTIONS sip:flowtrack.invalid SIP/2.0',
      `Via: SIP/2.0/UDP flowtrack.invalid;branch=z9hG4bK${branch};rport`,
      'Max-Forwards: 70',
      'To: <sip:flowtrack@flowtrack.invalid>',
      `From: <sip:flowtrack@flowtrack.invalid>;tag=${tag}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 OPTIONS',
      'Contact: <sip:flowtrack@flowtrack.invalid>',
      'Accept: application/sdp',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    'latin1',
  );
}

/** A SIP response to the request `callId`: its Server or User-Agent names the product. */
export function parseSipReply(reply: Buffer, callId: string): ServiceInfo | null {
  const text = reply.toString('latin1', 0, Math.min(reply.length, 8192));
  const status = /^SIP\/2\.0 \d{3}[^\r\n]*/.exec(text);
  if (!status) return null;
  const header = (names: string): string | undefined =>
    new RegExp(`\\r?\\n(?:${names})[ \\t]*:[ \\t]*([^\\r\\n]*)`, 'i').exec(text)?.[1];
  if (header('Call-ID|i')?.trim() !== callId) return null;
  const agent = header('Server') ?? header('User-Agent');
  const product = agent === undefined ? null : /^(.+?)[ /]v?(\d+(?:\.\d+)+)/.exec(cleanBanner(agent));
  return {
    name: 'sip',
    banner: cleanBanner(agent ?? status[0]),
    ...(product?.[1] !== undefined && { product: product[1], version: product[2] ?? '' }),
  };
}

function sipProbe(): UdpProbe {
  const callId = `${randomBytes(8).toString('hex')}@flowtrack.invalid`;
  return {
    name: 'sip-options',
    payload: sipOptionsRequest(callId, randomBytes(6).toString('hex'), randomBytes(4).toString('hex')),
    recognize: (reply) => parseSipReply(reply, callId),
  };
}

/**
 * The SQL Server Browser's answer to CLNT_UCAST_EX, 0x03 (MC-SQLR section 2.2.5): SVR_RESP (0x05), a
 * length, and `ServerName;X;InstanceName;Y;IsClustered;No;Version;15.0.2000.5;tcp;1433;;` records.
 */
export function parseMssqlBrowserReply(reply: Buffer): ServiceInfo | null {
  if (reply.length < 4 || reply[0] !== 0x05) return null;
  const text = reply.toString('latin1', 3, Math.min(reply.length, 3 + reply.readUInt16LE(1)));
  if (!/^ServerName;/i.test(text)) return null;
  const version = /;Version;([\d.]+);/i.exec(text)?.[1];
  return {
    name: 'mssql-browser',
    product: 'Microsoft SQL Server',
    ...(version !== undefined && { version }),
    banner: cleanBanner(text.replace(/;/g, ' ')),
  };
}

/** Any answer at all names the service, for the old ones that answer anything (chargen, qotd). */
function anyAnswerProbe(name: string, service: string): UdpProbe {
  return {
    name,
    payload: Buffer.alloc(0),
    recognize(reply) {
      if (reply.length === 0) return null;
      const banner = firstLine(reply);
      return { name: service, ...(banner !== '' && { banner }) };
    },
  };
}

/**
 * nmap's probe for a port it knows nothing about: an empty datagram. An answer in text we can read
 * is kept as the banner of an `unknown` service; the port is open either way.
 */
function emptyProbe(): UdpProbe {
  return {
    name: 'empty',
    payload: Buffer.alloc(0),
    recognize(reply) {
      const banner = firstLine(reply);
      return /[A-Za-z0-9]{3}/.test(banner) ? { name: 'unknown', banner } : null;
    },
  };
}

function memcachedProbe(): UdpProbe {
  const requestId = randomId16();
  return {
    name: 'memcached-stats',
    payload: memcachedUdpRequest(requestId, 'stats\r\n'),
    recognize: (reply) => parseMemcachedUdpReply(reply, requestId),
  };
}

const PROBES_BY_PORT: ReadonlyMap<number, () => UdpProbe[]> = new Map([
  [17, () => [anyAnswerProbe('qotd', 'qotd')]],
  [19, () => [anyAnswerProbe('chargen', 'chargen')]],
  [53, () => [dnsVersionProbe(), dnsRootProbe()]],
  [69, () => [tftpProbe()]],
  [123, () => [ntpProbe()]],
  [137, () => [nbstatProbe()]],
  [161, () => [snmpProbe()]],
  [1434, () => [{ name: 'mssql-browser', payload: Buffer.from([0x03]), recognize: parseMssqlBrowserReply }]],
  [1900, () => [{ name: 'ssdp-search', payload: SSDP_SEARCH, recognize: parseSsdpReply }]],
  [5060, () => [sipProbe()]],
  [5353, () => [mdnsProbe()]],
  [11211, () => [memcachedProbe()]],
]);

/**
 * The datagrams to send to UDP `port`: its protocol's requests when the port is a known one (with
 * fresh ids each call), else one empty datagram. Throws FlowTrackError BAD_OPTION for a port
 * outside 1-65535.
 */
export function udpProbesFor(port: number): UdpProbe[] {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new FlowTrackError(ErrorCode.BAD_OPTION, `Port ${port} is not a UDP port: use 1-65535.`);
  }
  return PROBES_BY_PORT.get(port)?.() ?? [emptyProbe()];
}
