/**
 * The addresses a scan is aimed at, read from what the user typed in nmap's forms: addresses,
 * CIDR prefixes, ranges and host names. The size of the request is computed from the ranges'
 * bounds before a single address is listed, so a typo like 10.0.0.0/8 or an IPv6 /64 is refused
 * at once instead of filling memory.
 *
 * Must never send a packet: its only contact with the outside is the resolver asked for host names
 * (node:dns lookup, i.e. the host's own resolver configuration, unless one is injected). Whether a
 * target may be scanned at all is decided by scan-scope.ts, not here.
 */

import { lookup } from 'node:dns/promises';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { formatIpv4, formatIpv6, parseIp } from '../util/ip-address.js';
import type { ScanTarget } from './scan-types.js';

/** Resolves a host name to every address it has, in the resolver's order. */
export type ResolveName = (name: string) => Promise<{ address: string; family: 4 | 6 }[]>;

export interface ParseTargetsOptions {
  /** Resolver for host names; default node:dns/promises `lookup(name, { all: true })`. */
  resolve?: ResolveName;
  /** The most addresses one scan may cover; default `DEFAULT_MAX_ADDRESSES`. */
  maxAddresses?: number;
}

/** 65,536 addresses: a /16 of IPv4, or a /112 of IPv6. */
export const DEFAULT_MAX_ADDRESSES = 65_536;

const ACCEPTED_FORMS =
  'write an address (192.0.2.7, 2001:db8::7), a prefix (192.0.2.0/24, 2001:db8::/120), ' +
  'a range (192.0.2.5-20, 192.0.2.5-192.0.3.7, 2001:db8::1-2001:db8::ff) or a host name (scanme.example.org), ' +
  'several separated by commas';

/** A run of consecutive addresses, each end included; IPv4 and IPv6 alike held as BigInt. */
interface AddressRange {
  spec: string;
  family: 4 | 6;
  first: bigint;
  last: bigint;
  hostName?: string;
}

type Piece = { kind: 'range'; range: AddressRange } | { kind: 'name'; spec: string; name: string };

/**
 * The addresses of `specs`, in the order given, each once. Every spec (or comma-separated part of
 * one) is an IPv4 or IPv6 address, a CIDR prefix (every address in it, network and broadcast
 * included, as nmap does; host bits are ignored: 10.0.0.7/24 is 10.0.0.0/24), a range (10.0.0.5-20
 * for the last octet, 10.0.0.5-10.0.1.7 and 2001:db8::1-2001:db8::ff in full) or a host name, which
 * stands for every address it resolves to and is kept as `hostName`.
 *
 * Throws BAD_REQUEST naming the spec when one cannot be read, when a host name does not resolve, and
 * when the targets cover more than `maxAddresses` addresses (counted without listing them).
 */
export async function parseTargets(
  specs: readonly string[],
  options: ParseTargetsOptions = {},
): Promise<ScanTarget[]> {
  const max = options.maxAddresses ?? DEFAULT_MAX_ADDRESSES;
  if (!Number.isSafeInteger(max) || max < 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `maxAddresses must be a whole number of at least 1, not ${String(max)}`,
    );
  }
  const pieces = specs
    .flatMap((spec) => spec.split(','))
    .map((part) => part.trim())
    .filter((part) => part !== '')
    .map(parsePiece);
  if (pieces.length === 0) {
    throw new FlowTrackError(ErrorCode.BAD_REQUEST, `no scan targets were given: ${ACCEPTED_FORMS}`);
  }
  // Refuse an oversized range before asking the resolver anything.
  checkCount(
    pieces.flatMap((p) => (p.kind === 'range' ? [p.range] : [])),
    max,
  );

  const resolve = options.resolve ?? lookupAll;
  const names = [...new Set(pieces.flatMap((p) => (p.kind === 'name' ? [p.name] : [])))];
  const resolved = new Map(
    await Promise.all(names.map(async (name) => [name, await resolveName(name, resolve)] as const)),
  );
  const ranges = pieces.flatMap((p) => (p.kind === 'range' ? [p.range] : (resolved.get(p.name) ?? [])));
  checkCount(ranges, max);

  const targets: ScanTarget[] = [];
  const seen = new Set<string>();
  const add = (address: string, range: AddressRange): void => {
    if (seen.has(address)) return;
    seen.add(address);
    targets.push(
      range.hostName === undefined
        ? { address, family: range.family }
        : { address, family: range.family, hostName: range.hostName },
    );
  };
  for (const range of ranges) {
    if (range.family === 4) {
      for (let n = Number(range.first), last = Number(range.last); n <= last; n++) add(formatIpv4(n), range);
    } else {
      for (let v = range.first; v <= range.last; v++) add(formatIpv6Value(v), range);
    }
  }
  return targets;
}

function parsePiece(spec: string): Piece {
  const slash = spec.indexOf('/');
  if (slash >= 0) return { kind: 'range', range: parsePrefix(spec, slash) };
  const single = parseAddress(spec);
  if (single !== null) return { kind: 'range', range: { spec, ...single, last: single.first } };
  const dash = spec.indexOf('-');
  if (dash >= 0) {
    const from = parseAddress(spec.slice(0, dash).trim());
    if (from !== null) return { kind: 'range', range: parseRange(spec, from, spec.slice(dash + 1).trim()) };
  }
  if (isHostName(spec)) return { kind: 'name', spec, name: spec.replace(/\.$/, '').toLowerCase() };
  throw new FlowTrackError(
    ErrorCode.BAD_REQUEST,
    `scan target ${JSON.stringify(spec)} is not an address, prefix, range or host name: ${ACCEPTED_FORMS}`,
  );
}

function parsePrefix(spec: string, slash: number): AddressRange {
  const text = spec.slice(0, slash).trim();
  const lenText = spec.slice(slash + 1).trim();
  const base = parseAddress(text);
  if (base === null) {
    const what = isHostName(text) ? 'a host name, and a prefix needs an address' : 'not an address';
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `scan target ${JSON.stringify(spec)}: ${JSON.stringify(text)} is ${what}: write a prefix like 192.0.2.0/24 or 2001:db8::/120`,
    );
  }
  const bits = base.family === 4 ? 32 : 128;
  const len = /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
  if (!(len >= 0 && len <= bits)) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `scan target ${JSON.stringify(spec)}: the prefix length must be a whole number from 0 to ${bits}`,
    );
  }
  const hostBits = (1n << BigInt(bits - len)) - 1n;
  const first = base.first & ~hostBits;
  return { spec, family: base.family, first, last: first | hostBits };
}

function parseRange(spec: string, from: { family: 4 | 6; first: bigint }, toText: string): AddressRange {
  let last: bigint;
  if (from.family === 4 && /^\d{1,3}$/.test(toText)) {
    // nmap's short form: the number replaces the last octet (10.0.0.5-20).
    const octet = Number(toText);
    if (octet > 255) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `scan target ${JSON.stringify(spec)}: the range's last octet ${octet} is past 255: write it like 192.0.2.5-20, or in full as 192.0.2.5-192.0.3.7`,
      );
    }
    last = (from.first & ~0xffn) | BigInt(octet);
  } else {
    const to = parseAddress(toText);
    if (to === null) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `scan target ${JSON.stringify(spec)}: the range's end ${JSON.stringify(toText)} is not an address: write a range like 192.0.2.5-20, 192.0.2.5-192.0.3.7 or 2001:db8::1-2001:db8::ff`,
      );
    }
    if (to.family !== from.family) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `scan target ${JSON.stringify(spec)} mixes IPv4 and IPv6: both ends of a range must be of one family`,
      );
    }
    last = to.first;
  }
  if (last < from.first) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `scan target ${JSON.stringify(spec)} ends before it starts: write the lower address first`,
    );
  }
  return { spec, family: from.family, first: from.first, last };
}

/** An address as a number, or null (a zone, as in fe80::1%eth0, is not read). */
function parseAddress(text: string): { family: 4 | 6; first: bigint } | null {
  const ip = parseIp(text);
  if (ip === null) return null;
  if (ip.version === 4) return { family: 4, first: BigInt(ip.words[0]!) };
  const [a = 0, b = 0, c = 0, d = 0] = ip.words;
  return { family: 6, first: (BigInt(a) << 96n) | (BigInt(b) << 64n) | (BigInt(c) << 32n) | BigInt(d) };
}

const IPV6_WORDS = new Uint32Array(4);

function formatIpv6Value(value: bigint): string {
  let v = value;
  for (let i = 3; i >= 0; i--) {
    IPV6_WORDS[i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
  return formatIpv6(IPV6_WORDS);
}

/**
 * RFC 1123 host names (letters, digits, hyphens; labels of at most 63; underscores tolerated as
 * in many internal zones). A name whose last label is all digits is a mistyped IPv4 address
 * (10.0.0.256), never a name: no top-level domain is numeric (RFC 3696 section 2).
 */
function isHostName(text: string): boolean {
  const name = text.replace(/\.$/, '');
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  return (
    labels.every((label) => /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/i.test(label)) &&
    !/^\d+$/.test(labels[labels.length - 1]!)
  );
}

async function lookupAll(name: string): Promise<{ address: string; family: 4 | 6 }[]> {
  const found = await lookup(name, { all: true });
  return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
}

async function resolveName(name: string, resolve: ResolveName): Promise<AddressRange[]> {
  let found: { address: string }[];
  try {
    found = await resolve(name);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const why = code ?? (err instanceof Error ? err.message : String(err));
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `cannot resolve scan target ${JSON.stringify(name)} (${why}): check the spelling, or give its address instead`,
      { cause: err },
    );
  }
  if (found.length === 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `scan target ${JSON.stringify(name)} resolved to no address: give its address instead`,
    );
  }
  return found.map(({ address }) => {
    // A link-local answer carries its zone (fe80::1%eth0); the address is what is scanned.
    const parsed = parseAddress(address.replace(/%.*$/, ''));
    if (parsed === null) {
      throw new FlowTrackError(
        ErrorCode.BAD_REQUEST,
        `scan target ${JSON.stringify(name)} resolved to ${JSON.stringify(address)}, which is not an IP address: give its address instead`,
      );
    }
    return { spec: name, family: parsed.family, first: parsed.first, last: parsed.first, hostName: name };
  });
}

/** Distinct addresses in `ranges`: per family, sorted by start and merged, so overlaps count once. */
function countUnion(ranges: readonly AddressRange[]): bigint {
  let total = 0n;
  for (const family of [4, 6] as const) {
    const sorted = ranges
      .filter((r) => r.family === family)
      .sort((a, b) => (a.first < b.first ? -1 : a.first > b.first ? 1 : 0));
    let end = -1n;
    for (const r of sorted) {
      if (r.last <= end) continue;
      total += r.last - (r.first > end ? r.first : end + 1n) + 1n;
      end = r.last;
    }
  }
  return total;
}

function checkCount(ranges: readonly AddressRange[], max: number): void {
  const count = countUnion(ranges);
  if (count <= BigInt(max)) return;
  // Name the spec that asks for most (a host name's addresses summed), unless it is all of them.
  const perSpec = new Map<string, bigint>();
  for (const r of ranges) perSpec.set(r.spec, (perSpec.get(r.spec) ?? 0n) + r.last - r.first + 1n);
  let widest: [string, bigint] = ['', 0n];
  for (const entry of perSpec) if (entry[1] > widest[1]) widest = entry;
  const alone =
    widest[1] > 1n && widest[1] !== count ? ` (${widest[0]} alone is ${thousands(widest[1])})` : '';
  throw new FlowTrackError(
    ErrorCode.BAD_REQUEST,
    `the scan targets cover ${thousands(count)} addresses${alone}, more than the limit of ${thousands(BigInt(max))}: ` +
      'narrow the range (a /24 of IPv4 is 256 addresses, a /120 of IPv6 also 256) or scan it in parts',
  );
}

/** 65536 → "65,536", for BigInts past what a locale formatter is sure to take. */
function thousands(n: bigint): string {
  return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}
