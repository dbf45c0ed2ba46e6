/**
 * The host's network interfaces as `flowtrack interfaces` lists them and as live capture picks its
 * default: the interface of the default route. Read from Linux's /proc and /sys (no tool to run);
 * it only reads, and a file it cannot read leaves its field empty instead of failing.
 */

import { readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';

export interface NetworkInterface {
  name: string;
  /** The kernel's operational state: up, down, unknown (loopback and tunnels say unknown), ... */
  state: string;
  loopback: boolean;
  mtu: number | null;
  mac: string | null;
  addresses: string[];
  rxBytes: number | null;
  txBytes: number | null;
  /** True for the interface of the IPv4 (else IPv6) default route. */
  defaultRoute: boolean;
}

/** Where the kernel describes its interfaces; tests point it elsewhere. */
export interface InterfaceSources {
  sysClassNet: string;
  procNetRoute: string;
  procNetIpv6Route: string;
}

const LINUX: InterfaceSources = {
  sysClassNet: '/sys/class/net',
  procNetRoute: '/proc/net/route',
  procNetIpv6Route: '/proc/net/ipv6_route',
};

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return null;
  }
}

function readNumber(path: string): number | null {
  const text = readText(path);
  return text === null || !/^\d+$/.test(text) ? null : Number(text);
}

/**
 * The interface of the default route: IPv4's (destination and mask 0 in /proc/net/route), else
 * IPv6's (::/0 in /proc/net/ipv6_route); null when the host has none.
 */
export function defaultRouteInterface(sources: InterfaceSources = LINUX): string | null {
  const v4 = readText(sources.procNetRoute);
  for (const line of v4?.split('\n').slice(1) ?? []) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface && destination === '00000000' && mask === '00000000') return iface;
  }
  const v6 = readText(sources.procNetIpv6Route);
  for (const line of v6?.split('\n') ?? []) {
    const fields = line.trim().split(/\s+/);
    const iface = fields[9];
    if (fields[0] === '0'.repeat(32) && fields[1] === '00' && iface && iface !== 'lo') return iface;
  }
  return null;
}

/** Every interface the kernel has, the default route's first, then by name. */
export function listInterfaces(sources: InterfaceSources = LINUX): NetworkInterface[] {
  let names: string[];
  try {
    names = readdirSync(sources.sysClassNet);
  } catch {
    names = Object.keys(networkInterfaces());
  }
  const addresses = networkInterfaces();
  const defaultName = defaultRouteInterface(sources);
  const list = names.map((name): NetworkInterface => {
    const dir = join(sources.sysClassNet, name);
    const type = readNumber(join(dir, 'type'));
    return {
      name,
      state: readText(join(dir, 'operstate')) ?? 'unknown',
      // ARPHRD_LOOPBACK is 772.
      loopback: type === 772 || name === 'lo',
      mtu: readNumber(join(dir, 'mtu')),
      mac: readText(join(dir, 'address')) || null,
      addresses: (addresses[name] ?? []).map((a) => a.cidr ?? a.address),
      rxBytes: readNumber(join(dir, 'statistics', 'rx_bytes')),
      txBytes: readNumber(join(dir, 'statistics', 'tx_bytes')),
      defaultRoute: name === defaultName,
    };
  });
  return list.sort((a, b) => Number(b.defaultRoute) - Number(a.defaultRoute) || a.name.localeCompare(b.name));
}

/**
 * The interface live capture uses when none is configured: the default route's, else the first
 * one that is up and not loopback, else `any` (every interface).
 */
export function defaultCaptureInterface(sources: InterfaceSources = LINUX): string {
  const fromRoute = defaultRouteInterface(sources);
  if (fromRoute !== null) return fromRoute;
  const up = listInterfaces(sources).find((i) => !i.loopback && i.state === 'up');
  return up?.name ?? 'any';
}
