/**
 * The networks FlowTrack may scan. By default that is this host and the networks it is directly
 * connected to, as the kernel reports them; an admin may list others (or fewer) in the config.
 * Scanning someone else's network is an attack on it, so every target goes through `outsideScope`
 * before a probe is sent.
 *
 * Must never widen the scope on its own: what an admin did not allow and the kernel does not call
 * connected stays out, and an address that cannot be read counts as outside.
 */

import { networkInterfaces } from 'node:os';
import { parseSource, type Source } from '../respond/firewall-backend.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { formatIpv4, formatIpv6, parseIp } from '../util/ip-address.js';
import type { ScanTarget } from './scan-types.js';

/** The networks a scan may reach. */
export interface ScanScope {
  allowed: Source[];
}

/** What FlowTrack reads of one interface address (a part of os.NetworkInterfaceInfo). */
export interface InterfaceAddress {
  address: string;
  netmask: string;
}

/** Interface name to its addresses, as `os.networkInterfaces()` gives them. */
export type HostInterfaces = Readonly<Record<string, readonly InterfaceAddress[] | undefined>>;

/** The keywords an admin may write among `allowedNetworks`, and what the default is. */
export const SCOPE_KEYWORDS = {
  /** Every address of this host, and all of loopback. */
  local: 'local',
  /** Every network an interface is directly connected to (IPv6 link-local excepted). */
  connected: 'connected',
} as const;

export const DEFAULT_ALLOWED_NETWORKS: readonly string[] = [SCOPE_KEYWORDS.local, SCOPE_KEYWORDS.connected];

const LOOPBACK: readonly Source[] = [
  { family: 4, addr: '127.0.0.0', len: 8 },
  { family: 6, addr: '::1', len: 128 },
];

/** This host and its directly connected networks. */
export function defaultScanScope(interfaces: HostInterfaces = networkInterfaces()): ScanScope {
  return { allowed: unique([...localSources(interfaces), ...connectedSources(interfaces)]) };
}

/**
 * The scope an admin configured: `allowedNetworks` (addresses, prefixes and the keywords `local`
 * and `connected`) replaces the default of ['local', 'connected']; an empty list allows nothing.
 * `0.0.0.0/0` and `::/0` are taken as written: an admin may opt out of the limit on purpose.
 * Throws BAD_CONFIG listing every entry that is not an address, prefix or keyword.
 */
export function scopeFrom(
  config: { allowedNetworks?: readonly string[] },
  interfaces: HostInterfaces = networkInterfaces(),
): ScanScope {
  const allowed: Source[] = [];
  const problems: string[] = [];
  for (const entry of config.allowedNetworks ?? DEFAULT_ALLOWED_NETWORKS) {
    const text = entry.trim();
    const keyword = text.toLowerCase();
    if (keyword === SCOPE_KEYWORDS.local) allowed.push(...localSources(interfaces));
    else if (keyword === SCOPE_KEYWORDS.connected) allowed.push(...connectedSources(interfaces));
    else if (text === '0.0.0.0/0' || text === '::/0') {
      // parseSource refuses /0 (no firewall rule should cover everything); a scope may.
      allowed.push({ family: text === '::/0' ? 6 : 4, addr: text.slice(0, -2), len: 0 });
    } else {
      try {
        allowed.push(canonical(parseSource(text)));
      } catch (err) {
        problems.push(
          err instanceof FlowTrackError ? err.message : `${JSON.stringify(entry)} is not readable`,
        );
      }
    }
  }
  if (problems.length > 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_CONFIG,
      `scan.allowedNetworks: ${problems.join('; ')}. Each entry is a network (10.0.0.0/8, 2001:db8::/48), an address (192.0.2.7), ` +
        `or the keyword "local" (this host) or "connected" (its directly connected networks)`,
    );
  }
  return { allowed: unique(allowed) };
}

/** The targets that `scope` does not cover, in their order. A target that is no address is outside. */
export function outsideScope(targets: readonly ScanTarget[], scope: ScanScope): ScanTarget[] {
  const covers = scopeMatcher(scope);
  return targets.filter((t) => !covers(t.address));
}

/**
 * The refusal of a scan whose targets `outside` lie outside the scope (FORBIDDEN), naming the
 * first five; `scanner` says who may not scan them ("this host", "this server").
 */
export function outOfScopeError(outside: readonly ScanTarget[], scanner: string): FlowTrackError {
  const shown = outside
    .slice(0, 5)
    .map((t) => t.address)
    .join(', ');
  return new FlowTrackError(
    ErrorCode.FORBIDDEN,
    `${outside.length} target address(es) are outside the networks ${scanner} may scan (${shown}${outside.length > 5 ? ', ...' : ''}): an admin allows networks with scan.allowedNetworks (default: this host and its directly connected networks)`,
  );
}

/** The scope as an admin would write it: 10.1.2.0/24, 192.0.2.7, ::1. */
export function describeScope(scope: ScanScope): string[] {
  return scope.allowed.map((s) => (s.len === (s.family === 4 ? 32 : 128) ? s.addr : `${s.addr}/${s.len}`));
}

/**
 * A test of whether an address text lies in `scope`. Networks are precompiled to numbers and masks:
 * IPv4 as one 32-bit word, IPv6 as four, so each address costs one parse and a few ANDs.
 * An IPv4-mapped IPv6 address (::ffff:192.0.2.7) is also tested as the IPv4 address it reaches.
 */
function scopeMatcher(scope: ScanScope): (address: string) => boolean {
  const v4: { net: number; mask: number }[] = [];
  const v6: { net: Uint32Array; mask: Uint32Array }[] = [];
  for (const source of scope.allowed) {
    const ip = parseIp(source.addr);
    if (ip === null) continue;
    if (source.family === 4) {
      const mask = maskWord(source.len, 0);
      v4.push({ net: (ip.words[0]! & mask) >>> 0, mask });
    } else {
      const mask = Uint32Array.from([0, 1, 2, 3], (i) => maskWord(source.len, i));
      v6.push({ net: ip.words.map((w, i) => w & mask[i]!), mask });
    }
  }
  const inV4 = (n: number): boolean => {
    for (const { net, mask } of v4) if ((n & mask) >>> 0 === net) return true;
    return false;
  };
  const w = new Uint32Array(4);
  return (address) => {
    const n = ipv4Value(address, 0);
    if (n >= 0) return inV4(n);
    if (!readIpv6(address, w)) return false;
    for (const { net, mask } of v6) {
      if (
        (w[0]! & mask[0]!) >>> 0 === net[0] &&
        (w[1]! & mask[1]!) >>> 0 === net[1] &&
        (w[2]! & mask[2]!) >>> 0 === net[2] &&
        (w[3]! & mask[3]!) >>> 0 === net[3]
      ) {
        return true;
      }
    }
    return w[0] === 0 && w[1] === 0 && w[2] === 0xffff && inV4(w[3]!);
  };
}

const GROUPS = new Uint16Array(8);

/**
 * Reads an IPv6 address (compressed, with an IPv4 tail, with a %zone that is ignored) into four
 * words of `out`; false when `text` is none. Like `ipv4Value`, by char codes and without allocating.
 */
function readIpv6(text: string, out: Uint32Array): boolean {
  const zone = text.indexOf('%');
  const end = zone < 0 ? text.length : zone;
  let groups = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const start = i;
    let value = 0;
    for (let hex = hexDigit(text.charCodeAt(i)); hex >= 0 && i < end; hex = hexDigit(text.charCodeAt(++i))) {
      value = value * 16 + hex;
    }
    if (i < end && text.charCodeAt(i) === 46) {
      // An IPv4 tail (::ffff:192.0.2.1) fills the last two groups.
      const v4 = groups <= 6 && zone < 0 ? ipv4Value(text, start) : -1;
      if (v4 < 0) return false;
      GROUPS[groups++] = v4 >>> 16;
      GROUPS[groups++] = v4 & 0xffff;
      break;
    }
    if (i === start || i - start > 4 || groups === 8) return false;
    GROUPS[groups++] = value;
    if (i === end) break;
    if (text.charCodeAt(i++) !== 58 || i === end) return false;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    }
  }
  if (gap < 0 ? groups !== 8 : groups > 7) return false;
  if (gap >= 0) {
    // Move the groups after "::" to the end and zero the run it stands for.
    const missing = 8 - groups;
    for (let g = groups - 1; g >= gap; g--) GROUPS[g + missing] = GROUPS[g]!;
    GROUPS.fill(0, gap, gap + missing);
  }
  for (let k = 0; k < 4; k++) out[k] = ((GROUPS[2 * k]! << 16) | GROUPS[2 * k + 1]!) >>> 0;
  return true;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** The `index`th 32-bit word of a prefix mask of `len` bits. */
function maskWord(len: number, index: number): number {
  const bits = Math.min(32, Math.max(0, len - 32 * index));
  return bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/**
 * The dotted quad that makes up `text` from `start` to its end, as a 32-bit number, or -1. The hot
 * path: read by char codes, allocating nothing (parseIp's regex and splits cost ten times more).
 */
function ipv4Value(text: string, start: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      octet = octet * 10 + c - 48;
      if (++digits > 3 || octet > 255) return -1;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

/** `source` with its address in the one spelling describeScope shows (2001:DB8:0::/48: 2001:db8::/48). */
function canonical(source: Source): Source {
  const ip = parseIp(source.addr);
  if (ip === null) return source;
  return { ...source, addr: ip.version === 4 ? formatIpv4(ip.words[0]!) : formatIpv6(ip.words) };
}

/** Each interface address as a host route, plus loopback. */
function localSources(interfaces: HostInterfaces): Source[] {
  const out: Source[] = [...LOOPBACK];
  for (const { address } of interfaceAddresses(interfaces)) {
    const ip = parseIp(address.replace(/%.*$/, ''));
    if (ip === null) continue;
    out.push(
      ip.version === 4
        ? { family: 4, addr: formatIpv4(ip.words[0]!), len: 32 }
        : { family: 6, addr: formatIpv6(ip.words), len: 128 },
    );
  }
  return out;
}

/**
 * The network of each interface address (address AND netmask), as the kernel configured it.
 * Not included: IPv6 link-local (fe80::/10 exists on every link and needs a zone to reach) and a
 * netmask of zero or with holes, which describes no network and would let in the whole Internet.
 */
function connectedSources(interfaces: HostInterfaces): Source[] {
  const out: Source[] = [];
  for (const { address, netmask } of interfaceAddresses(interfaces)) {
    const ip = parseIp(address.replace(/%.*$/, ''));
    const mask = parseIp(netmask);
    if (ip === null || mask?.version !== ip.version) continue;
    const words = ip.version === 4 ? 1 : 4;
    const len = prefixLength(mask.words, words);
    if (len === null || len === 0) continue;
    const net = ip.words.map((w, i) => (i < words ? w & mask.words[i]! : 0));
    if (ip.version === 4) {
      out.push({ family: 4, addr: formatIpv4(net[0]!), len });
    } else if (ip.words[0]! >>> 22 !== 0xfe80 >>> 6) {
      out.push({ family: 6, addr: formatIpv6(net), len });
    }
  }
  return out;
}

/** The number of leading one bits of a netmask, or null when ones follow a zero (no prefix). */
function prefixLength(mask: Uint32Array, words: number): number | null {
  let len = 0;
  for (let i = 0; i < words; i++) {
    const w = mask[i]!;
    const ones = Math.clz32(~w);
    if (ones < 32 && ((w << ones) >>> 0 !== 0 || mask.subarray(i + 1, words).some((x) => x !== 0))) {
      return null;
    }
    len += ones;
    if (ones < 32) break;
  }
  return len;
}

function interfaceAddresses(interfaces: HostInterfaces): InterfaceAddress[] {
  return Object.values(interfaces).flatMap((list) => list ?? []);
}

/** `sources` without repeats (the same network may come from two interfaces, or from a keyword and by hand). */
function unique(sources: Source[]): Source[] {
  const seen = new Set<string>();
  return sources.filter((s) => {
    const key = `${s.family}/${s.addr}/${s.len}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
