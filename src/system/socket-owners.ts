/**
 * The host's TCP and UDP sockets and the processes holding them, as `ss -tunap` shows them, read
 * straight from procfs: the socket tables in /proc/net/{tcp,tcp6,udp,udp6} (this process's
 * network namespace) and, to name the processes, the descriptor links in /proc/PID/fd. The
 * ConnectionOwnerCache then remembers the owners for a while, to name the local process of a flow
 * that ended after its socket closed.
 *
 * Meant to run every few seconds on a busy server, so it must not walk every descriptor of every
 * process each time (20-45 ms of CPU for 100 processes and 700 descriptors on the development VM):
 * the tables are read each time, descriptor links only for sockets it cannot name yet, and each
 * process's descriptors in full about once a rescan interval, spread over the snapshots. All
 * reads are synchronous on purpose: thousands of tiny procfs reads cost far more CPU through the
 * thread pool than inline.
 *
 * It reads and never writes, and only what the running user may read: without root, other users'
 * processes stay unnamed (their sockets have no owners), as with `ss -p`. The text parsers are
 * pure and never throw on a malformed line; they skip it.
 */

import { readdirSync, readlinkSync, statSync } from 'node:fs';
import { endianness, networkInterfaces } from 'node:os';
import { formatIp, formatIpv4, formatIpv6, parseIp } from '../util/ip-address.js';
import { ProcFiles } from './proc-files.js';
import { parsePasswd, parsePidStat, parseStatusUid } from './proc-parsers.js';
import type {
  ProcessMatch,
  SocketEntry,
  SocketOwner,
  SocketProtocol,
  SocketSnapshot,
} from './socket-types.js';

/** One line of a /proc/net socket table: a SocketEntry before its owners are known. */
export type ProcNetSocket = Omit<SocketEntry, 'owners'>;

/** The longest command line kept for an owner. */
export const MAX_COMMAND_LENGTH = 256;

// Socket states by their number in include/net/tcp_states.h, named as `ss` prints them (its
// sstate_name table). 07 (TCP_CLOSE) is "UNCONN" for TCP too: an unconnected UDP socket is in it.
const STATE_NAMES: readonly string[] = [
  'UNKNOWN',
  'ESTAB',
  'SYN-SENT',
  'SYN-RECV',
  'FIN-WAIT-1',
  'FIN-WAIT-2',
  'TIME-WAIT',
  'UNCONN',
  'CLOSE-WAIT',
  'LAST-ACK',
  'LISTEN',
  'CLOSING',
];

// "  12: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 7480 1 ..."
// slot, local address:port, remote address:port, state, queues, timer, retransmits, uid, timeout, inode.
const SOCKET_LINE =
  /^\s*\d+:\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{8}|[0-9A-Fa-f]{32}):([0-9A-Fa-f]{4})\s+([0-9A-Fa-f]{2})\s+\S+\s+\S+\s+\S+\s+(\d+)\s+\d+\s+(\d+)(?:\s|$)/;

const HOST_IS_LITTLE_ENDIAN = endianness() === 'LE';

function swap32(n: number): number {
  return (((n & 0xff) << 24) | ((n & 0xff00) << 8) | ((n >>> 8) & 0xff00) | (n >>> 24)) >>> 0;
}

interface TableAddress {
  text: string;
  /** 4 also for an IPv4-mapped IPv6 address. */
  version: 4 | 6;
  /** All zeros: the wildcard or "no peer". */
  zero: boolean;
}

/**
 * The kernel prints each 32-bit word of the address (already in network order in memory) with
 * %08X, so the hex digits are the word as the CPU reads it: byte-swapped on a little-endian host.
 */
function decodeTableAddress(hex: string, littleEndian: boolean): TableAddress {
  const word = (i: number): number => {
    const n = parseInt(hex.slice(i * 8, i * 8 + 8), 16) >>> 0;
    return littleEndian ? swap32(n) : n;
  };
  if (hex.length === 8) {
    const n = word(0);
    return { text: formatIpv4(n), version: 4, zero: n === 0 };
  }
  const words = [word(0), word(1), word(2), word(3)];
  if (words[0] === 0 && words[1] === 0 && words[2] === 0xffff) {
    // A dual-stack socket talking IPv4: the wire (and so the flow) carries plain IPv4.
    return { text: formatIpv4(words[3]!), version: 4, zero: false };
  }
  return { text: formatIpv6(words), version: 6, zero: words.every((w) => w === 0) };
}

/**
 * The sockets in the text of /proc/net/tcp, tcp6, udp or udp6. Addresses are formatted as flows
 * format them (dotted quad, RFC 5952); an IPv4-mapped IPv6 socket is given as IPv4, with "0.0.0.0"
 * for its empty peer. Lines that do not parse, or whose addresses are not of `ipVersion`'s size, are
 * skipped. `littleEndian` is the byte order of the host that wrote the text.
 */
export function parseProcNetSockets(
  text: string,
  protocol: SocketProtocol,
  ipVersion: 4 | 6,
  littleEndian = HOST_IS_LITTLE_ENDIAN,
): ProcNetSocket[] {
  const hexLength = ipVersion === 4 ? 8 : 32;
  // Most sockets share a few local addresses: decode each hex form once per table.
  const decoded = new Map<string, TableAddress>();
  const decode = (hex: string): TableAddress => {
    let address = decoded.get(hex);
    if (address === undefined) {
      address = decodeTableAddress(hex, littleEndian);
      decoded.set(hex, address);
    }
    return address;
  };
  const sockets: ProcNetSocket[] = [];
  for (const line of text.split('\n')) {
    const m = SOCKET_LINE.exec(line);
    if (m === null) continue;
    const [, localHex, localPort, remoteHex, remotePort, state, uid, inode] = m;
    if (localHex!.length !== hexLength || remoteHex!.length !== hexLength) continue;
    const local = decode(localHex!);
    const remote = decode(remoteHex!);
    const version = local.version === 4 || (remote.version === 4 && !remote.zero) ? 4 : 6;
    sockets.push({
      protocol,
      ipVersion: version,
      localAddress: local.text,
      localPort: parseInt(localPort!, 16),
      remoteAddress: version === 4 && remote.zero ? '0.0.0.0' : remote.text,
      remotePort: parseInt(remotePort!, 16),
      state: STATE_NAMES[parseInt(state!, 16)] ?? 'UNKNOWN',
      inode: Number(inode),
      uid: Number(uid),
    });
  }
  return sockets;
}

/** True for the sockets a snapshot lists as `listening`: TCP in LISTEN, UDP without a peer. */
export function isListeningSocket(socket: Pick<SocketEntry, 'protocol' | 'state'>): boolean {
  return socket.protocol === 'tcp' ? socket.state === 'LISTEN' : socket.state !== 'ESTAB';
}

/** The inode of a /proc/PID/fd link's target "socket:[12345]", or null for anything else. */
export function socketInodeOfLink(target: string): number | null {
  if (!target.startsWith('socket:[') || !target.endsWith(']')) return null;
  const digits = target.slice(8, -1);
  return /^\d+$/.test(digits) ? Number(digits) : null;
}

/** /proc/PID/cmdline as one line: its NUL-separated arguments joined by spaces, at most 256 characters. */
export function formatCommandLine(raw: string): string {
  return raw.replaceAll('\0', ' ').trimEnd().slice(0, MAX_COMMAND_LENGTH);
}

/** Options of SocketOwners; every one has a default for the real host. */
export interface SocketOwnersOptions {
  /** Where procfs is mounted (default /proc); tests point it at a fake tree. */
  procRoot?: string;
  /** The user database that names uids (default /etc/passwd). */
  passwdFile?: string;
  /** Wall clock in epoch milliseconds, for `at` and the rescan schedule. */
  now?: () => number;
  /**
   * Every process's descriptor table is read again in full at least this often (default 60 s),
   * a share of the processes at each snapshot. Between those reads a process that only passes on
   * or closes a socket it shares with another may still be listed as an owner of it.
   */
  rescanIntervalMs?: number;
  /** The host's addresses (default: every interface's, from os.networkInterfaces()). */
  localAddresses?: () => string[];
}

/** How much procfs work the snapshots have done so far: for benchmarks, tests and a health page. */
export interface SocketOwnersStats {
  snapshots: number;
  /** Descriptor directories (/proc/PID/fd) listed. */
  fdTablesRead: number;
  /** Descriptor links read (readlink of /proc/PID/fd/N). */
  linksRead: number;
}

interface ProcState {
  /** Field 22 of /proc/PID/stat; -1 until read. Another value means the pid was reused. */
  startTime: number;
  comm: string;
  /** fd -> socket inode, for sockets of every family: which are TCP or UDP only the tables say. */
  sockets: Map<number, number>;
  /** The snapshot round of the last read of its descriptors, in part or in full; 0: never. */
  round: number;
  /**
   * When its descriptors were last all read, or when it was first seen: a new process is read
   * when a search needs it, else one interval after it appeared (most never live that long).
   */
  readAt: number;
  /** The round in which it last turned out to hold a listed socket it was not known to hold. */
  gainedRound: number;
  /** Read when it is first reported as an owner; undefined: not yet; null: it could not be read. */
  owner: SocketOwner | null | undefined;
}

const TABLES: readonly { file: string; protocol: SocketProtocol; ipVersion: 4 | 6 }[] = [
  { file: 'tcp', protocol: 'tcp', ipVersion: 4 },
  { file: 'tcp6', protocol: 'tcp', ipVersion: 6 },
  { file: 'udp', protocol: 'udp', ipVersion: 4 },
  { file: 'udp6', protocol: 'udp', ipVersion: 6 },
];

/**
 * Reads the host's sockets and names the processes that hold them. One instance keeps its cache
 * of processes and descriptors from one snapshot to the next: create it once.
 */
export class SocketOwners {
  /** Work done so far (see SocketOwnersStats). */
  readonly stats: SocketOwnersStats = { snapshots: 0, fdTablesRead: 0, linksRead: 0 };

  private readonly procRoot: string;
  private readonly passwdFile: string;
  private readonly now: () => number;
  private readonly rescanIntervalMs: number;
  private readonly localAddresses: () => string[];
  private readonly procs = new Map<number, ProcState>();
  /** Socket inode -> the pids known to hold it. */
  private readonly holders = new Map<number, Set<number>>();
  /** Listed sockets that a search of every process found no holder for (kernel sockets, hidden pids). */
  private readonly ownerless = new Set<number>();
  /** Listed sockets the last snapshot's cheap search did not find a holder for. */
  private pending = new Set<number>();
  private readonly files = new ProcFiles();
  private round = 0;
  private lastAt: number | null = null;
  private users: Map<number, string> | null = null;
  private passwdMtimeMs = -1;

  constructor(options: SocketOwnersOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.passwdFile = options.passwdFile ?? '/etc/passwd';
    this.now = options.now ?? Date.now;
    this.rescanIntervalMs = options.rescanIntervalMs ?? 60_000;
    this.localAddresses = options.localAddresses ?? interfaceAddresses;
  }

  /**
   * Reads the sockets now. The first call reads every process's descriptors (tens of ms on a
   * busy host); later ones only what changed, plus a share of the rescan.
   */
  snapshot(): SocketSnapshot {
    const at = this.now();
    this.round++;
    this.stats.snapshots++;
    const sockets = this.readTables();
    const present = new Set<number>();
    for (const socket of sockets) if (socket.inode !== 0) present.add(socket.inode);
    this.syncProcesses(at);
    if (this.round === 1) {
      // Nothing is known yet: read everything once, so shared sockets get all their holders.
      for (const [pid, state] of [...this.procs]) this.scan(pid, state, present, true, at);
    } else {
      this.rescanDue(at, present);
    }
    for (const inode of this.ownerless) {
      if (!present.has(inode) || this.holders.has(inode)) this.ownerless.delete(inode);
    }
    this.search(present, at);
    this.lastAt = at;

    const listening: SocketEntry[] = [];
    const connections: SocketEntry[] = [];
    for (const socket of sockets) {
      const entry: SocketEntry = { ...socket, owners: this.ownersOf(socket.inode) };
      (isListeningSocket(socket) ? listening : connections).push(entry);
    }
    return { at, listening, connections, localAddresses: this.localAddresses() };
  }

  private readTables(): ProcNetSocket[] {
    const sockets: ProcNetSocket[] = [];
    for (const table of TABLES) {
      const text = this.files.readText(`${this.procRoot}/net/${table.file}`, {
        encoding: 'latin1',
        seqFile: true,
      });
      // A table is absent when its protocol is (IPv6 disabled at boot): no sockets of it, then.
      if (text !== null) sockets.push(...parseProcNetSockets(text, table.protocol, table.ipVersion));
    }
    return sockets;
  }

  /** A small procfs file (stat, status, comm, cmdline), at most 4 KiB of it; null when unreadable. */
  private readSmall(path: string, encoding: 'latin1' | 'utf8' = 'latin1'): string | null {
    return this.files.readSmallText(path, encoding);
  }

  /** Forgets processes that have exited and adds new ones, unread, from the pid directories. */
  private syncProcesses(at: number): void {
    const alive = new Set<number>();
    let names: string[];
    try {
      names = readdirSync(this.procRoot);
    } catch {
      names = [];
    }
    for (const name of names) {
      const c = name.charCodeAt(0);
      if (c < 48 || c > 57 || !/^\d+$/.test(name)) continue;
      const pid = Number(name);
      alive.add(pid);
      if (!this.procs.has(pid)) this.procs.set(pid, newProcState(at));
    }
    for (const pid of this.procs.keys()) if (!alive.has(pid)) this.forget(pid);
  }

  /**
   * Reads the descriptors of `pid`. A quick read (`full` false) skips the descriptors last seen as
   * a socket that is still listed: the number cannot have been reused while the socket is open,
   * unless another process holds it too. Returns true when it skipped any.
   */
  private scan(
    pid: number,
    state: ProcState,
    present: ReadonlySet<number>,
    full: boolean,
    at: number,
    missing?: Set<number>,
  ): boolean {
    const dir = `${this.procRoot}/${pid}`;
    const stat = parsePidStat(this.readSmall(`${dir}/stat`) ?? '');
    if (stat === null) {
      this.forget(pid);
      return false;
    }
    if (state.startTime !== -1 && state.startTime !== stat.startTicks) {
      // The pid was reused: another process, none of the old one's descriptors.
      this.setSockets(pid, state, new Map(), present, missing);
      state.owner = undefined;
    }
    state.startTime = stat.startTicks;
    if (state.comm !== stat.name) {
      // Renamed or, more often, exec'd since last read: its details are stale.
      state.comm = stat.name;
      state.owner = undefined;
    }
    let fds: string[];
    try {
      fds = readdirSync(`${dir}/fd`);
    } catch {
      // Exited meanwhile, or not ours to read (another user's, without root).
      fds = [];
    }
    this.stats.fdTablesRead++;
    const sockets = new Map<number, number>();
    let skipped = false;
    for (const name of fds) {
      const fd = Number(name);
      const known = state.sockets.get(fd);
      if (!full && known !== undefined && present.has(known)) {
        sockets.set(fd, known);
        skipped = true;
        continue;
      }
      let target: string;
      try {
        this.stats.linksRead++;
        target = readlinkSync(`${dir}/fd/${name}`);
      } catch {
        continue;
      }
      const inode = socketInodeOfLink(target);
      if (inode !== null) sockets.set(fd, inode);
    }
    this.setSockets(pid, state, sockets, present, missing);
    state.round = this.round;
    if (!skipped) {
      state.readAt = at;
      // Its details are read again when next reported: a command line can change (setproctitle).
      state.owner = undefined;
      // Keep the map in order of the last full read, so the rescan finds the oldest first.
      this.procs.delete(pid);
      this.procs.set(pid, state);
    }
    return skipped;
  }

  private setSockets(
    pid: number,
    state: ProcState,
    sockets: Map<number, number>,
    present: ReadonlySet<number>,
    missing?: Set<number>,
  ): void {
    const before = new Set(state.sockets.values());
    const after = new Set(sockets.values());
    for (const inode of before) {
      if (after.has(inode)) continue;
      const pids = this.holders.get(inode);
      pids?.delete(pid);
      if (pids?.size === 0) this.holders.delete(inode);
    }
    for (const inode of after) {
      if (before.has(inode)) continue;
      let pids = this.holders.get(inode);
      if (pids === undefined) {
        pids = new Set();
        this.holders.set(inode, pids);
      }
      pids.add(pid);
      if (present.has(inode)) state.gainedRound = this.round;
      missing?.delete(inode);
    }
    state.sockets = sockets;
  }

  private forget(pid: number): void {
    const state = this.procs.get(pid);
    if (state === undefined) return;
    this.setSockets(pid, state, new Map(), new Set());
    this.procs.delete(pid);
  }

  /**
   * Reads in full the processes whose last full read is older than the rescan interval, as many
   * as keeps the whole set within it (the map is in order of last full read, oldest first).
   */
  private rescanDue(at: number, present: ReadonlySet<number>): void {
    const elapsed = Math.min(Math.max(at - (this.lastAt ?? at), 0), this.rescanIntervalMs);
    const quota = Math.ceil((this.procs.size * elapsed) / this.rescanIntervalMs);
    const due: [number, ProcState][] = [];
    for (const entry of this.procs) {
      if (due.length >= quota) break;
      if (entry[1].readAt <= at - this.rescanIntervalMs) due.push(entry);
    }
    for (const [pid, state] of due) this.scan(pid, state, present, true, at);
  }

  /**
   * Finds the holders of listed sockets no process is known to hold. First, cheaply, in the
   * processes never read (new since the last search; forked together, they may share the socket)
   * and in those that have held listed sockets, latest first (servers accepting connections).
   * What that misses is most often a socket that closed after the tables were read, which no walk
   * would find: only a socket still missing at the next snapshot is looked for in every other
   * process, quick reads first, then full ones. What no process holds is not looked for again.
   */
  private search(present: ReadonlySet<number>, at: number): void {
    const missing = new Set<number>();
    for (const inode of present) {
      if (!this.holders.has(inode) && !this.ownerless.has(inode)) missing.add(inode);
    }
    const wasPending = this.pending;
    this.pending = new Set();
    if (missing.size === 0) return;
    if (this.round === 1) {
      // The first snapshot has read every process already.
      for (const inode of missing) this.ownerless.add(inode);
      return;
    }
    const partlyRead: [number, ProcState][] = [];
    const read = (candidates: [number, ProcState][], wanted: Set<number>): boolean => {
      for (const [pid, state] of candidates) {
        if (state.round === this.round || this.procs.get(pid) !== state) continue;
        if (this.scan(pid, state, present, false, at, missing)) partlyRead.push([pid, state]);
        for (const inode of wanted) if (!missing.has(inode)) wanted.delete(inode);
        if (wanted.size === 0) return true;
      }
      return false;
    };
    const unread = [...this.procs].filter(([, state]) => state.round === 0);
    const likely = [...this.procs]
      .filter(([, state]) => state.gainedRound > 0)
      .sort((a, b) => b[1].gainedRound - a[1].gainedRound);
    if (read(unread, missing) || read(likely, missing)) return;

    const overdue = new Set([...missing].filter((inode) => wasPending.has(inode)));
    for (const inode of missing) if (!overdue.has(inode)) this.pending.add(inode);
    if (overdue.size === 0) return;
    if (read([...this.procs], overdue)) return;
    for (const [pid, state] of partlyRead) {
      if (this.procs.get(pid) !== state) continue;
      this.scan(pid, state, present, true, at, missing);
      for (const inode of overdue) if (!missing.has(inode)) overdue.delete(inode);
      if (overdue.size === 0) return;
    }
    for (const inode of overdue) this.ownerless.add(inode);
  }

  private ownersOf(inode: number): SocketOwner[] {
    if (inode === 0) return [];
    const pids = this.holders.get(inode);
    if (pids === undefined) return [];
    const owners: SocketOwner[] = [];
    for (const pid of pids) {
      const owner = this.ownerDetails(pid);
      if (owner !== null) owners.push(owner);
    }
    if (owners.length > 1) owners.sort((a, b) => a.pid - b.pid);
    return owners;
  }

  private ownerDetails(pid: number): SocketOwner | null {
    const state = this.procs.get(pid);
    if (state === undefined) return null;
    if (state.owner === undefined) {
      const dir = `${this.procRoot}/${pid}`;
      const comm = this.readSmall(`${dir}/comm`, 'utf8');
      const uid = parseStatusUid(this.readSmall(`${dir}/status`) ?? '');
      const cmdline = this.readSmall(`${dir}/cmdline`, 'utf8');
      state.owner =
        comm === null || uid === null
          ? null
          : {
              pid,
              name: comm.replace(/\n$/, ''),
              user: this.userName(uid),
              uid,
              command: formatCommandLine(cmdline ?? ''),
            };
    }
    return state.owner;
  }

  /** The name of `uid`; /etc/passwd is parsed once, and again only when a uid is missing and the file changed. */
  private userName(uid: number): string {
    let name = this.users?.get(uid);
    if (name === undefined) {
      let mtimeMs = -2;
      try {
        mtimeMs = statSync(this.passwdFile).mtimeMs;
      } catch {
        // no user database: numbers it is
      }
      if (this.users === null || mtimeMs !== this.passwdMtimeMs) {
        this.passwdMtimeMs = mtimeMs;
        const text = mtimeMs === -2 ? null : this.files.readText(this.passwdFile);
        this.users = text === null ? new Map() : parsePasswd(text);
        name = this.users.get(uid);
      }
    }
    return name ?? String(uid);
  }
}

function newProcState(at: number): ProcState {
  return {
    startTime: -1,
    comm: '',
    sockets: new Map(),
    round: 0,
    readAt: at,
    gainedRound: 0,
    owner: undefined,
  };
}

/** Every interface address of this network namespace, in formatIp's text form. */
function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) {
      const parsed = parseIp(info.address.split('%')[0]!);
      if (parsed !== null) out.push(formatIp(parsed.version, parsed.words));
    }
  }
  return out;
}

/** A flow as seen on the wire; the client is the side that spoke first. */
export interface FlowTuple {
  protocol: string;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
}

/** Options of ConnectionOwnerCache. */
export interface ConnectionOwnerCacheOptions {
  /** How long an owner is kept after its socket was last seen (default 10 minutes). */
  ttlMs?: number;
  /** At most this many sockets are remembered (default 65,536); the least recently seen go first. */
  maxEntries?: number;
  /** Wall clock in epoch milliseconds, compared with the snapshots' `at`. */
  now?: () => number;
}

interface RememberedOwners {
  owners: SocketOwner[];
  seenAt: number;
}

/**
 * Remembers which process owned each connection for a while after it closed, to name the process
 * of a flow that ended later. Addresses are compared as text, so they must be in formatIp's form
 * (as flows and snapshots give them).
 */
export class ConnectionOwnerCache {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Connection and listener keys -> owners, in order of last sighting (oldest first). */
  private readonly entries = new Map<string, RememberedOwners>();
  private localAddresses = new Set<string>();

  constructor(options: ConnectionOwnerCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 65_536);
    this.now = options.now ?? Date.now;
  }

  /** Sockets remembered now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Adds a snapshot's connections and listeners. A socket seen without owners (TIME-WAIT, or one
   * whose process just exited) keeps the owners it was last seen with.
   */
  add(snapshot: SocketSnapshot): void {
    for (const c of snapshot.connections) {
      this.remember(
        connectionKey(c.protocol, c.localAddress, c.localPort, c.remoteAddress, c.remotePort),
        c.owners,
        snapshot.at,
      );
    }
    for (const l of snapshot.listening) {
      this.remember(listenerKey(l.protocol, l.localAddress, l.localPort), l.owners, snapshot.at);
    }
    this.localAddresses = new Set(snapshot.localAddresses);
    const oldest = this.now() - this.ttlMs;
    for (const [key, entry] of this.entries) {
      if (entry.seenAt >= oldest && this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }

  /**
   * The process behind a flow seen on the wire: its connection with the client local (an outgoing
   * connection) or the server local (an accepted one); failing that, a listener on the server's
   * address and port, or on a wildcard address if the server's address is this host's; for UDP,
   * last, an unconnected socket on the client's address and port (a client that sends with
   * sendto). Null when no local process is known.
   */
  lookup(flow: FlowTuple): ProcessMatch | null {
    const { protocol, srcAddr, srcPort, dstAddr, dstPort } = flow;
    const client = this.get(connectionKey(protocol, srcAddr, srcPort, dstAddr, dstPort));
    if (client) return match(client, 'client', 'connection');
    const server = this.get(connectionKey(protocol, dstAddr, dstPort, srcAddr, srcPort));
    if (server) return match(server, 'server', 'connection');
    const listener = this.listener(protocol, dstAddr, dstPort);
    if (listener) return match(listener, 'server', 'listener');
    if (protocol === 'udp') {
      const sender = this.listener(protocol, srcAddr, srcPort);
      if (sender) return match(sender, 'client', 'listener');
    }
    return null;
  }

  private listener(protocol: string, address: string, port: number): RememberedOwners | undefined {
    const exact = this.get(listenerKey(protocol, address, port));
    if (exact || !this.isLocal(address)) return exact;
    const v4 = !address.includes(':');
    // On Linux a socket on :: takes IPv4 too unless it set IPV6_V6ONLY.
    return (
      (v4 ? this.get(listenerKey(protocol, '0.0.0.0', port)) : undefined) ??
      this.get(listenerKey(protocol, '::', port))
    );
  }

  private isLocal(address: string): boolean {
    return this.localAddresses.has(address) || address.startsWith('127.') || address === '::1';
  }

  private remember(key: string, owners: SocketOwner[], seenAt: number): void {
    const known = this.entries.get(key);
    if (known === undefined && owners.length === 0) return;
    this.entries.delete(key);
    this.entries.set(key, { owners: owners.length > 0 ? owners : known!.owners, seenAt });
  }

  private get(key: string): RememberedOwners | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.seenAt < this.now() - this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}

function connectionKey(
  protocol: string,
  localAddress: string,
  localPort: number,
  remoteAddress: string,
  remotePort: number,
): string {
  return `${protocol} ${localAddress} ${localPort} ${remoteAddress} ${remotePort}`;
}

function listenerKey(protocol: string, address: string, port: number): string {
  return `${protocol} ${address} ${port}`;
}

function match(entry: RememberedOwners, side: ProcessMatch['side'], via: ProcessMatch['via']): ProcessMatch {
  return { owner: entry.owners[0]!, owners: entry.owners, side, via };
}
