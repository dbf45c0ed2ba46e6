/**
 * What the host probe (host-probe.ts) reads off the machine FlowTrack runs on, once per interval:
 * CPU, load, memory and swap, file systems, disk I/O, network interfaces, up time and the busiest
 * processes. Rates (per second) and percentages are over the interval since the previous sample;
 * the first sample of a probe has them at 0. Plain data, sent as JSON by the API and the stream.
 */

export interface CpuSample {
  /** Busy share of all cores together, 0-100 (user, nice, system, irq, softirq, steal). */
  percent: number;
  /** The same per core, in the order of /proc/stat (cpu0, cpu1, ...). */
  perCore: number[];
  /** Shares of the interval's time, 0-100. */
  user: number;
  system: number;
  iowait: number;
  steal: number;
}

export interface MemorySample {
  totalBytes: number;
  /** MemTotal - MemAvailable: what `free` shows as used. */
  usedBytes: number;
  availableBytes: number;
  /** usedBytes / totalBytes, 0-100. */
  percent: number;
  swapTotalBytes: number;
  swapUsedBytes: number;
  /** 0 when there is no swap. */
  swapPercent: number;
}

/** A mounted file system on a block device (or tmpfs), as `df` shows it. */
export interface FileSystemSample {
  mount: string;
  device: string;
  type: string;
  sizeBytes: number;
  usedBytes: number;
  /** For unprivileged users (f_bavail), as df's Avail. */
  availableBytes: number;
  /** used / (used + available), 0-100, rounded up as df's Use% is. */
  percent: number;
  inodesPercent: number;
}

/** A whole disk (not its partitions) from /proc/diskstats. */
export interface DiskIoSample {
  device: string;
  readBytesPerSecond: number;
  writeBytesPerSecond: number;
  readsPerSecond: number;
  writesPerSecond: number;
  /** Share of the interval the disk was busy, 0-100 (io_ticks). */
  busyPercent: number;
}

/** One network interface from /proc/net/dev. */
export interface InterfaceSample {
  name: string;
  rxBytesPerSecond: number;
  txBytesPerSecond: number;
  rxPacketsPerSecond: number;
  txPacketsPerSecond: number;
  /** Errors and drops in the interval, per second. */
  rxErrorsPerSecond: number;
  txErrorsPerSecond: number;
  rxDropsPerSecond: number;
  txDropsPerSecond: number;
  /** The kernel's totals since the interface came up. */
  rxBytes: number;
  txBytes: number;
  rxErrors: number;
  txErrors: number;
  rxDrops: number;
  txDrops: number;
}

export interface ProcessSample {
  pid: number;
  /** The command name (/proc/PID/comm). */
  name: string;
  user: string;
  /** Share of one core over the interval, 0-100 per core (a process on two cores can show 200). */
  cpuPercent: number;
  rssBytes: number;
  /** rss / total memory, 0-100. */
  memoryPercent: number;
}

export interface HostSample {
  /** Wall clock, epoch milliseconds. */
  at: number;
  /** Seconds the interval covered (0 for a probe's first sample). */
  intervalSeconds: number;
  hostname: string;
  uptimeSeconds: number;
  /** 1, 5 and 15 minute load averages. */
  load: [number, number, number];
  cpu: CpuSample;
  memory: MemorySample;
  fileSystems: FileSystemSample[];
  disks: DiskIoSample[];
  interfaces: InterfaceSample[];
  processes: {
    total: number;
    /** Up to ten each, busiest first. */
    topCpu: ProcessSample[];
    topMemory: ProcessSample[];
  };
}

/**
 * One point of a health chart (/api/system_health/history, store/health-repository.ts): averages
 * over its bucket, and peaks where named.
 */
export interface HealthPoint {
  /** Start of the bucket, epoch milliseconds. */
  at: number;
  cpu: number;
  cpuMax: number;
  memory: number;
  memoryMax: number;
  swap: number;
  load1: number;
  /** The fullest file system's use, the bucket's highest. */
  disk: number;
  netRxBytesPerSecond: number;
  netTxBytesPerSecond: number;
  diskReadBytesPerSecond: number;
  diskWriteBytesPerSecond: number;
}
