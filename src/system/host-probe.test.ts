/**
 * The probe's bookkeeping between samples on a fixture /proc and /sys in a temp folder: rates
 * from two reads, counters that reset, processes that start, exit or reuse a pid, which devices
 * count as disks, and a /proc it cannot read at all. The real machine is compared with the real
 * tools in test/system-probe-real.test.ts.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostProbe } from './host-probe.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-host-probe-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

let fixtures = 0;

interface Fixture {
  root: string;
  write: (path: string, text: string) => void;
  remove: (path: string) => void;
  probe: () => HostProbe;
  /** What the probe's `now` returns, epoch milliseconds. */
  clock: { ms: number };
}

/** A fresh fixture tree: proc/, sys/ and passwd under one folder, and a probe reading them. */
function fixture(): Fixture {
  const root = join(tmp, String(fixtures++));
  const clock = { ms: 1_000_000 };
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };
  const remove = (path: string): void => {
    rmSync(join(root, path), { recursive: true, force: true });
  };
  mkdirSync(join(root, 'proc'), { recursive: true });
  mkdirSync(join(root, 'sys', 'block'), { recursive: true });
  write('passwd', 'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n');
  const probe = (): HostProbe =>
    new HostProbe({
      procRoot: join(root, 'proc'),
      sysRoot: join(root, 'sys'),
      passwdPath: join(root, 'passwd'),
      now: () => clock.ms,
      clockTicksPerSecond: 100,
      pageSizeBytes: 4096,
    });
  return { write, remove, probe, clock, root };
}

function cpuLines(total: number[], cores: number[][]): string {
  return [`cpu  ${total.join(' ')}`, ...cores.map((c, i) => `cpu${i} ${c.join(' ')}`), 'intr 0', ''].join(
    '\n',
  );
}

function netDev(lines: string[]): string {
  return (
    'Inter-|   Receive                                                |  Transmit\n' +
    ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
    lines.join('\n') +
    '\n'
  );
}

/** A /proc/PID/stat line (utime, stime, starttime in ticks, rss in pages). */
function stat(
  pid: number,
  name: string,
  utime: number,
  stime: number,
  start: number,
  rssPages: number,
): string {
  return `${pid} (${name}) S 1 1 1 0 -1 0 0 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 ${start} 1000 ${rssPages} 0 0 0\n`;
}

function writeProcess(
  write: (path: string, text: string) => void,
  pid: number,
  name: string,
  ticks: [number, number],
  start: number,
  rssPages: number,
  uid: number,
): void {
  write(`proc/${pid}/stat`, stat(pid, name, ticks[0], ticks[1], start, rssPages));
  write(`proc/${pid}/status`, `Name:\t${name}\nUmask:\t0022\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\n`);
}

describe('HostProbe on a fixture /proc', () => {
  it('first sample: totals but no rates; second: rates and shares over the interval', () => {
    const { write, probe: make, clock, root } = fixture();
    write('proc/uptime', '1000.00 1900.00\n');
    write('proc/loadavg', '0.50 0.40 0.30 1/100 999\n');
    write(
      'proc/stat',
      cpuLines(
        [100, 0, 100, 800, 0, 0, 0, 0],
        [
          [50, 0, 50, 400, 0, 0, 0, 0],
          [50, 0, 50, 400, 0, 0, 0, 0],
        ],
      ),
    );
    write('proc/meminfo', 'MemTotal: 1000000 kB\nMemAvailable: 250000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n');
    write(
      'proc/net/dev',
      netDev([
        '    lo: 1000 10 0 0 0 0 0 0 1000 10 0 0 0 0 0 0',
        '  eth0: 5000 50 1 2 0 0 0 0 7000 70 3 4 0 0 0 0',
      ]),
    );
    write('proc/diskstats', '   8       0 sda 100 0 800 10 200 0 1600 20 0 1000 30\n');
    mkdirSync(join(root, 'sys/block/sda/slaves'), { recursive: true });
    writeProcess(write, 100, 'nginx', [100, 50], 500, 1000, 33);
    const probe = make();

    const first = probe.sample();
    expect(first.intervalSeconds).toBe(0);
    expect(first.at).toBe(1_000_000);
    expect(first.uptimeSeconds).toBe(1000);
    expect(first.load).toEqual([0.5, 0.4, 0.3]);
    expect(first.cpu).toEqual({ percent: 0, perCore: [0, 0], user: 0, system: 0, iowait: 0, steal: 0 });
    expect(first.memory).toMatchObject({ totalBytes: 1_024_000_000, usedBytes: 768_000_000, percent: 75 });
    expect(first.interfaces.map((i) => [i.name, i.rxBytes, i.rxBytesPerSecond])).toEqual([
      ['lo', 1000, 0],
      ['eth0', 5000, 0],
    ]);
    expect(first.disks).toEqual([
      {
        device: 'sda',
        readBytesPerSecond: 0,
        writeBytesPerSecond: 0,
        readsPerSecond: 0,
        writesPerSecond: 0,
        busyPercent: 0,
      },
    ]);
    expect(first.processes.total).toBe(1);
    expect(first.processes.topCpu).toEqual([
      { pid: 100, name: 'nginx', user: 'www-data', cpuPercent: 0, rssBytes: 4_096_000, memoryPercent: 0.4 },
    ]);

    clock.ms += 2000;
    write('proc/uptime', '1002.00 1903.00\n');
    // 400 ticks over both cores: 100 user, 60 system, 40 steal, 200 idle -> 50% busy.
    write(
      'proc/stat',
      cpuLines(
        [200, 0, 160, 1000, 0, 0, 0, 40],
        [
          [150, 0, 110, 400, 0, 0, 0, 40],
          [50, 0, 50, 600, 0, 0, 0, 0],
        ],
      ),
    );
    write(
      'proc/net/dev',
      netDev([
        '    lo: 3000 30 0 0 0 0 0 0 3000 30 0 0 0 0 0 0',
        '  eth0: 9000 90 3 2 0 0 0 0 7000 70 3 8 0 0 0 0',
      ]),
    );
    write('proc/diskstats', '   8       0 sda 110 0 1824 10 220 0 5696 20 0 1500 30\n');
    writeProcess(write, 100, 'nginx', [150, 100], 500, 2000, 33);
    const second = probe.sample();

    expect(second.intervalSeconds).toBe(2);
    expect(second.cpu).toEqual({
      percent: 50,
      perCore: [100, 0],
      user: 25,
      system: 15,
      iowait: 0,
      steal: 10,
    });
    const eth0 = second.interfaces.find((i) => i.name === 'eth0');
    expect(eth0).toMatchObject({
      rxBytesPerSecond: 2000,
      rxPacketsPerSecond: 20,
      rxErrorsPerSecond: 1,
      rxDropsPerSecond: 0,
      txBytesPerSecond: 0,
      txDropsPerSecond: 2,
      rxBytes: 9000,
    });
    expect(second.interfaces.find((i) => i.name === 'lo')?.rxBytesPerSecond).toBe(1000);
    // 1024 and 4096 sectors of 512 bytes in 2 s; io_ticks 500 ms of 2000.
    expect(second.disks).toEqual([
      {
        device: 'sda',
        readBytesPerSecond: 262144,
        writeBytesPerSecond: 1048576,
        readsPerSecond: 5,
        writesPerSecond: 10,
        busyPercent: 25,
      },
    ]);
    // 100 ticks of CPU in 2 s at 100 ticks a second: half a core.
    expect(second.processes.topCpu[0]).toMatchObject({ pid: 100, cpuPercent: 50, rssBytes: 8_192_000 });
  });

  it('counters that went down (interface re-created, disk stats reset) give rates of 0', () => {
    const { write, probe: make, clock, root } = fixture();
    write('proc/net/dev', netDev(['  eth0: 5000 50 0 0 0 0 0 0 7000 70 0 0 0 0 0 0']));
    write('proc/diskstats', '   8       0 sda 100 0 800 10 200 0 1600 20 0 1000 30\n');
    mkdirSync(join(root, 'sys/block/sda'), { recursive: true });
    const probe = make();
    probe.sample();
    clock.ms += 2000;
    write('proc/net/dev', netDev(['  eth0: 100 1 0 0 0 0 0 0 7100 71 0 0 0 0 0 0']));
    write('proc/diskstats', '   8       0 sda 5 0 40 10 200 0 1600 20 0 10 30\n');
    const s = probe.sample();
    expect(s.interfaces[0]).toMatchObject({
      rxBytesPerSecond: 0,
      rxPacketsPerSecond: 0,
      txBytesPerSecond: 50,
    });
    expect(s.disks[0]).toMatchObject({ readBytesPerSecond: 0, readsPerSecond: 0, busyPercent: 0 });
  });

  it('shows whole disks only: not partitions, loop, ram, never-used or stacked (dm, md) devices', () => {
    const { write, probe: make, root } = fixture();
    const line = (name: string, minor: number, reads: number): string =>
      `   8       ${minor} ${name} ${reads} 0 ${reads * 8} 1 ${reads} 0 ${reads * 8} 1 0 5 5`;
    write(
      'proc/diskstats',
      [
        line('sda', 0, 10),
        line('sda1', 1, 10),
        line('loop0', 2, 10),
        line('ram0', 3, 10),
        line('zram0', 4, 0),
        line('dm-0', 5, 10),
        line('nvme0n1', 6, 10),
        line('cciss/c0d0', 7, 10),
      ].join('\n') + '\n',
    );
    for (const dir of ['sda', 'loop0', 'ram0', 'zram0', 'dm-0/slaves/sda1', 'nvme0n1', 'cciss!c0d0']) {
      mkdirSync(join(root, 'sys/block', dir), { recursive: true });
    }
    expect(
      make()
        .sample()
        .disks.map((d) => d.device),
    ).toEqual(['sda', 'nvme0n1', 'cciss/c0d0']);
  });

  it('a process that started during the interval counts all its CPU time; a reused pid is a new process', () => {
    const { write, remove, probe: make, clock } = fixture();
    write('proc/uptime', '1000.00 0\n');
    writeProcess(write, 200, 'old', [1000, 0], 100, 10, 0);
    writeProcess(write, 300, 'exits', [10, 0], 100, 10, 0);
    const probe = make();
    probe.sample();

    clock.ms += 2000;
    write('proc/uptime', '1002.00 0\n');
    // pid 200 is now another process (start 100150 ticks = 1001.5 s, after the first sample):
    // its 80 ticks all fall in the interval, not 80 - 1000.
    writeProcess(write, 200, 'reused', [60, 20], 100_150, 10, 0);
    remove('proc/300');
    // Started before the first sample but not seen by it (the previous read missed it): unknown.
    writeProcess(write, 400, 'unseen', [500, 0], 50_000, 10, 0);
    // Started after the first sample: all of its time is this interval's.
    writeProcess(write, 500, 'burst', [90, 10], 100_100, 10, 5000);
    const s = probe.sample();
    expect(s.processes.total).toBe(3);
    const cpu = new Map(s.processes.topCpu.map((p) => [p.name, p.cpuPercent]));
    expect(cpu).toEqual(
      new Map([
        ['burst', 50],
        ['reused', 40],
        ['unseen', 0],
      ]),
    );
    // An unknown uid is shown as its number.
    expect(s.processes.topCpu.find((p) => p.pid === 500)?.user).toBe('5000');
  });

  it('credits a process started in the same hundredth of a second as the previous read of uptime (regression)', () => {
    // 4920.31 * 100 is 492031.00000000006 in floating point: a process whose start time is 492031
    // ticks was taken for one started before the previous sample, and showed 0% CPU (seen in CI).
    const { write, probe: make, clock } = fixture();
    write('proc/uptime', '4920.31 0\n');
    const probe = make();
    probe.sample();
    clock.ms += 1000;
    write('proc/uptime', '4921.31 0\n');
    writeProcess(write, 600, 'burner', [15, 1], 492_031, 10, 0);
    const s = probe.sample();
    expect(s.processes.topCpu.find((p) => p.pid === 600)?.cpuPercent).toBe(16);
  });

  it('keeps the ten busiest and the ten biggest, busiest first', () => {
    const { write, probe: make, clock } = fixture();
    for (let pid = 1; pid <= 30; pid++) writeProcess(write, pid, `p${pid}`, [0, 0], 1, pid, 0);
    const probe = make();
    probe.sample();
    clock.ms += 1000;
    // CPU goes the other way round from memory: pid 1 busiest, pid 30 biggest.
    for (let pid = 1; pid <= 30; pid++) writeProcess(write, pid, `p${pid}`, [31 - pid, 0], 1, pid, 0);
    const s = probe.sample();
    expect(s.processes.total).toBe(30);
    expect(s.processes.topCpu.map((p) => p.pid)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(s.processes.topCpu.map((p) => p.cpuPercent)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21]);
    expect(s.processes.topMemory.map((p) => p.pid)).toEqual([30, 29, 28, 27, 26, 25, 24, 23, 22, 21]);
    expect(s.processes.topMemory.map((p) => p.name)).toEqual(
      [30, 29, 28, 27, 26, 25, 24, 23, 22, 21].map((pid) => `p${pid}`),
    );
    expect(s.processes.topMemory[0]?.user).toBe('root');
  });

  it('reads the user of a process again after 30 samples (a daemon that dropped privileges)', () => {
    const { write, probe: make, clock } = fixture();
    writeProcess(write, 77, 'daemon', [0, 0], 1, 10, 0);
    const probe = make();
    expect(probe.sample().processes.topCpu[0]?.user).toBe('root');
    writeProcess(write, 77, 'daemon', [0, 0], 1, 10, 33);
    const users = new Set<string>();
    for (let i = 0; i < 30; i++) {
      clock.ms += 2000;
      users.add(probe.sample().processes.topCpu[0]?.user ?? '');
    }
    expect([...users]).toEqual(['root', 'www-data']);
  });

  it('file systems: statfs of the mounts mountinfo lists, pseudo ones and vanished mount points left out', () => {
    const { write, probe: make, root } = fixture();
    const here = join(root, 'mnt');
    mkdirSync(here, { recursive: true });
    write(
      'proc/self/mountinfo',
      `22 27 0:21 / /proc rw - proc proc rw\n27 1 254:0 / ${here} rw - ext4 /dev/vda rw\n28 1 254:9 / ${join(root, 'gone')} rw - ext4 /dev/vdz rw\n`,
    );
    const fs = make().sample().fileSystems;
    expect(fs.map((f) => [f.mount, f.device, f.type])).toEqual([[here, '/dev/vda', 'ext4']]);
    const f = fs[0]!;
    expect(f.sizeBytes).toBeGreaterThan(0);
    expect(f.usedBytes + f.availableBytes).toBeLessThanOrEqual(f.sizeBytes);
    expect(f.percent).toBeGreaterThanOrEqual(0);
    expect(f.percent).toBeLessThanOrEqual(100);
  });

  it('a /proc with nothing readable gives an empty sample, not an exception', () => {
    const { write, probe: make } = fixture();
    write('proc/stat', '\u0000\u0001garbage');
    write('proc/meminfo', 'nonsense');
    write('proc/123/stat', '123 (half');
    write('proc/self/mountinfo', 'junk\n');
    const probe = make();
    for (let i = 0; i < 2; i++) {
      const s = probe.sample();
      expect(s.cpu.percent).toBe(0);
      expect(s.cpu.perCore).toEqual([]);
      expect(s.memory.totalBytes).toBe(0);
      expect(s.fileSystems).toEqual([]);
      expect(s.disks).toEqual([]);
      expect(s.interfaces).toEqual([]);
      expect(s.processes).toEqual({ total: 0, topCpu: [], topMemory: [] });
      expect(s.load).toEqual([0, 0, 0]);
    }
  });
});
