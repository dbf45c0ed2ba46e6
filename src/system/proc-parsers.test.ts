/**
 * The /proc parsers on literal text in the kernel's own layout (copied from a Debian 12 VM and a
 * container host), including the awkward cases: process names with spaces and parentheses,
 * counters that went down, and lines that are not what they should be.
 */

import { describe, expect, it } from 'vitest';
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
  parsePidStat,
  parseProcStat,
  parseStatusUid,
  parseUptime,
  perSecond,
  scanPidStat,
  selectFileSystems,
  type CpuTimes,
  type PidStatFields,
} from './proc-parsers.js';

const PROC_STAT = `cpu  14759 10 6411 26491 652 5 218 1561 300 0
cpu0 6492 4 2480 15216 75 2 21 727 100 0
cpu1 8267 6 3931 11275 577 3 196 834 200 0
intr 1143530 0 9 0 0 0 0 0 0 0 0 0 0 0
ctxt 2299744
btime 1795366222
processes 10412
procs_running 3
procs_blocked 0
softirq 604231 0 128283 18 45122 22474 0 3361 254823 0 150150
`;

const times = (over: Partial<CpuTimes>): CpuTimes => ({
  user: 0,
  nice: 0,
  system: 0,
  idle: 0,
  iowait: 0,
  irq: 0,
  softirq: 0,
  steal: 0,
  ...over,
});

describe('parseProcStat', () => {
  it('reads the aggregate and per-core lines, guest not added (it is inside user)', () => {
    const stat = parseProcStat(PROC_STAT);
    expect(stat.total).toEqual({
      user: 14759,
      nice: 10,
      system: 6411,
      idle: 26491,
      iowait: 652,
      irq: 5,
      softirq: 218,
      steal: 1561,
    });
    expect(stat.cores.map((c) => [c.core, c.user, c.steal])).toEqual([
      [0, 6492, 727],
      [1, 8267, 834],
    ]);
  });

  it('keeps the core numbers of a host with an offline core', () => {
    const stat = parseProcStat('cpu  3 0 3 10 0 0 0 0\ncpu0 1 0 1 5 0 0 0 0\ncpu2 2 0 2 5 0 0 0 0\n');
    expect(stat.cores.map((c) => c.core)).toEqual([0, 2]);
  });

  it('takes the four columns of an old kernel and fills the rest with 0', () => {
    expect(parseProcStat('cpu 1 2 3 4\n').total).toEqual(times({ user: 1, nice: 2, system: 3, idle: 4 }));
  });

  it('skips malformed cpu lines and survives garbage', () => {
    const stat = parseProcStat('cpu  x y z\ncpu0 1 0 1 5 0 0 0 0\ncpuX 1 1 1 1\ncpu1 -5 0 0 0\n');
    expect(stat.total).toBeNull();
    expect(stat.cores.map((c) => c.core)).toEqual([0]);
    expect(parseProcStat('')).toEqual({ total: null, cores: [] });
    expect(parseProcStat('\u0000\u0001 garbage\n\n')).toEqual({ total: null, cores: [] });
  });
});

describe('cpuShares', () => {
  it('busy = user + nice + system + irq + softirq + steal over all columns', () => {
    const before = times({ user: 100, nice: 0, system: 50, idle: 800, iowait: 10 });
    const after = times({
      user: 130,
      nice: 10,
      system: 60,
      idle: 810,
      iowait: 20,
      irq: 5,
      softirq: 5,
      steal: 20,
    });
    // 100 ticks in all: user 30 + nice 10, system 10 + irq 5 + softirq 5, steal 20, iowait 10, idle 10.
    expect(cpuShares(before, after)).toEqual({ percent: 80, user: 40, system: 20, iowait: 10, steal: 20 });
  });

  it('a column that went backwards (iowait does) counts as 0, not as negative time', () => {
    const s = cpuShares(times({ user: 10, idle: 10, iowait: 50 }), times({ user: 20, idle: 20, iowait: 40 }));
    expect(s).toEqual({ percent: 50, user: 50, system: 0, iowait: 0, steal: 0 });
  });

  it('no time passed, or every counter reset: all 0', () => {
    expect(cpuShares(times({ user: 5 }), times({ user: 5 })).percent).toBe(0);
    expect(cpuShares(times({ user: 500, idle: 900 }), times({ user: 1, idle: 2 })).percent).toBe(0);
  });
});

describe('counterDelta and perSecond', () => {
  it('a counter that went down (wrapped at 2^32, interface re-created) gives 0, not negative', () => {
    expect(counterDelta(4294967000, 200)).toBe(0);
    expect(counterDelta(100, 150)).toBe(50);
    expect(perSecond(counterDelta(500, 100), 2)).toBe(0);
    expect(perSecond(100, 2)).toBe(50);
    expect(perSecond(100, 0)).toBe(0);
  });
});

const MEMINFO = `MemTotal:       24684092 kB
MemFree:        22274972 kB
MemAvailable:   23453228 kB
Buffers:           77084 kB
Cached:          1359280 kB
SwapCached:            0 kB
Active:           906756 kB
SwapTotal:       2097148 kB
SwapFree:        1048574 kB
HugePages_Total:       0
Hugepagesize:       2048 kB
`;

describe('parseMeminfo', () => {
  it('used is MemTotal - MemAvailable, as procps 4 free shows it', () => {
    const m = parseMeminfo(MEMINFO);
    expect(m.totalBytes).toBe(24684092 * 1024);
    expect(m.availableBytes).toBe(23453228 * 1024);
    expect(m.usedBytes).toBe((24684092 - 23453228) * 1024);
    expect(m.percent).toBeCloseTo(((24684092 - 23453228) * 100) / 24684092, 10);
    expect(m.swapTotalBytes).toBe(2097148 * 1024);
    expect(m.swapUsedBytes).toBe((2097148 - 1048574) * 1024);
    expect(m.swapPercent).toBeCloseTo(50, 3);
  });

  it('a kernel without MemAvailable (before 3.14): free + buffers + cached', () => {
    const m = parseMeminfo('MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 50 kB\nCached: 250 kB\n');
    expect(m.availableBytes).toBe(400 * 1024);
    expect(m.usedBytes).toBe(600 * 1024);
  });

  it('no swap gives 0%, and garbage gives zeros instead of NaN', () => {
    expect(
      parseMeminfo('MemTotal: 1000 kB\nMemAvailable: 1000 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n'),
    ).toEqual({
      totalBytes: 1024000,
      usedBytes: 0,
      availableBytes: 1024000,
      percent: 0,
      swapTotalBytes: 0,
      swapUsedBytes: 0,
      swapPercent: 0,
    });
    const garbage = parseMeminfo('MemTotal: lots kB\n:::\nnonsense\n');
    expect(garbage.totalBytes).toBe(0);
    expect(garbage.percent).toBe(0);
  });
});

describe('parseLoadavg and parseUptime', () => {
  it('read the kernel lines', () => {
    expect(parseLoadavg('1.18 0.72 0.30 3/180 7111\n')).toEqual([1.18, 0.72, 0.3]);
    expect(parseUptime('250.94 264.91\n')).toBe(250.94);
  });

  it('give 0 for what does not parse', () => {
    expect(parseLoadavg('x 0.5')).toEqual([0, 0.5, 0]);
    expect(parseLoadavg('')).toEqual([0, 0, 0]);
    expect(parseUptime('up a while')).toBe(0);
  });
});

const NET_DEV = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:   37316     501    0    0    0     0          0         0    37316     501    0    0    0     0       0          0
  eth0: 299880182    7958    3    7    0     0          0         0   838032    6310    1    2    0     0       0          0
veth1a2b3c4d5e6f:10 1 0 0 0 0 0 0 20 2 0 0 0 0 0 0
  bad0: 1 2 3
  bad1: a b c d e f g h i j k l m n o p
`;

describe('parseNetDev', () => {
  it('reads every interface, loopback included, skipping the headers', () => {
    const list = parseNetDev(NET_DEV);
    expect(list.map((i) => i.name)).toEqual(['lo', 'eth0', 'veth1a2b3c4d5e6f']);
    expect(list[1]).toEqual({
      name: 'eth0',
      rxBytes: 299880182,
      rxPackets: 7958,
      rxErrors: 3,
      rxDrops: 7,
      txBytes: 838032,
      txPackets: 6310,
      txErrors: 1,
      txDrops: 2,
    });
    // A long name runs into its first number with no space ("name:10"): still read.
    expect(list[2]?.rxBytes).toBe(10);
    expect(list[2]?.txBytes).toBe(20);
  });

  it('gives nothing for garbage', () => {
    expect(parseNetDev('')).toEqual([]);
    expect(parseNetDev(':\n::::\nfoo\n')).toEqual([]);
  });
});

const DISKSTATS = `   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
 254       0 vda 35881 7717 1741938 11210 40367 35131 3929256 31497 0 13280 44629 11107 52 807872 1314 7542 607
 254       1 vda1 35000 7000 1700000 11000 40000 35000 3900000 31000 0 13000 44000
   8       0 sda 100 0 800 10 200 0 1600 20 0 30 30
   8       1 sda1 1 2 3 4
 253       0 zram0 x 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0
`;

describe('parseDiskstats', () => {
  it('reads reads, writes, 512-byte sectors and io_ticks; skips short and malformed lines', () => {
    const list = parseDiskstats(DISKSTATS);
    expect(list.map((d) => d.name)).toEqual(['loop0', 'vda', 'vda1', 'sda']);
    expect(list[1]).toEqual({
      name: 'vda',
      reads: 35881,
      readSectors: 1741938,
      writes: 40367,
      writeSectors: 3929256,
      ioTicksMs: 13280,
    });
    expect(list[3]).toEqual({
      name: 'sda',
      reads: 100,
      readSectors: 800,
      writes: 200,
      writeSectors: 1600,
      ioTicksMs: 30,
    });
    expect(parseDiskstats('garbage\n\n 1 2\n')).toEqual([]);
  });
});

const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
23 27 0:22 / /sys rw,relatime - sysfs sysfs rw
24 27 0:6 / /dev rw,relatime - devtmpfs devtmpfs rw,size=12334492k
25 24 0:23 / /dev/shm rw,relatime shared:4 - tmpfs tmpfs rw,size=24684092k
26 24 0:24 / /dev/pts rw,relatime - devpts devpts rw,mode=600
27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw,discard
30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw,size=1024k
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
50 27 254:1 / /home rw,relatime shared:2 master:1 - xfs /dev/vdb rw
51 27 254:1 / /srv/home-again rw,relatime - xfs /dev/vdb rw
52 27 254:1 /projects /srv/projects rw,relatime - xfs /dev/vdb rw
53 27 0:40 / /mnt/my\\040disk rw - ext4 /dev/sdb\\0401 rw
54 27 0:41 / /var/lib/docker/overlay2/abc/merged rw - overlay overlay rw,lowerdir=/x
55 27 0:42 / /srv/nfs rw - nfs4 server:/export rw
56 27 0:43 / /snap/core/1 ro - squashfs /dev/loop0 ro
57 27 0:44 / /run/user/1000/doc rw - fuse.portal portal rw
58 27 0:45 / /media/usb rw - fuseblk /dev/sdc1 rw
59 27 0:46 / /tmp/probe rw,relatime - tmpfs tmpfs rw,size=8192k
not a mountinfo line at all
60 27 zz / /broken rw - ext4 /dev/x rw
61 27 0:47 / /no-dash rw ext4 /dev/y rw
`;

describe('parseMountinfo', () => {
  it('reads device, root, mount point, type and source, optional fields skipped', () => {
    const mounts = parseMountinfo(MOUNTINFO);
    const home = mounts.find((m) => m.mount === '/home');
    expect(home).toEqual({
      major: 254,
      minor: 1,
      root: '/',
      mount: '/home',
      type: 'xfs',
      source: '/dev/vdb',
    });
    expect(mounts.some((m) => m.mount === '/broken' || m.mount === '/no-dash')).toBe(false);
  });

  it('decodes the kernel octal escapes (\\040 is a space)', () => {
    const disk = parseMountinfo(MOUNTINFO).find((m) => m.major === 0 && m.minor === 40);
    expect(disk?.mount).toBe('/mnt/my disk');
    expect(disk?.source).toBe('/dev/sdb 1');
  });

  it('an overlay root in a container', () => {
    const mounts = parseMountinfo(
      '600 500 0:50 / / rw,relatime master:300 - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w\n',
    );
    expect(selectFileSystems(mounts).map((m) => m.mount)).toEqual(['/']);
  });
});

describe('selectFileSystems', () => {
  const selected = selectFileSystems(parseMountinfo(MOUNTINFO));
  const mounts = selected.map((m) => m.mount);

  it('keeps real file systems and tmpfs, as df does', () => {
    expect(mounts).toEqual(
      expect.arrayContaining([
        '/',
        '/home',
        '/srv/projects',
        '/mnt/my disk',
        '/media/usb',
        '/tmp/probe',
        '/sys/fs/cgroup',
      ]),
    );
  });

  it('drops pseudo, network, FUSE, squashfs and container-layer overlay file systems', () => {
    for (const gone of [
      '/proc',
      '/sys',
      '/dev',
      '/dev/pts',
      '/sys/fs/cgroup/cpu',
      '/sys/fs/cgroup/unified',
      '/var/lib/docker/overlay2/abc/merged',
      '/srv/nfs',
      '/snap/core/1',
      '/run/user/1000/doc',
    ]) {
      expect(mounts).not.toContain(gone);
    }
  });

  it('a bind mount of the same device and directory once, at its shortest mount point', () => {
    expect(mounts).toContain('/home');
    expect(mounts).not.toContain('/srv/home-again');
    // Another directory of the same device is another entry (df shows it too).
    expect(mounts).toContain('/srv/projects');
  });

  it('a mount point mounted over: only the top mount, the one statfs sees', () => {
    const shm = selected.filter((m) => m.mount === '/dev/shm');
    expect(shm.map((m) => m.minor)).toEqual([27]);
  });
});

describe('dfPercent', () => {
  it("is df's Use%: used / (used + available), rounded up", () => {
    expect(dfPercent(0, 100)).toBe(0);
    expect(dfPercent(1, 999)).toBe(1); // 0.1% shows as 1%
    expect(dfPercent(50, 50)).toBe(50);
    expect(dfPercent(501, 499)).toBe(51);
    expect(dfPercent(100, 0)).toBe(100);
    // A real ext4 that df showed at 23%: its blocks reserved for root are in neither figure.
    expect(dfPercent(24809156608, 84135137280)).toBe(23);
  });

  it('an empty file system is 0%', () => {
    expect(dfPercent(0, 0)).toBe(0);
  });
});

/** A /proc/PID/stat line with the given name, utime, stime, starttime and rss. */
function statLine(
  pid: number,
  name: string,
  utime: number,
  stime: number,
  start: number,
  rss: number,
): string {
  return (
    `${pid} (${name}) S 1 ${pid} ${pid} 0 -1 4194560 2412 0 0 0 ${utime} ${stime} 0 0 20 0 1 0 ${start} ` +
    `12451840 ${rss} 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0\n`
  );
}

describe('parsePidStat and scanPidStat', () => {
  it('reads a plain line', () => {
    expect(parsePidStat(statLine(812, 'sshd', 15, 7, 1234, 2048))).toEqual({
      pid: 812,
      name: 'sshd',
      cpuTicks: 22,
      startTicks: 1234,
      rssPages: 2048,
    });
  });

  it('a name with a space and a colon, as tmux sets it: (tmux: server)', () => {
    const s = parsePidStat(statLine(4242, 'tmux: server', 300, 100, 99, 1024));
    expect(s?.name).toBe('tmux: server');
    expect(s?.cpuTicks).toBe(400);
  });

  it('a name with parentheses inside it: the LAST ) ends it', () => {
    expect(parsePidStat(statLine(7, 'a) b', 1, 2, 3, 4))?.name).toBe('a) b');
    expect(parsePidStat(statLine(7, '(a) b)', 1, 2, 3, 4))?.name).toBe('(a) b)');
    // A name made to look like the fields that follow it does not fool the parser.
    const fake = parsePidStat(statLine(8, ') R 1 1 1 0 -1 0 0 0 0 0 999 999', 5, 6, 70, 80));
    expect(fake).toMatchObject({ pid: 8, cpuTicks: 11, startTicks: 70, rssPages: 80 });
  });

  it('a name in UTF-8', () => {
    expect(parsePidStat(statLine(9, 'wörker', 0, 0, 1, 0))?.name).toBe('wörker');
  });

  it('a zombie (rss 0) and a kernel thread', () => {
    expect(parsePidStat(statLine(2, 'kthreadd', 0, 3, 0, 0))).toEqual({
      pid: 2,
      name: 'kthreadd',
      cpuTicks: 3,
      startTicks: 0,
      rssPages: 0,
    });
  });

  it('malformed and truncated lines give null, never an exception', () => {
    for (const bad of [
      '',
      'garbage',
      '12 (x',
      '12 (x) S 1 2 3',
      '12 (x) S 1 2 3 4 5 6 7 8 9 10 nope 11 12 13',
      statLine(12, 'x', 1, 2, 3, 4).slice(0, 60),
      '(x) S 1 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 3 100 4 0',
      ')(',
    ]) {
      expect(parsePidStat(bad)).toBeNull();
    }
  });

  it('scanPidStat reads from the bytes given and leaves the name as offsets', () => {
    const bytes = Buffer.alloc(512, 0x7a); // stale bytes after the line must not be read
    const length = bytes.write(statLine(31337, 'tmux: server', 10, 20, 30, 40));
    const out: PidStatFields = { commStart: 0, commEnd: 0, cpuTicks: 0, startTicks: 0, rssPages: 0 };
    expect(scanPidStat(bytes, length, out)).toBe(true);
    expect(out).toMatchObject({ cpuTicks: 30, startTicks: 30, rssPages: 40 });
    expect(bytes.toString('utf8', out.commStart, out.commEnd)).toBe('tmux: server');
    expect(scanPidStat(bytes, 20, out)).toBe(false);
  });
});

describe('parseStatusUid and parsePasswd', () => {
  it('the real uid is the first of the Uid line', () => {
    expect(parseStatusUid('Name:\tsshd\nUmask:\t0022\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n')).toBe(1000);
    expect(parseStatusUid('Uid:\t33\t33\t33\t33\n')).toBe(33);
    expect(parseStatusUid('Name:\tx\n')).toBeNull();
    expect(parseStatusUid('Uid:\tnobody\n')).toBeNull();
    expect(parseStatusUid('')).toBeNull();
  });

  it('maps uids to names, the first line for a uid winning; comments and junk skipped', () => {
    const users = parsePasswd(
      'root:x:0:0:root:/root:/bin/bash\n# comment:x:5:5\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n' +
        'toor:x:0:0::/root:/bin/sh\nbroken line\nnouid:x::\n',
    );
    expect([...users]).toEqual([
      [0, 'root'],
      [33, 'www-data'],
    ]);
  });
});
