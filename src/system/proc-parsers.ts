/**
 * Pure parsers for the Linux /proc (and /etc/passwd) text the host probe reads, and the small
 * sums made from two reads of it. They never touch the file system and never throw: a line that
 * does not parse is skipped and the rest is returned, because one odd line from a kernel FlowTrack
 * was not tested on must not blank the whole health page.
 *
 * `scanPidStat` is the one hot path (it runs for every process, every interval): it reads the
 * fields it needs straight from the bytes, without building strings or arrays.
 */

import type { MemorySample } from './host-sample.js';

/** Cumulative CPU time of one cpu line of /proc/stat, in clock ticks. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

/** One core's line: `core` is N of `cpuN` (offline cores have no line, so it can skip numbers). */
export interface CoreTimes extends CpuTimes {
  core: number;
}

export interface ProcStat {
  /** The aggregate `cpu` line; null when missing or malformed. */
  total: CpuTimes | null;
  cores: CoreTimes[];
}

/** Busy and other shares of one interval, 0-100. */
export interface CpuShares {
  /** user + nice + system + irq + softirq + steal. */
  percent: number;
  /** user + nice. */
  user: number;
  /** system + irq + softirq, so that user + system + steal = percent. */
  system: number;
  iowait: number;
  steal: number;
}

/** One interface's totals from /proc/net/dev. */
export interface NetDevCounters {
  name: string;
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDrops: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDrops: number;
}

/** One block device's totals from /proc/diskstats. */
export interface DiskCounters {
  name: string;
  reads: number;
  /** 512-byte sectors, whatever the device's own sector size. */
  readSectors: number;
  writes: number;
  writeSectors: number;
  /** Milliseconds the device had I/O in flight. */
  ioTicksMs: number;
}

/** One line of /proc/self/mountinfo (escapes such as \040 decoded). */
export interface MountEntry {
  major: number;
  minor: number;
  /** The directory of the file system that is mounted (not "/" for a bind mount of a subtree). */
  root: string;
  mount: string;
  type: string;
  source: string;
}

/** What the probe needs of /proc/PID/stat, found by `scanPidStat` without decoding the name. */
export interface PidStatFields {
  /** Byte offsets of the name (comm) inside the buffer: [commStart, commEnd). */
  commStart: number;
  commEnd: number;
  /** utime + stime, clock ticks (children that were waited for are not included). */
  cpuTicks: number;
  /** When the process started, clock ticks after boot: tells a reused pid from the old process. */
  startTicks: number;
  rssPages: number;
}

/** /proc/PID/stat parsed, for tests and one-off reads. */
export interface PidStat {
  pid: number;
  name: string;
  cpuTicks: number;
  startTicks: number;
  rssPages: number;
}

/** The number a /proc counter field holds, NaN when it is not a plain non-negative number. */
function count(text: string | undefined): number {
  if (text === undefined || text === '') return NaN;
  const value = Number(text);
  return Number.isFinite(value) && value >= 0 ? value : NaN;
}

/** Whitespace-separated fields of one line. */
function fieldsOf(line: string): string[] {
  const trimmed = line.trim();
  return trimmed === '' ? [] : trimmed.split(/\s+/);
}

/** How much a kernel counter grew: 0 when it went down (wrapped, reset, device re-created). */
export function counterDelta(previous: number, current: number): number {
  return current > previous ? current - previous : 0;
}

/** `delta` per second over `seconds`; 0 for an empty interval. */
export function perSecond(delta: number, seconds: number): number {
  return seconds > 0 ? delta / seconds : 0;
}

function cpuTimesOf(fields: string[]): CpuTimes | null {
  // Kernels older than 2.6.11 have fewer columns: the missing ones are 0. Four are always there.
  const at = (i: number): number => {
    const text = fields[i];
    return text === undefined ? 0 : count(text);
  };
  const times: CpuTimes = {
    user: count(fields[1]),
    nice: count(fields[2]),
    system: count(fields[3]),
    idle: count(fields[4]),
    iowait: at(5),
    irq: at(6),
    softirq: at(7),
    steal: at(8),
  };
  return Object.values(times).every((v) => !Number.isNaN(v)) ? times : null;
}

/**
 * The cpu lines of /proc/stat. Guest time is left out on purpose: the kernel already counts it in
 * user (and guest_nice in nice), so adding it would count it twice.
 */
export function parseProcStat(text: string): ProcStat {
  const result: ProcStat = { total: null, cores: [] };
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // The cpu lines come first; the long intr and softirq lines after them are not needed.
    if (!text.startsWith('cpu', start)) {
      if (result.total !== null || result.cores.length > 0) break;
      start = end + 1;
      continue;
    }
    const fields = fieldsOf(text.slice(start, end));
    start = end + 1;
    const label = fields[0] ?? '';
    const times = cpuTimesOf(fields);
    if (times === null) continue;
    if (label === 'cpu') {
      result.total = times;
    } else {
      const core = count(label.slice(3));
      if (Number.isInteger(core)) result.cores.push({ core, ...times });
    }
  }
  return result;
}

/** The shares of the interval between two reads of the same cpu line. */
export function cpuShares(previous: CpuTimes, current: CpuTimes): CpuShares {
  // Each column on its own: iowait is known to step backwards on some kernels (it is an
  // estimate), and a backwards column must not cancel another column's forward time.
  const user = counterDelta(previous.user, current.user) + counterDelta(previous.nice, current.nice);
  const system =
    counterDelta(previous.system, current.system) +
    counterDelta(previous.irq, current.irq) +
    counterDelta(previous.softirq, current.softirq);
  const steal = counterDelta(previous.steal, current.steal);
  const iowait = counterDelta(previous.iowait, current.iowait);
  const idle = counterDelta(previous.idle, current.idle);
  const all = user + system + steal + iowait + idle;
  if (all === 0) return { percent: 0, user: 0, system: 0, iowait: 0, steal: 0 };
  const share = (ticks: number): number => (ticks * 100) / all;
  return {
    percent: share(user + system + steal),
    user: share(user),
    system: share(system),
    iowait: share(iowait),
    steal: share(steal),
  };
}

/**
 * Memory and swap from /proc/meminfo, as procps 4 `free` shows them: used = MemTotal -
 * MemAvailable. Kernels before 3.14 have no MemAvailable: then MemFree + Buffers + Cached.
 */
export function parseMeminfo(text: string): MemorySample {
  const kib = new Map<string, number>();
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const value = count(fieldsOf(line.slice(colon + 1))[0]);
    if (!Number.isNaN(value)) kib.set(line.slice(0, colon), value * 1024);
  }
  const get = (key: string): number => kib.get(key) ?? 0;
  const totalBytes = get('MemTotal');
  const reported = kib.get('MemAvailable');
  const availableBytes = Math.min(totalBytes, reported ?? get('MemFree') + get('Buffers') + get('Cached'));
  const usedBytes = totalBytes - availableBytes;
  const swapTotalBytes = get('SwapTotal');
  const swapUsedBytes = Math.max(0, swapTotalBytes - get('SwapFree'));
  return {
    totalBytes,
    usedBytes,
    availableBytes,
    percent: totalBytes > 0 ? (usedBytes * 100) / totalBytes : 0,
    swapTotalBytes,
    swapUsedBytes,
    swapPercent: swapTotalBytes > 0 ? (swapUsedBytes * 100) / swapTotalBytes : 0,
  };
}

/** The 1, 5 and 15 minute load averages of /proc/loadavg (0 for what does not parse). */
export function parseLoadavg(text: string): [number, number, number] {
  const [a, b, c] = fieldsOf(text).map((f) => count(f) || 0);
  return [a ?? 0, b ?? 0, c ?? 0];
}

/** Seconds since boot, the first field of /proc/uptime (0 when it does not parse). */
export function parseUptime(text: string): number {
  return count(fieldsOf(text)[0]) || 0;
}

/** Every interface of /proc/net/dev, loopback included. */
export function parseNetDev(text: string): NetDevCounters[] {
  const result: NetDevCounters[] = [];
  for (const line of text.split('\n')) {
    // The two header lines have a '|' and no colon before it; an interface line is "name: n n ...".
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    if (name === '' || name.includes('|')) continue;
    const f = fieldsOf(line.slice(colon + 1)).map(count);
    if (f.length < 12 || f.slice(0, 12).some(Number.isNaN)) continue;
    result.push({
      name,
      rxBytes: f[0]!,
      rxPackets: f[1]!,
      rxErrors: f[2]!,
      rxDrops: f[3]!,
      txBytes: f[8]!,
      txPackets: f[9]!,
      txErrors: f[10]!,
      txDrops: f[11]!,
    });
  }
  return result;
}

/** Every device of /proc/diskstats, partitions included (which are whole disks is not in it). */
export function parseDiskstats(text: string): DiskCounters[] {
  const result: DiskCounters[] = [];
  for (const line of text.split('\n')) {
    const f = fieldsOf(line);
    // major minor name, then at least the 11 fields every kernel since 2.6 has for every device.
    if (f.length < 14) continue;
    const name = f[2]!;
    const reads = count(f[3]);
    const readSectors = count(f[5]);
    const writes = count(f[7]);
    const writeSectors = count(f[9]);
    const ioTicksMs = count(f[12]);
    if ([reads, readSectors, writes, writeSectors, ioTicksMs].some(Number.isNaN)) continue;
    result.push({ name, reads, readSectors, writes, writeSectors, ioTicksMs });
  }
  return result;
}

/** A mountinfo path with the kernel's octal escapes (\040 space, \011 tab, \012, \134) decoded. */
function unescapeMountPath(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** Every mount of /proc/self/mountinfo, in its order (parents before what is mounted on them). */
export function parseMountinfo(text: string): MountEntry[] {
  const result: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    // id parent major:minor root mount options [optional fields...] - type source super-options
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f.length < dash + 3) continue;
    const [majorText, minorText] = (f[2] ?? '').split(':');
    const major = count(majorText);
    const minor = count(minorText);
    const root = f[3];
    const mount = f[4];
    if (Number.isNaN(major) || Number.isNaN(minor) || !root || !mount?.startsWith('/')) continue;
    result.push({
      major,
      minor,
      root: unescapeMountPath(root),
      mount: unescapeMountPath(mount),
      type: f[dash + 1]!,
      source: unescapeMountPath(f[dash + 2]!),
    });
  }
  return result;
}

/** File systems of the kernel's own making: no disk behind them, nothing for df to show. */
const PSEUDO_TYPES = new Set([
  'proc',
  'sysfs',
  'devpts',
  'devtmpfs',
  'cgroup',
  'cgroup2',
  'securityfs',
  'pstore',
  'bpf',
  'tracefs',
  'debugfs',
  'mqueue',
  'hugetlbfs',
  'configfs',
  'fusectl',
  'autofs',
  'binfmt_misc',
  'nsfs',
  'efivarfs',
  'selinuxfs',
  'rpc_pipefs',
  'ramfs',
]);

/**
 * File systems on the network or in a user-space daemon: statfs waits for the server or daemon,
 * and a hung NFS server would then hang the probe (and the event loop) with it.
 */
const REMOTE_TYPES = new Set([
  'nfs',
  'nfs4',
  'cifs',
  'smb3',
  'smbfs',
  'ceph',
  'glusterfs',
  'lustre',
  'afs',
  '9p',
  'fuse',
]);

/**
 * The mounts worth showing like `df` does: real file systems and tmpfs, each once. Left out:
 * pseudo file systems, network and FUSE ones (see REMOTE_TYPES; fuseblk, a FUSE driver of a local
 * disk, stays), squashfs images (read-only, always 100% full: snap's would raise "disk full" for
 * ever), and overlay except at "/" (a container's root; elsewhere they are the container
 * engine's layers, each repeating its host disk). A mount point mounted over keeps only its top
 * mount (the one statfs sees); a bind mount of the same device and directory is shown once, at
 * its shortest mount point.
 */
export function selectFileSystems(mounts: readonly MountEntry[]): MountEntry[] {
  const kept = mounts.filter(
    (m) =>
      !PSEUDO_TYPES.has(m.type) &&
      !REMOTE_TYPES.has(m.type) &&
      !m.type.startsWith('fuse.') &&
      m.type !== 'squashfs' &&
      (m.type !== 'overlay' || m.mount === '/'),
  );
  const topByMount = new Map<string, MountEntry>();
  for (const m of kept) {
    topByMount.delete(m.mount); // re-inserted at its new place: the later mount is on top
    topByMount.set(m.mount, m);
  }
  const byDevice = new Map<string, MountEntry>();
  for (const m of topByMount.values()) {
    const key = `${m.major}:${m.minor}:${m.root}`;
    const seen = byDevice.get(key);
    if (seen === undefined || m.mount.length < seen.mount.length) byDevice.set(key, m);
  }
  return [...byDevice.values()];
}

/**
 * df's Use%: used / (used + available to unprivileged users), in whole percent rounded up, so a
 * file system with one block used is never shown as 0% and a full one only at 100%.
 */
export function dfPercent(used: number, available: number): number {
  const total = used + available;
  if (!(total > 0) || !(used > 0)) return 0;
  const used100 = used * 100;
  return Math.floor(used100 / total) + (used100 % total !== 0 ? 1 : 0);
}

const CLOSE_PAREN = 0x29;
const OPEN_PAREN = 0x28;
const SPACE = 0x20;
const NEWLINE = 0x0a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

// Fields after the name, counted from 0 at the state letter (proc(5) numbers them from 1 at pid).
const UTIME = 11;
const STIME = 12;
const STARTTIME = 19;
const RSS = 21;

/**
 * Reads utime, stime, starttime and rss of /proc/PID/stat from `bytes[0, length)` into `out`;
 * false when the line is not one. The name is found by the LAST ')': a process can name itself
 * anything up to 15 bytes, spaces and parentheses included ("(a) b)"), but the kernel writes
 * nothing after the name that contains ')'.
 */
export function scanPidStat(bytes: Uint8Array, length: number, out: PidStatFields): boolean {
  const end = Math.min(length, bytes.length);
  let close = end - 1;
  while (close >= 0 && bytes[close] !== CLOSE_PAREN) close--;
  let open = 0;
  while (open < close && bytes[open] !== OPEN_PAREN) open++;
  if (close <= open) return false;
  let field = 0;
  let value = 0;
  let digits = 0;
  for (let i = close + 2; i <= end; i++) {
    const byte = i < end ? bytes[i]! : SPACE;
    const wanted = field === UTIME || field === STIME || field === STARTTIME || field === RSS;
    if (byte === SPACE || byte === NEWLINE) {
      if (wanted) {
        if (digits === 0) return false;
        if (field === UTIME) out.cpuTicks = value;
        else if (field === STIME) out.cpuTicks += value;
        else if (field === STARTTIME) out.startTicks = value;
        else {
          out.rssPages = value;
          out.commStart = open + 1;
          out.commEnd = close;
          return true;
        }
        value = 0;
        digits = 0;
      }
      field++;
    } else if (wanted) {
      if (byte < DIGIT_0 || byte > DIGIT_9) return false;
      value = value * 10 + (byte - DIGIT_0);
      digits++;
    }
  }
  return false;
}

/** /proc/PID/stat as text, for tests and one-off reads; null when it is not a stat line. */
export function parsePidStat(text: string): PidStat | null {
  const bytes = Buffer.from(text, 'utf8');
  const out: PidStatFields = { commStart: 0, commEnd: 0, cpuTicks: 0, startTicks: 0, rssPages: 0 };
  if (!scanPidStat(bytes, bytes.length, out)) return null;
  const pid = count(bytes.toString('latin1', 0, out.commStart - 1).trim());
  if (!Number.isInteger(pid)) return null;
  return {
    pid,
    name: bytes.toString('utf8', out.commStart, out.commEnd),
    cpuTicks: out.cpuTicks,
    startTicks: out.startTicks,
    rssPages: out.rssPages,
  };
}

/** The real uid of /proc/PID/status's `Uid:` line (real, effective, saved, fs); null if none. */
export function parseStatusUid(text: string): number | null {
  const at = text.startsWith('Uid:') ? 0 : text.indexOf('\nUid:') + 1;
  if (at === 0 && !text.startsWith('Uid:')) return null;
  const lineEnd = text.indexOf('\n', at);
  const uid = count(fieldsOf(text.slice(at + 4, lineEnd < 0 ? text.length : lineEnd))[0]);
  return Number.isInteger(uid) ? uid : null;
}

/** uid to user name from /etc/passwd; the first line for a uid wins, as getpwuid's does. */
export function parsePasswd(text: string): Map<number, string> {
  const users = new Map<number, string>();
  for (const line of text.split('\n')) {
    const [name, , uidText] = line.split(':');
    const uid = count(uidText);
    if (name && !name.startsWith('#') && Number.isInteger(uid) && !users.has(uid)) users.set(uid, name);
  }
  return users;
}
