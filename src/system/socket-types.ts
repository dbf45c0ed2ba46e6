/**
 * Sockets of this host and the processes that own them (what `ss -tunap` shows), read from
 * /proc by socket-owners.ts. A socket may belong to no process FlowTrack can see (another
 * network namespace's, a kernel socket, or one closed between two reads): its owner is null.
 */

export interface SocketOwner {
  pid: number;
  /** /proc/PID/comm, e.g. "curl". */
  name: string;
  /** The user name of the process's real uid (its number as text when /etc/passwd has none). */
  user: string;
  uid: number;
  /** The command line, at most 256 characters. */
  command: string;
}

export type SocketProtocol = 'tcp' | 'udp';

export interface SocketEntry {
  protocol: SocketProtocol;
  /** 4 or 6 (an IPv4-mapped IPv6 address is given as IPv4, as in flows). */
  ipVersion: 4 | 6;
  localAddress: string;
  localPort: number;
  /** "0.0.0.0" / "::" and 0 for a listener or an unconnected UDP socket. */
  remoteAddress: string;
  remotePort: number;
  /** TCP state as `ss` names it (LISTEN, ESTAB, TIME-WAIT, ...); UNCONN for UDP without a peer. */
  state: string;
  inode: number;
  /**
   * The socket's owner uid as the kernel keeps it (the creator's), known even when no process
   * holding it is visible; `ss -e` shows it as uid:N.
   */
  uid: number;
  /** Every process holding the socket (a forked server shares its listener); empty when none seen. */
  owners: SocketOwner[];
}

/** One read of the host's sockets. */
export interface SocketSnapshot {
  /** Wall clock, epoch milliseconds. */
  at: number;
  /** TCP sockets in LISTEN and unconnected UDP sockets with a local port. */
  listening: SocketEntry[];
  /** TCP connections in any other state, and connected UDP sockets. */
  connections: SocketEntry[];
  /**
   * The host's own addresses in this network namespace, in the same text form: a flow to one of
   * them may belong to a wildcard listener (0.0.0.0 or ::); a flow to any other address may not.
   */
  localAddresses: string[];
}

/** The local process behind a flow seen on the wire (ConnectionOwnerCache.lookup). */
export interface ProcessMatch {
  /** The first of `owners` (the lowest pid: for a forked server, usually the parent). */
  owner: SocketOwner;
  /** Every process that held the socket when it was last seen. */
  owners: SocketOwner[];
  /** Which end of the flow is the local process: the client (it connected out) or the server. */
  side: 'client' | 'server';
  /** Found as the flow's own connection, or only as a listener on the server's (or the client's UDP) port. */
  via: 'connection' | 'listener';
}
