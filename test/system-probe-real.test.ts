/**
 * The host probe on the real machine, each figure checked against the tool an admin would trust
 * (free, df, nproc) or the kernel file read directly in the same test, with load the test makes
 * itself so that a figure stuck at 0 fails: a CPU burner, 20 MiB over loopback, a tmpfs filled
 * to half, 32 MiB written to disk and fsync'ed. Tolerances are stated where each is used: the
 * machine keeps moving between the probe's read and the tool's.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fsyncSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HostProbe } from '../src/system/host-probe.js';
import type { FileSystemSample, HostSample } from '../src/system/host-sample.js';
import { parseNetDev } from '../src/system/proc-parsers.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const MiB = 1024 * 1024;
const isLinux = process.platform === 'linux';
const isRoot = process.getuid?.() === 0;

function run(command: string, args: string[]): string {
  return execFileSync(command, args, { encoding: 'utf8' });
}

interface DfRow {
  source: string;
  type: string;
  mount: string;
  size: number;
  used: number;
  avail: number;
  percent: number | null;
}

/** `df -B1` rows; the mount point is what is left between the type and the figures. */
function df(...paths: string[]): DfRow[] {
  const text = run('df', ['-B1', '--output=source,fstype,target,size,used,avail,pcent', ...paths]);
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => {
      const f = line.trim().split(/\s+/);
      const pcent = f.at(-1) ?? '-';
      return {
        source: f[0] ?? '',
        type: f[1] ?? '',
        mount: f.slice(2, -4).join(' '),
        size: Number(f.at(-4)),
        used: Number(f.at(-3)),
        avail: Number(f.at(-2)),
        percent: pcent === '-' ? null : Number(pcent.replace('%', '')),
      };
    });
}

/** What `free -b` shows: the Mem: and Swap: rows. */
function free(): { total: number; used: number; swapTotal: number } {
  const rows = new Map(
    run('free', ['-b'])
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .map((f) => [f[0], f.slice(1).map(Number)] as const),
  );
  const mem = rows.get('Mem:') ?? [];
  const swap = rows.get('Swap:') ?? [];
  return { total: mem[0] ?? NaN, used: mem[1] ?? NaN, swapTotal: swap[0] ?? NaN };
}

function readProc(path: string): string {
  return readFileSync(`/proc/${path}`, 'utf8');
}

/** Two samples with `during` run (and awaited) between them. */
async function sampleAround(
  probe: HostProbe,
  during: () => Promise<void>,
): Promise<[HostSample, HostSample]> {
  const before = probe.sample();
  await during();
  return [before, probe.sample()];
}

const missingTools = ['df', 'free', 'mount', 'umount', 'nproc'].filter((t) => !hasTool(t));
const missing = [...(isLinux ? [] : ['Linux /proc']), ...missingTools];

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'install coreutils, procps and mount (apt-get install coreutils procps mount) on Linux',
  'host probe against the real machine (free, df, nproc, /proc)',
  () => {
    const probe = new HostProbe();
    // The first sample has no rates; later ones compare with the one before.
    beforeAll(() => {
      probe.sample();
    });

    it('memory agrees with free -b', () => {
      const s = probe.sample();
      const f = free();
      // Totals do not move: exact.
      expect(s.memory.totalBytes).toBe(f.total);
      expect(s.memory.swapTotalBytes).toBe(f.swapTotal);
      // Used moves between the two reads (other tests run beside this one): within 5% of total.
      expect(Math.abs(s.memory.usedBytes - f.used)).toBeLessThanOrEqual(0.05 * f.total);
      expect(s.memory.usedBytes + s.memory.availableBytes).toBe(s.memory.totalBytes);
    });

    it('file systems agree with df: size exact, used within 1% of size or 64 MiB, Use% within 1', () => {
      const s = probe.sample();
      const rows = df();
      const byMount = new Map(rows.map((r) => [r.mount, r]));
      let compared = 0;
      for (const fs of s.fileSystems) {
        const row = byMount.get(fs.mount);
        if (row === undefined) continue;
        compared++;
        expect(fs.sizeBytes, fs.mount).toBe(row.size);
        expect(Math.abs(fs.usedBytes - row.used), fs.mount).toBeLessThanOrEqual(
          Math.max(0.01 * row.size, 64 * MiB),
        );
        expect(Math.abs(fs.percent - (row.percent ?? 0)), fs.mount).toBeLessThanOrEqual(1);
      }
      // The root file system at least is in both lists.
      expect(s.fileSystems.map((f) => f.mount)).toContain('/');
      expect(compared).toBeGreaterThanOrEqual(1);
      // And nothing df shows on a disk or in memory is missing (the probe leaves out only pseudo,
      // network, FUSE and squashfs file systems, and overlays that are not the root).
      const shown = new Set(s.fileSystems.map((f) => f.mount));
      for (const row of rows) {
        const onDisk = row.source.startsWith('/dev/') && row.type !== 'squashfs';
        if ((onDisk || row.type === 'tmpfs') && row.size > 0) expect(shown, row.mount).toContain(row.mount);
      }
    });

    it('load, uptime and the number of cores agree with /proc and nproc', () => {
      const s = probe.sample();
      const load = Number(readProc('loadavg').split(' ')[0]);
      const uptime = Number(readProc('uptime').split(' ')[0]);
      // The load average is recomputed every 5 s; 0.5 allows one recomputation on a busy host.
      expect(Math.abs(s.load[0] - load)).toBeLessThanOrEqual(0.5);
      // Read a moment apart: within 2 s.
      expect(Math.abs(s.uptimeSeconds - uptime)).toBeLessThanOrEqual(2);
      const nproc = Number(run('nproc', ['--all']).trim());
      const cpuLines = readProc('stat')
        .split('\n')
        .filter((l) => /^cpu\d+ /.test(l)).length;
      // nproc --all counts offline cores too, which /proc/stat has no line for.
      expect([nproc, cpuLines]).toContain(s.cpu.perCore.length);
      expect(s.hostname).toBe(readProc('sys/kernel/hostname').trim());
    });

    it('a process that burns 1 s of CPU during the interval shows in topCpu with that much CPU time', async () => {
      // It burns a fixed amount of CPU time, not of wall time, so that a loaded machine (other
      // tests, other jobs) stretches the interval but not the figure to check; then it reports
      // what getrusage says it used since it started and idles until killed (and exits by
      // itself after 60 s).
      const script = `
        const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
        const start = cpu();
        while (cpu() - start < 1.0) {}
        process.stdout.write(String(cpu()) + '\\n');
        setTimeout(() => {}, 60000);`;
      probe.sample();
      // Started after that sample: all its CPU time falls in the next interval.
      const burner: ChildProcess = spawn(process.execPath, ['-e', script], {
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      try {
        const reported = await new Promise<number>((resolve, reject) => {
          burner.stdout?.once('data', (chunk: Buffer) => {
            resolve(Number(chunk.toString()));
          });
          burner.once('exit', () => {
            reject(new Error('the burner exited before reporting'));
          });
        });
        const after = probe.sample();
        const seen = after.processes.topCpu.find((p) => p.pid === burner.pid);
        expect(seen, JSON.stringify(after.processes.topCpu)).toBeDefined();
        expect(seen?.name).toBe('node');
        expect(seen?.user).toBe(userInfo().username);
        // The probe's CPU time for it is its own getrusage figure: within 2 ticks (utime and
        // stime are each whole ticks) and 30 ms for what it did after reporting.
        const cpuSeconds = (seen!.cpuPercent / 100) * after.intervalSeconds;
        expect(reported).toBeGreaterThanOrEqual(1.0);
        expect(Math.abs(cpuSeconds - reported)).toBeLessThanOrEqual(0.05);
        // The host's busy share includes the burner's, less noise: the whole-host and per-process
        // figures come from different files read a moment apart.
        const cores = after.cpu.perCore.length;
        expect(after.cpu.percent).toBeGreaterThanOrEqual(seen!.cpuPercent / cores - 5);
        expect(after.cpu.user + after.cpu.system + after.cpu.steal).toBeCloseTo(after.cpu.percent, 0);
        expect(Math.max(...after.cpu.perCore)).toBeGreaterThan(0);
      } finally {
        burner.kill('SIGKILL');
      }
    });

    it('20 MiB over loopback shows in lo between two samples, and the counters agree with /proc/net/dev', async () => {
      const size = 20 * MiB;
      let received = 0;
      const server = createServer((socket) => {
        socket.on('data', (chunk: Buffer) => {
          received += chunk.length;
        });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as AddressInfo;
      const client = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => client.once('connect', resolve));
      try {
        const [before, after] = await sampleAround(probe, async () => {
          const chunk = Buffer.alloc(MiB, 0x5a);
          for (let i = 0; i < size / MiB; i++) {
            if (!client.write(chunk)) await new Promise<void>((resolve) => client.once('drain', resolve));
          }
          while (received < size) await sleep(10);
        });
        const direct = parseNetDev(readProc('net/dev')).find((i) => i.name === 'lo');
        const lo0 = before.interfaces.find((i) => i.name === 'lo');
        const lo = after.interfaces.find((i) => i.name === 'lo');
        expect(lo0 && lo && direct).toBeTruthy();
        const moved = lo!.rxBytes - lo0!.rxBytes;
        // At least the payload (headers add ~1%); at most the payload, its headers and 32 MiB of
        // other tests' loopback traffic in the same interval.
        expect(moved).toBeGreaterThanOrEqual(size);
        expect(moved).toBeLessThanOrEqual(size * 1.05 + 32 * MiB);
        // The rate is that growth over the interval (rounded to 0.01 per second).
        expect(lo!.rxBytesPerSecond * after.intervalSeconds).toBeGreaterThanOrEqual(size);
        expect(Math.abs(lo!.rxBytesPerSecond * after.intervalSeconds - moved)).toBeLessThanOrEqual(1);
        // Loopback sends what it receives.
        expect(lo!.txBytes - lo0!.txBytes).toBeGreaterThanOrEqual(size);
        // The direct read right after is the same counter a moment later: up to 8 MiB more.
        expect(lo!.rxBytes).toBeLessThanOrEqual(direct!.rxBytes);
        expect(direct!.rxBytes - lo!.rxBytes).toBeLessThanOrEqual(8 * MiB);
      } finally {
        client.destroy();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('this process shows in topCpu under its own name while busy; the total agrees with ls /proc', () => {
      const cpu = (): number => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1e6;
      };
      // The CPU time this process used from just before the first sample to just after the
      // second, and from just after the first to just before the second: the probe's figure
      // lies between them (give or take whole ticks).
      const outerStart = cpu();
      probe.sample();
      const innerStart = cpu();
      // Busy on purpose for 0.6 s of CPU time (however long a loaded machine makes that).
      while (cpu() - innerStart < 0.6) {
        // spin
      }
      const innerEnd = cpu();
      const s = probe.sample();
      const outerEnd = cpu();
      const self = s.processes.topCpu.find((p) => p.pid === process.pid);
      expect(self, JSON.stringify(s.processes.topCpu)).toBeDefined();
      expect(self?.name).toBe(readProc('self/comm').trim());
      const cpuSeconds = (self!.cpuPercent / 100) * s.intervalSeconds;
      // 2 ticks either way: utime and stime are each whole ticks (10 ms at 100 Hz).
      expect(cpuSeconds).toBeGreaterThanOrEqual(innerEnd - innerStart - 0.02);
      expect(cpuSeconds).toBeLessThanOrEqual(outerEnd - outerStart + 0.02);
      const listed = Number(run('sh', ['-c', "ls /proc | grep -c '^[0-9]'"]).trim());
      // Processes start and exit between the two reads: within 10%.
      expect(Math.abs(s.processes.total - listed)).toBeLessThanOrEqual(0.1 * listed);
      // The lists are in order and the memory figures are this host's.
      const busiest = s.processes.topCpu.map((p) => p.cpuPercent);
      expect(busiest).toEqual([...busiest].sort((a, b) => b - a));
      const rss = s.processes.topMemory.map((p) => p.rssBytes);
      expect(rss).toEqual([...rss].sort((a, b) => b - a));
      expect(s.processes.topMemory).toHaveLength(Math.min(10, s.processes.total));
      const ownRss = Number(/^VmRSS:\s+(\d+) kB/m.exec(readProc('self/status'))?.[1]) * 1024;
      const biggest = s.processes.topMemory[0]!;
      expect(biggest.rssBytes).toBeGreaterThanOrEqual(ownRss * 0.5);
      expect(biggest.memoryPercent).toBeCloseTo((biggest.rssBytes * 100) / s.memory.totalBytes, 1);
    });

    it('32 MiB written and fsync-ed show as disk writes', () => {
      // A directory on a disk (not tmpfs, where nothing reaches a disk): the temp folder or, where
      // that is tmpfs, this project's.
      const onDisk = (dir: string): boolean => {
        const row = df(dir)[0];
        return row !== undefined && row.type !== 'tmpfs';
      };
      const base = [tmpdir(), process.cwd()].find(onDisk);
      expect(base, 'no directory on a disk').toBeDefined();
      const dir = mkdtempSync(join(base!, 'flowtrack-probe-disk-'));
      try {
        const size = 32 * MiB;
        const before = probe.sample();
        const fd = openSync(join(dir, 'data'), 'w');
        const chunk = Buffer.alloc(MiB, 0xa5);
        for (let i = 0; i < size / MiB; i++) writeSync(fd, chunk);
        fsyncSync(fd);
        closeSync(fd);
        const after = probe.sample();
        const written = after.disks.reduce(
          (sum, d) => sum + d.writeBytesPerSecond * after.intervalSeconds,
          0,
        );
        // fsync returns once the disk has the data, so its sectors are counted: at least the
        // payload (less 1 byte a second of rounding).
        expect(written, JSON.stringify(after.disks)).toBeGreaterThanOrEqual(size - after.disks.length);
        for (const d of after.disks) {
          expect(d.busyPercent).toBeGreaterThanOrEqual(0);
          expect(d.busyPercent).toBeLessThanOrEqual(100);
        }
        expect(before.disks.map((d) => d.device)).toEqual(after.disks.map((d) => d.device));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  },
);

describeUnlessMissing(
  missing.length > 0 ? missing.join(', ') : isRoot ? null : 'root (to mount a tmpfs)',
  'run the tests as root on Linux with mount and df installed',
  'host probe on a tmpfs this test mounts and fills to half',
  () => {
    const dir = mkdtempSync(join(tmpdir(), 'flowtrack-probe-tmpfs-'));
    let mounted = false;

    const unmount = (): void => {
      if (!mounted) return;
      try {
        run('umount', [dir]);
      } catch {
        // Still busy (a failed test left a file open): detach it so nothing outlives the run.
        run('umount', ['-l', dir]);
      }
      mounted = false;
    };

    afterAll(() => {
      unmount();
      rmSync(dir, { recursive: true, force: true });
    });

    it('shows the tmpfs at about 50% after 4 MiB of its 8 MiB are written, as df does', () => {
      run('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dir]);
      mounted = true;
      try {
        const probe = new HostProbe();
        const empty = probe.sample().fileSystems.find((f) => f.mount === dir);
        expect(empty).toMatchObject({ type: 'tmpfs', sizeBytes: 8 * MiB, usedBytes: 0, percent: 0 });

        // Half and one page more: 50.05%, which df rounds up to 51 (and a probe rounding to
        // nearest or down would not).
        const fd = openSync(join(dir, 'half'), 'w');
        writeSync(fd, Buffer.alloc(4 * MiB + 4096, 1));
        closeSync(fd);
        const fs: FileSystemSample | undefined = probe.sample().fileSystems.find((f) => f.mount === dir);
        const row = df(dir)[0];
        expect(fs).toBeDefined();
        expect(row?.mount).toBe(dir);
        // tmpfs counts whole pages and nothing else: 2 points spare all the same.
        expect(Math.abs(fs!.percent - 50)).toBeLessThanOrEqual(2);
        expect(fs!.percent).toBe(row!.percent);
        expect(fs!.usedBytes).toBe(4 * MiB + 4096);
        expect(fs!.usedBytes).toBe(row!.used);
        expect(fs!.availableBytes).toBe(row!.avail);
        expect(fs!.sizeBytes).toBe(row!.size);
      } finally {
        unmount();
      }
      // Unmounted, it is gone from the next sample.
      expect(new HostProbe().sample().fileSystems.map((f) => f.mount)).not.toContain(dir);
    });
  },
);
