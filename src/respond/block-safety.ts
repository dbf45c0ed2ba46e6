/**
 * What must never be blocked, and why: loopback, the host's own addresses, its default gateways
 * and DNS servers, the address of any logged-in admin, and the configured allow-list (e.g. the
 * management subnet). `whyNotBlock` is asked before any rule is applied, automatic or by hand; a
 * prefix is refused when it covers any of these. The host's part is read from the kernel
 * (interfaces, /proc/net/route and ipv6_route) and /etc/resolv.conf.
 */

import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { addressValue, parseSource, type Source } from './firewall-backend.js';

export interface ProtectedAddresses {
  /** This host's own addresses. */
  own: readonly string[];
  /** Default gateways. */
  gateways: readonly string[];
  dnsServers: readonly string[];
  /** Where logged-in admins are connected from. */
  adminSessions: readonly string[];
  /** Addresses and prefixes an admin has said must never be blocked. */
  allowList: readonly string[];
}

/** Loopback, always protected. */
const LOOPBACK = ['127.0.0.0/8', '::1'];

/**
 * Why blocking `target` (an address or prefix) would be unsafe, or null when it is not. Throws
 * BAD_REQUEST when `target` is not an address or prefix.
 */
export function whyNotBlock(target: string, protect: ProtectedAddresses): string | null {
  return safetyCheck(protect)(target);
}

/** `whyNotBlock` for many targets against one list, read once. */
export function safetyCheck(protect: ProtectedAddresses): (target: string) => string | null {
  const lists: [readonly string[], (target: string, hit: string) => string][] = [
    [LOOPBACK, (target) => `${target} is loopback: the host's own services talk over it`],
    [protect.own, (target, hit) => `${target} includes ${hit}, an address of this host`],
    [
      protect.gateways,
      (target, hit) => `${target} includes ${hit}, this host's default gateway: the host would be cut off`,
    ],
    [protect.dnsServers, (target, hit) => `${target} includes ${hit}, a DNS server of this host`],
    [
      protect.adminSessions,
      (target, hit) => `${target} includes ${hit}, where a logged-in admin is connected from`,
    ],
    [protect.allowList, (target, hit) => `${target} overlaps ${hit} on the allow-list`],
  ];
  const entries = lists.flatMap(([list, reason]) =>
    list.flatMap((entry) => {
      const source = protectedSource(entry);
      return source === null ? [] : [{ entry, source, reason }];
    }),
  );
  return (target) => {
    const wanted = parseSource(target);
    const hit = entries.find((e) => overlaps(wanted, e.source));
    return hit ? hit.reason(target, hit.entry) : null;
  };
}

/** The host's own addresses, default gateways and DNS servers, as the kernel and resolv.conf say. */
export function hostProtectedAddresses(
  files: { route?: string; ipv6Route?: string; resolvConf?: string } = {},
): Pick<ProtectedAddresses, 'own' | 'gateways' | 'dnsServers'> {
  const own = Object.values(networkInterfaces())
    .flat()
    .filter((a) => a !== undefined)
    .map((a) => a.address.replace(/%.*$/, ''));
  const read = (path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return '';
    }
  };
  const gateways = [
    ...ipv4Gateways(read(files.route ?? '/proc/net/route')),
    ...ipv6Gateways(read(files.ipv6Route ?? '/proc/net/ipv6_route')),
  ];
  const dnsServers = read(files.resolvConf ?? '/etc/resolv.conf')
    .split('\n')
    .map((line) => /^\s*nameserver\s+(\S+)/.exec(line)?.[1]?.replace(/%.*$/, ''))
    .filter((a): a is string => a !== undefined && protectedSource(a) !== null);
  return { own: [...new Set(own)], gateways: [...new Set(gateways)], dnsServers: [...new Set(dnsServers)] };
}

/** Gateways of default routes in /proc/net/route (addresses in little-endian hex). */
function ipv4Gateways(table: string): string[] {
  const out: string[] = [];
  for (const line of table.split('\n').slice(1)) {
    const [, destination, gateway] = line.trim().split(/\s+/);
    if (destination !== '00000000' || gateway === undefined || gateway === '00000000') continue;
    const n = Number.parseInt(gateway, 16);
    out.push([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24].join('.'));
  }
  return out;
}

/** Gateways of default routes in /proc/net/ipv6_route (destination ::/0, next hop not ::). */
function ipv6Gateways(table: string): string[] {
  const out: string[] = [];
  for (const line of table.split('\n')) {
    const f = line.trim().split(/\s+/);
    const [destination, length, , , nextHop] = f;
    if (destination !== '0'.repeat(32) || length !== '00' || nextHop === undefined || /^0+$/.test(nextHop))
      continue;
    out.push(
      nextHop
        .match(/.{4}/g)!
        .join(':')
        .replace(/\b0{1,3}/g, ''),
    );
  }
  return out;
}

/**
 * A protected entry, read leniently: bits past the prefix length do not matter for an overlap
 * (a protected 10.20.1.0/16 still protects all of 10.20.0.0/16); what is no address is null.
 */
function protectedSource(text: string): Source | null {
  const [addr = '', len] = text.trim().split('/');
  try {
    const source = parseSource(addr);
    const bits = len === undefined ? source.len : Number(len);
    return Number.isInteger(bits) && bits >= 0 && bits <= source.len ? { ...source, len: bits } : null;
  } catch {
    return null;
  }
}

/** True when the two prefixes share any address (one holds the other's first address). */
export function overlaps(a: Source, b: Source): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const len = Math.min(a.len, b.len);
  const shift = BigInt(bits - len);
  return addressValue(a) >> shift === addressValue(b) >> shift;
}
