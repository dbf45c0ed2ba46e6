/**
 * The host probe: one HostSample (host-sample.ts) per call, read straight from Linux's /proc and
 * /sys and from statfs, with rates and shares over the interval since the previous call.
 *
 * It must stay cheap enough to run every 2 seconds for ever (well under 2% of one core), so it
 * never spawns a tool (the systeminformation package runs ps and df per call: on a 2-core VM ps
 * alone took 12 ms of CPU and df 3 ms, against about 3 ms for this whole sample with 100
 * processes), reads with synchronous calls into reused buffers, and walks the processes without
 * building strings for any but the busiest. It only reads: a file it cannot read leaves its part
 * of the sample empty rather than failing.
 *
 * Percentages and per-second rates are rounded to two decimals (samples are stored as JSON);
 * counters and sizes are exact.
 */

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statfsSync } from 'node:fs';
import { hostname } from 'node:os';
import { performance } from 'node:perf_hooks';
import type {
  CpuSample,
  DiskIoSample,
  FileSystemSample,
  HostSample,
  InterfaceSample,
  ProcessSample,
} from './host-sample.js';
import {
  counterDelta,
  cpuShares,
  dfPercent,
  parseDiskstats,
  parseLoadavg,
  parseMeminfo,
  parseMountinfo,
  parseNetDev,
  parsePasswd,
  parseProcStat,
  parseStatusUid,
  parseUptime,
  perSecond,
  scanPidStat,
  selectFileSystems,
  type CoreTimes,
  type CpuTimes,
  type DiskCounters,
  type MountEntry,
  type NetDevCounters,
  type PidStatFields,
} from './proc-parsers.js';
import { ProcFiles } from './proc-files.js';

/** Where the probe reads and how it counts; every field has the real machine's default. */
export interface HostProbeOptions {
  /** Where procfs is mounted; tests point it at a fixture tree. Default /proc. */
  procRoot?: string;
  /** Where sysfs is mounted (only /sys/block is read: which devices are whole disks). Default /sys. */
  sysRoot?: string;
  /** Default /etc/passwd. */
  passwdPath?: string;
  /**
   * Clock for `at` and for the intervals, epoch milliseconds. Default: Date.now for `at` and a
   * monotonic clock for intervals, so that a wall-clock step does not fake a rate.
   */
  now?: () => number;
  /** USER_HZ, the unit of /proc/PID/stat times. Default: `getconf CLK_TCK`, else 100. */
  clockTicksPerSecond?: number;
  /** The unit of /proc/PID/stat's rss. Default: `getconf PAGESIZE`, else 4096. */
  pageSizeBytes?: number;
}

/** How many processes each top list holds. */
const TOP = 10;

/** How many samples a process's user name is kept before /proc/PID/status is read again. */
const USER_REREAD_SAMPLES = 30;

/** /proc/diskstats counts in 512-byte sectors whatever the device's own sector size. */
const SECTOR_BYTES = 512;

/** What statfs says, in the units df uses (blocks of `bsize` bytes). */
interface StatFsFigures {
  bsize: number;
  blocks: number;
  bfree: number;
  bavail: number;
  files: number;
  ffree: number;
}

/**
 * The only part that touches the machine: the few file-system calls the probe makes (reads into
 * buffers kept for the probe's life, proc-files.ts); a call that fails gives null, -1 or an empty
 * answer, never an exception to the caller.
 */
class HostFiles extends ProcFiles {
  list(dir: string): string[] {
    try {
      return readdirSync(dir);
    } catch {
      return [];
    }
  }

  exists(path: string): boolean {
    return existsSync(path);
  }

  statfs(path: string): StatFsFigures | null {
    try {
      return statfsSync(path);
    } catch {
      return null;
    }
  }
}

/** What the probe remembers of a process between samples, reused from one sample to the next. */
interface ProcessRecord {
  pid: number;
  startTicks: number;
  cpuTicks: number;
  /** The probe's sample number when it was last seen: older records belong to exited processes. */
  seen: number;
  cpuPercent: number;
  rssBytes: number;
  /** Set only when the process made a top list, from that sample's read. */
  name: string;
  user: string;
  /** The sample number `user` was read in; 0 for never. */
  userSeen: number;
}

/** Busiest first; ties by memory, then pid, so that the list of an idle host does not shuffle. */
function busierCpu(a: ProcessRecord, b: ProcessRecord): boolean {
  if (a.cpuPercent !== b.cpuPercent) return a.cpuPercent > b.cpuPercent;
  if (a.rssBytes !== b.rssBytes) return a.rssBytes > b.rssBytes;
  return a.pid < b.pid;
}

function biggerMemory(a: ProcessRecord, b: ProcessRecord): boolean {
  if (a.rssBytes !== b.rssBytes) return a.rssBytes > b.rssBytes;
  if (a.cpuPercent !== b.cpuPercent) return a.cpuPercent > b.cpuPercent;
  return a.pid < b.pid;
}

/**
 * Puts `record` into the sorted `list` of at most TOP when it ranks there; true when it did.
 * An insertion into ten slots: no sort of all processes, no array built per sample.
 */
function offerTop(
  list: ProcessRecord[],
  record: ProcessRecord,
  before: (a: ProcessRecord, b: ProcessRecord) => boolean,
): boolean {
  let i = list.length;
  if (i === TOP) {
    if (!before(record, list[TOP - 1]!)) return false;
    i = TOP - 1;
  }
  while (i > 0 && before(record, list[i - 1]!)) {
    list[i] = list[i - 1]!;
    i--;
  }
  list[i] = record;
  return true;
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** A number from getconf, or `fallback` when getconf is missing or says something else. */
function getconf(name: string, fallback: number): number {
  try {
    const text = execFileSync('getconf', [name], {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const value = Number(text.trim());
    return Number.isInteger(value) && value > 0 ? value : fallback;
  } catch {
    return fallback;
  }
}

/** What a sample keeps for the next one's deltas. */
interface PreviousRead {
  clock: number;
  uptimeSeconds: number;
  cpu: CpuTimes | null;
  cores: Map<number, CpuTimes>;
  interfaces: Map<string, NetDevCounters>;
  disks: Map<string, DiskCounters>;
}

/**
 * Reads the host's health; `sample()` once per interval. Synchronous on purpose: a sample is a
 * few hundred small /proc reads of microseconds each (about 3 ms in all for 100 processes),
 * which asynchronous calls would each send through libuv's thread pool for nothing.
 */
export class HostProbe {
  private readonly procRoot: string;
  private readonly sysRoot: string;
  private readonly passwdPath: string;
  private readonly wallClock: () => number;
  private readonly intervalClock: () => number;
  private readonly clockTicks: number;
  private readonly pageSize: number;
  private readonly files = new HostFiles();

  private previous: PreviousRead | null = null;
  private sampleNumber = 0;
  private readonly processes = new Map<number, ProcessRecord>();
  private readonly topCpu: ProcessRecord[] = [];
  private readonly topMemory: ProcessRecord[] = [];
  private readonly statFields: PidStatFields = {
    commStart: 0,
    commEnd: 0,
    cpuTicks: 0,
    startTicks: 0,
    rssPages: 0,
  };
  /** Whole disks to show, by /proc/diskstats name: /sys is asked once per name. */
  private readonly diskKinds = new Map<string, boolean>();
  private mountinfoText: string | null = null;
  private mounts: MountEntry[] = [];
  private users: Map<number, string> | null = null;

  constructor(options: HostProbeOptions = {}) {
    this.procRoot = options.procRoot ?? '/proc';
    this.sysRoot = options.sysRoot ?? '/sys';
    this.passwdPath = options.passwdPath ?? '/etc/passwd';
    this.wallClock = options.now ?? Date.now;
    this.intervalClock = options.now ?? (() => performance.now());
    // Asked once: both are fixed for the kernel's life, and a process per sample is what this
    // probe exists to avoid.
    this.clockTicks = options.clockTicksPerSecond ?? getconf('CLK_TCK', 100);
    this.pageSize = options.pageSizeBytes ?? getconf('PAGESIZE', 4096);
  }

  /** One sample; rates and shares are 0 in the first (there is nothing to compare with). */
  sample(): HostSample {
    const at = this.wallClock();
    const clock = this.intervalClock();
    const previous = this.previous;
    const seconds = previous === null ? 0 : Math.max(0, (clock - previous.clock) / 1000);
    this.sampleNumber++;

    const uptimeSeconds = parseUptime(this.read('uptime'));
    const load = parseLoadavg(this.read('loadavg'));
    const stat = parseProcStat(this.read('stat'));
    const memory = parseMeminfo(this.read('meminfo'));
    const netDev = parseNetDev(this.read('net/dev'));
    const diskstats = parseDiskstats(this.read('diskstats'));

    const cores = new Map<number, CpuTimes>(stat.cores.map((c) => [c.core, c]));
    const processes = this.walkProcesses(seconds, previous, memory.totalBytes);

    this.previous = {
      clock,
      uptimeSeconds,
      cpu: stat.total,
      cores,
      interfaces: new Map(netDev.map((i) => [i.name, i])),
      disks: new Map(diskstats.map((d) => [d.name, d])),
    };

    return {
      at,
      intervalSeconds: seconds,
      hostname: hostname(),
      uptimeSeconds,
      load,
      cpu: this.cpuOf(stat.total, stat.cores, previous),
      memory: {
        ...memory,
        percent: round2(memory.percent),
        swapPercent: round2(memory.swapPercent),
      },
      fileSystems: this.fileSystems(),
      disks: this.disksOf(diskstats, previous, seconds),
      interfaces: netDev.map((i) => interfaceOf(i, previous?.interfaces.get(i.name), seconds)),
      processes,
    };
  }

  private read(path: string): string {
    return this.files.readText(`${this.procRoot}/${path}`) ?? '';
  }

  private cpuOf(
    total: CpuTimes | null,
    cores: readonly CoreTimes[],
    previous: PreviousRead | null,
  ): CpuSample {
    const shares =
      total !== null && previous?.cpu
        ? cpuShares(previous.cpu, total)
        : { percent: 0, user: 0, system: 0, iowait: 0, steal: 0 };
    return {
      percent: round2(shares.percent),
      perCore: cores.map((c) => {
        const before = previous?.cores.get(c.core);
        return before ? round2(cpuShares(before, c).percent) : 0;
      }),
      user: round2(shares.user),
      system: round2(shares.system),
      iowait: round2(shares.iowait),
      steal: round2(shares.steal),
    };
  }

  /** Like df: each real file system once, its figures from statfs. */
  private fileSystems(): FileSystemSample[] {
    const text = this.read('self/mountinfo');
    // The mount table rarely changes; it is parsed again only when its text does.
    if (text !== this.mountinfoText) {
      this.mountinfoText = text;
      this.mounts = selectFileSystems(parseMountinfo(text));
    }
    const result: FileSystemSample[] = [];
    for (const m of this.mounts) {
      const s = this.files.statfs(m.mount);
      // df leaves out file systems of size 0 too (unless -a).
      if (s === null || s.blocks === 0) continue;
      const usedBlocks = Math.max(0, s.blocks - s.bfree);
      result.push({
        mount: m.mount,
        device: m.source,
        type: m.type,
        sizeBytes: s.blocks * s.bsize,
        usedBytes: usedBlocks * s.bsize,
        availableBytes: s.bavail * s.bsize,
        percent: dfPercent(usedBlocks, s.bavail),
        inodesPercent: dfPercent(Math.max(0, s.files - s.ffree), s.ffree),
      });
    }
    return result;
  }

  /**
   * Whether a /proc/diskstats device is a disk to show: a whole disk (it has /sys/block/NAME;
   * partitions do not), not a loop or ram device, and not stacked on other disks (device-mapper,
   * md RAID: their I/O is also counted on the disks below, and a sum over disks would count it
   * twice).
   */
  private isShownDisk(name: string): boolean {
    let shown = this.diskKinds.get(name);
    if (shown === undefined) {
      // /sys names a disk "cciss!c0d0" that /proc/diskstats names "cciss/c0d0".
      const dir = `${this.sysRoot}/block/${name.replaceAll('/', '!')}`;
      shown =
        !name.startsWith('loop') &&
        !name.startsWith('ram') &&
        this.files.exists(dir) &&
        this.files.list(`${dir}/slaves`).length === 0;
      this.diskKinds.set(name, shown);
    }
    return shown;
  }

  private disksOf(
    diskstats: readonly DiskCounters[],
    previous: PreviousRead | null,
    seconds: number,
  ): DiskIoSample[] {
    const result: DiskIoSample[] = [];
    for (const d of diskstats) {
      // A disk that has never done any I/O (an unused zram, an empty drive) is only noise.
      if (d.reads === 0 && d.writes === 0) continue;
      if (!this.isShownDisk(d.name)) continue;
      const before = previous?.disks.get(d.name);
      const rate = (pick: (c: DiskCounters) => number, unit = 1): number =>
        before ? round2(perSecond(counterDelta(pick(before), pick(d)) * unit, seconds)) : 0;
      const busyMs = before ? counterDelta(before.ioTicksMs, d.ioTicksMs) : 0;
      result.push({
        device: d.name,
        readBytesPerSecond: rate((c) => c.readSectors, SECTOR_BYTES),
        writeBytesPerSecond: rate((c) => c.writeSectors, SECTOR_BYTES),
        readsPerSecond: rate((c) => c.reads),
        writesPerSecond: rate((c) => c.writes),
        busyPercent: seconds > 0 ? round2(Math.min(100, busyMs / (seconds * 10))) : 0,
      });
    }
    return result;
  }

  /**
   * Reads /proc/PID/stat of every process. This is the expensive part of a sample (three system
   * calls per process), so it decodes a name only when the process enters a top list and reads
   * /proc/PID/status only for the processes finally shown.
   */
  private walkProcesses(
    seconds: number,
    previous: PreviousRead | null,
    memoryBytes: number,
  ): HostSample['processes'] {
    const sampleNumber = this.sampleNumber;
    const fields = this.statFields;
    const buffer = this.files.small;
    // A process the previous sample did not see but that started after it: all its CPU time
    // falls in this interval (a short burst would otherwise never be seen at all).
    // Rounded: /proc/uptime has two decimals, and 4920.31 * 100 is 492031.00000000006 in floating
    // point, which a process started in that same hundredth (start time 492031) would miss.
    const newSinceTicks =
      previous === null || !(previous.uptimeSeconds > 0)
        ? Infinity
        : Math.round(previous.uptimeSeconds * this.clockTicks);
    const ticksToPercent = seconds > 0 ? 100 / (this.clockTicks * seconds) : 0;
    const topCpu = this.topCpu;
    const topMemory = this.topMemory;
    topCpu.length = 0;
    topMemory.length = 0;
    let total = 0;

    for (const entry of this.files.list(this.procRoot)) {
      const first = entry.charCodeAt(0);
      if (first < 0x30 || first > 0x39) continue;
      const length = this.files.readSmall(`${this.procRoot}/${entry}/stat`);
      if (length <= 0 || !scanPidStat(buffer, length, fields)) continue;
      total++;
      const pid = Number(entry);
      let record = this.processes.get(pid);
      let ticks: number;
      if (record !== undefined && record.startTicks === fields.startTicks) {
        ticks = counterDelta(record.cpuTicks, fields.cpuTicks);
      } else {
        // New, or a reused pid (another start time): no earlier read of this process.
        ticks = fields.startTicks >= newSinceTicks ? fields.cpuTicks : 0;
        if (record === undefined) {
          record = {
            pid,
            startTicks: 0,
            cpuTicks: 0,
            seen: 0,
            cpuPercent: 0,
            rssBytes: 0,
            name: '',
            user: '',
            userSeen: 0,
          };
          this.processes.set(pid, record);
        }
        record.startTicks = fields.startTicks;
        record.userSeen = 0;
      }
      record.cpuTicks = fields.cpuTicks;
      record.seen = sampleNumber;
      record.cpuPercent = ticks * ticksToPercent;
      record.rssBytes = fields.rssPages * this.pageSize;
      const ranksCpu = offerTop(topCpu, record, busierCpu);
      const ranksMemory = offerTop(topMemory, record, biggerMemory);
      if (ranksCpu || ranksMemory) {
        record.name = buffer.toString('utf8', fields.commStart, fields.commEnd);
      }
    }

    for (const [pid, record] of this.processes) {
      if (record.seen !== sampleNumber) this.processes.delete(pid);
    }
    const shown = (record: ProcessRecord): ProcessSample => ({
      pid: record.pid,
      name: record.name,
      user: this.userOf(record),
      cpuPercent: round2(record.cpuPercent),
      rssBytes: record.rssBytes,
      memoryPercent: memoryBytes > 0 ? round2((record.rssBytes * 100) / memoryBytes) : 0,
    });
    return { total, topCpu: topCpu.map(shown), topMemory: topMemory.map(shown) };
  }

  /**
   * The user name of the process's real uid, its number when /etc/passwd has no name for it.
   * Read when the process first makes a top list and again every USER_REREAD_SAMPLES: a uid
   * changes at most when a daemon drops privileges, and /proc/PID/status for 20 processes is a
   * tenth of a sample's cost.
   */
  private userOf(record: ProcessRecord): string {
    if (record.userSeen > 0 && this.sampleNumber - record.userSeen < USER_REREAD_SAMPLES) return record.user;
    const length = this.files.readSmall(`${this.procRoot}/${record.pid}/status`);
    const uid = length > 0 ? parseStatusUid(this.files.small.toString('latin1', 0, length)) : null;
    // A process that exited since the walk keeps the user it had ('' if it never had one).
    if (uid !== null) {
      this.users ??= parsePasswd(this.files.readText(this.passwdPath) ?? '');
      record.user = this.users.get(uid) ?? String(uid);
      record.userSeen = this.sampleNumber;
    }
    return record.user;
  }
}

function interfaceOf(
  current: NetDevCounters,
  before: NetDevCounters | undefined,
  seconds: number,
): InterfaceSample {
  const rate = (pick: (c: NetDevCounters) => number): number =>
    before ? round2(perSecond(counterDelta(pick(before), pick(current)), seconds)) : 0;
  return {
    name: current.name,
    rxBytesPerSecond: rate((c) => c.rxBytes),
    txBytesPerSecond: rate((c) => c.txBytes),
    rxPacketsPerSecond: rate((c) => c.rxPackets),
    txPacketsPerSecond: rate((c) => c.txPackets),
    rxErrorsPerSecond: rate((c) => c.rxErrors),
    txErrorsPerSecond: rate((c) => c.txErrors),
    rxDropsPerSecond: rate((c) => c.rxDrops),
    txDropsPerSecond: rate((c) => c.txDrops),
    rxBytes: current.rxBytes,
    txBytes: current.txBytes,
    rxErrors: current.rxErrors,
    txErrors: current.txErrors,
    rxDrops: current.rxDrops,
    txDrops: current.txDrops,
  };
}
