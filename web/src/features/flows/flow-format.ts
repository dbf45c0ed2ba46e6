/**
 * How the flow and host pages write flows: times (local, to the second), durations, endpoints
 * with their ports, byte counts, and the host page's path of an address. Pure.
 */

import { formatTimestamp } from '../../lib/format';

/** Protocols whose flows have ports; the store keeps 0 for the others (icmp, gre, esp...). */
const PORTED = new Set(['tcp', 'udp', 'sctp']);

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Epoch µs as local "2023-11-14 22:13:20". */
export function formatTime(us: number): string {
  return formatTimestamp(Math.floor(us / 1000));
}

/** Epoch µs as ISO 8601, for <time dateTime>. */
export function isoTime(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** A length of time in µs, to the two largest units that matter: "850 ms", "4 m 05 s", "2 d 3 h". */
export function formatDuration(us: number): string {
  if (!Number.isFinite(us) || us < 0) return '–';
  if (us < 1000) return us === 0 ? '0 s' : '< 1 ms';
  const ms = us / 1000;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)} s`;
  const whole = Math.round(s);
  const [d, h, m, sec] = [
    Math.floor(whole / 86_400),
    Math.floor(whole / 3600) % 24,
    Math.floor(whole / 60) % 60,
    whole % 60,
  ];
  if (d > 0) return `${d} d ${h} h`;
  if (h > 0) return `${h} h ${pad(m)} m`;
  return `${m} m ${pad(sec)} s`;
}

/** Whether a flow of `protocol` has ports worth showing. */
export function hasPorts(protocol: string): boolean {
  return PORTED.has(protocol);
}

/**
 * An endpoint as "192.0.2.1:443" or "[2001:db8::1]:443" (RFC 3986 brackets, so the port is not
 * read as part of the address); the address alone for protocols without ports.
 */
export function formatEndpoint(address: string, port: number, protocol: string): string {
  if (!hasPorts(protocol)) return address;
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The host page of `address`; colons stay readable (a path segment may hold them). */
export function hostPath(address: string): string {
  return `/hosts/${encodeURIComponent(address).replace(/%3A/gi, ':')}`;
}

/** The alert page of an alert id. */
export function alertPath(id: string): string {
  return `/alerts/${encodeURIComponent(id)}`;
}
