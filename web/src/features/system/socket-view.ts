/**
 * How the System page lists the host's sockets (as `ss -tunap` would): endpoints as text, the
 * processes behind each, a text filter over all of it, and the order and number of rows shown.
 * Pure.
 */

import type { SocketEntry, SocketOwner } from './system-types';

/** Rows a socket table shows at most; the filter narrows the rest down. */
export const SOCKET_ROW_LIMIT = 200;

/** "192.0.2.1:22", "[::]:22", "0.0.0.0:*" (port 0: any, as ss writes it). */
export function endpointText(address: string, port: number): string {
  const host = address.includes(':') ? `[${address}]` : address;
  return `${host}:${port === 0 ? '*' : port}`;
}

/** The processes holding a socket, once each by name: "nginx", "sshd, sshd-session". */
export function ownerNames(owners: readonly SocketOwner[]): string {
  return [...new Set(owners.map((o) => o.name))].join(', ');
}

/** Their pids: "812", or "812, 813, 814 +5" past three (a forked server's workers). */
export function ownerPids(owners: readonly SocketOwner[]): string {
  const pids = owners.map((o) => String(o.pid));
  return pids.length <= 3 ? pids.join(', ') : `${pids.slice(0, 3).join(', ')} +${pids.length - 3}`;
}

/** Their users, once each; the socket's uid when no process is seen. */
export function ownerUsers(entry: SocketEntry): string {
  if (entry.owners.length === 0) return `uid ${entry.uid}`;
  return [...new Set(entry.owners.map((o) => o.user))].join(', ');
}

/** Every command line, one a line: a row's tooltip. */
export function ownerCommands(owners: readonly SocketOwner[]): string {
  return owners.map((o) => `${o.pid}: ${o.command}`).join('\n');
}

/** The text a filter looks in: protocol, endpoints, state, and each process's name, pid and user. */
function searchText(entry: SocketEntry): string {
  return [
    entry.protocol,
    endpointText(entry.localAddress, entry.localPort),
    endpointText(entry.remoteAddress, entry.remotePort),
    entry.state,
    ...entry.owners.flatMap((o) => [o.name, String(o.pid), o.user]),
    entry.owners.length === 0 ? `uid ${entry.uid}` : '',
  ]
    .join(' ')
    .toLowerCase();
}

/**
 * The entries matching every word of `text` (case aside), each anywhere: "tcp 443", "nginx",
 * ":22", "alice estab". An empty filter keeps them all.
 */
export function filterSockets(entries: readonly SocketEntry[], text: string): SocketEntry[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return [...entries];
  return entries.filter((entry) => {
    const haystack = searchText(entry);
    return words.every((w) => haystack.includes(w));
  });
}

/** Listeners by port, then protocol, IPv4 before IPv6, and address: a service's sockets side by side. */
export function sortListening(entries: readonly SocketEntry[]): SocketEntry[] {
  return [...entries].sort(
    (a, b) =>
      a.localPort - b.localPort ||
      a.protocol.localeCompare(b.protocol) ||
      a.ipVersion - b.ipVersion ||
      a.localAddress.localeCompare(b.localAddress),
  );
}

/** Connections by state (established first), then by local port. */
export function sortConnections(entries: readonly SocketEntry[]): SocketEntry[] {
  const rank = (state: string): number => (state === 'ESTAB' ? 0 : 1);
  return [...entries].sort(
    (a, b) =>
      rank(a.state) - rank(b.state) ||
      a.state.localeCompare(b.state) ||
      a.localPort - b.localPort ||
      a.remoteAddress.localeCompare(b.remoteAddress),
  );
}
