import { mkdirSync, mkdtempSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { endianness, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatIp, parseIp } from '../util/ip-address.js';
import {
  ConnectionOwnerCache,
  formatCommandLine,
  parseProcNetSockets,
  socketInodeOfLink,
  SocketOwners,
} from './socket-owners.js';
import type { SocketEntry, SocketOwner, SocketSnapshot } from './socket-types.js';

// Lines as an x86 (little-endian) kernel writes them.
const TCP4 = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1001 1 0000000000000000 100 0 0 10 0
   1: 0F02000A:C350 22D8B85D:01BB 01 00000000:00000000 02:000A7B2C 00000000  1000        0 1002 2 0000000000000000 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:D431 06 00000000:00000000 03:000015B5 00000000     0        0 0 3 0000000000000000
this line is not a socket
   3: 0100007F:1F9 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 1003 1
   4: 0100007F:1F91 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000
   5: 0100007F:1F92 00000000:0000 0C 00000000:00000000 00:00000000 00000000     0        0 1005 1 0000000000000000

`;

const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2001 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000001000000:01BB B80D01200100000000000000CDAB0000:E2A4 01 00000000:00000000 02:00000ABC 00000000    33        0 2002 1 0000000000000000 20 4 1 10 -1
   2: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 2003 1 0000000000000000
   3: 0000000000000000FFFF00000100007F:2382 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2004 1 0000000000000000
   4: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 2005 1 0000000000000000
`;

const UDP4 = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 3001 2 0000000000000000 0
  456: 0F02000A:A411 0100A8C0:0035 01 00000000:00000000 00:00000000 00000000   101        0 3002 2 0000000000000000 0
`;

describe('parseProcNetSockets', () => {
  it('reads IPv4 listeners and connections, with ports, ss state names, uid and inode', () => {
    const sockets = parseProcNetSockets(TCP4, 'tcp', 4, true);
    expect(sockets.slice(0, 3)).toEqual([
      {
        protocol: 'tcp',
        ipVersion: 4,
        localAddress: '127.0.0.1',
        localPort: 8080,
        remoteAddress: '0.0.0.0',
        remotePort: 0,
        state: 'LISTEN',
        inode: 1001,
        uid: 1000,
      },
      {
        protocol: 'tcp',
        ipVersion: 4,
        localAddress: '10.0.2.15',
        localPort: 50000,
        remoteAddress: '93.184.216.34',
        remotePort: 443,
        state: 'ESTAB',
        inode: 1002,
        uid: 1000,
      },
      // TIME-WAIT: the socket has no file any more, so no inode and no owner.
      expect.objectContaining({ state: 'TIME-WAIT', inode: 0, uid: 0, remotePort: 54321 }),
    ]);
  });

  it('skips garbage, short and truncated lines, and names an unknown state UNKNOWN', () => {
    const sockets = parseProcNetSockets(TCP4, 'tcp', 4, true);
    expect(sockets.map((s) => s.inode)).toEqual([1001, 1002, 0, 1005]);
    expect(sockets[3]?.state).toBe('UNKNOWN');
    for (const junk of ['', '\n\n', 'sl local', '   0: zz:zz', '\0\0\0', 'x'.repeat(10_000)]) {
      expect(parseProcNetSockets(junk, 'tcp', 4)).toEqual([]);
    }
  });

  it('reads IPv6 in RFC 5952 form, and IPv4-mapped addresses as IPv4', () => {
    const sockets = parseProcNetSockets(TCP6, 'tcp', 6, true);
    expect(
      sockets.map((s) => [s.ipVersion, s.localAddress, s.localPort, s.remoteAddress, s.remotePort]),
    ).toEqual([
      [6, '::', 22, '::', 0],
      [6, '2001:db8::1', 443, '2001:db8:0:1::abcd', 58020],
      [4, '127.0.0.1', 8080, '127.0.0.1', 54321],
      // A dual-stack listener bound to a mapped address: IPv4, with an IPv4 "no peer".
      [4, '127.0.0.1', 9090, '0.0.0.0', 0],
    ]);
    expect(sockets[1]).toMatchObject({ state: 'ESTAB', uid: 33, inode: 2002 });
    // An IPv4-sized line in the IPv6 table is not an IPv6 socket.
    expect(sockets.some((s) => s.inode === 2005)).toBe(false);
  });

  it('gives addresses exactly as flows format them', () => {
    const [, connection] = parseProcNetSockets(TCP6, 'tcp', 6, true);
    const decoderForm = (text: string) => {
      const ip = parseIp(text)!;
      return formatIp(ip.version, ip.words);
    };
    expect(connection?.localAddress).toBe(decoderForm('2001:0DB8:0000:0000:0000:0000:0000:0001'));
    expect(connection?.remoteAddress).toBe(decoderForm('2001:db8:0:1:0:0:0:abcd'));
  });

  it('reads UDP: 07 is an unconnected socket, 01 a connected one', () => {
    expect(parseProcNetSockets(UDP4, 'udp', 4, true)).toEqual([
      expect.objectContaining({ localAddress: '0.0.0.0', localPort: 68, state: 'UNCONN', inode: 3001 }),
      expect.objectContaining({
        localAddress: '10.0.2.15',
        localPort: 42001,
        remoteAddress: '192.168.0.1',
        remotePort: 53,
        state: 'ESTAB',
        uid: 101,
      }),
    ]);
  });

  it('reads a big-endian host as written', () => {
    const line =
      '   0: 7F000001:0050 C0A80001:C000 01 00000000:00000000 00:00000000 00000000     0        0 7 1';
    expect(parseProcNetSockets(line, 'tcp', 4, false)[0]).toMatchObject({
      localAddress: '127.0.0.1',
      remoteAddress: '192.168.0.1',
    });
  });
});

describe('procfs text parsers', () => {
  it('joins the command line and keeps at most 256 characters', () => {
    expect(formatCommandLine('nginx: worker process\0\0\0')).toBe('nginx: worker process');
    expect(formatCommandLine('curl\0-s\0https://example.org/\0')).toBe('curl -s https://example.org/');
    expect(formatCommandLine(`java\0${'x'.repeat(1000)}`)).toHaveLength(256);
  });

  it('reads socket inodes from fd links and nothing else', () => {
    expect(socketInodeOfLink('socket:[123]')).toBe(123);
    expect(socketInodeOfLink('pipe:[123]')).toBeNull();
    expect(socketInodeOfLink('/tmp/socket:[123]')).toBeNull();
    expect(socketInodeOfLink('socket:[]')).toBeNull();
  });
});

/** The hex of /proc/net for `text` on this host. */
function tableHex(text: string): string {
  const ip = parseIp(text)!;
  return (ip.version === 4 ? [ip.words[0]!] : [...ip.words]).map(hexWord).join('');
}

function hexWord(w: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(w);
  const n = endianness() === 'LE' ? b.readUInt32LE() : b.readUInt32BE();
  return n.toString(16).toUpperCase().padStart(8, '0');
}

interface FakeSocket {
  local: string;
  localPort: number;
  remote?: string;
  remotePort?: number;
  /** Hex, as in the table: 0A LISTEN, 01 ESTAB, 06 TIME-WAIT, 07 UNCONN. */
  state: string;
  inode: number;
  uid?: number;
}

interface FakeProcess {
  pid: number;
  comm: string;
  uid: number;
  cmdline: string[];
  startTime?: number;
  /** fd -> link target ("socket:[1001]", "/dev/null"). */
  fds: Record<number, string>;
}

/** A procfs tree in a temp folder: the four tables and some pid folders. */
class FakeProc {
  readonly root = mkdtempSync(join(tmpdir(), 'flowtrack-fake-proc-'));
  readonly passwd = join(this.root, 'passwd');

  constructor() {
    mkdirSync(join(this.root, 'net'));
    writeFileSync(
      this.passwd,
      'root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\n',
    );
    this.tables({});
    // Not a process: must be ignored.
    mkdirSync(join(this.root, 'sys'));
    writeFileSync(join(this.root, 'uptime'), '1.0 1.0\n');
  }

  tables(tables: { tcp?: FakeSocket[]; tcp6?: FakeSocket[]; udp?: FakeSocket[]; udp6?: FakeSocket[] }): void {
    for (const name of ['tcp', 'tcp6', 'udp', 'udp6'] as const) {
      const v6 = name.endsWith('6');
      const zero = v6 ? '::' : '0.0.0.0';
      const lines = (tables[name] ?? []).map((s, i) => {
        const port = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
        return `${String(i).padStart(4)}: ${tableHex(s.local)}:${port(s.localPort)} ${tableHex(s.remote ?? zero)}:${port(s.remotePort ?? 0)} ${s.state} 00000000:00000000 00:00000000 00000000 ${String(s.uid ?? 0).padStart(5)}        0 ${s.inode} 1 0000000000000000 100 0 0 10 0`;
      });
      writeFileSync(
        join(this.root, 'net', name),
        ['  sl  local_address rem_address   st', ...lines, ''].join('\n'),
      );
    }
  }

  process(p: FakeProcess): void {
    const dir = join(this.root, String(p.pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(join(dir, 'fd'), { recursive: true });
    writeFileSync(
      join(dir, 'stat'),
      `${p.pid} (${p.comm}) S 1 ${p.pid} ${p.pid} 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 ${p.startTime ?? 1000} 3133440 395\n`,
    );
    writeFileSync(join(dir, 'comm'), `${p.comm}\n`);
    writeFileSync(
      join(dir, 'status'),
      `Name:\t${p.comm}\nPid:\t${p.pid}\nUid:\t${p.uid}\t${p.uid}\t${p.uid}\t${p.uid}\n`,
    );
    writeFileSync(join(dir, 'cmdline'), `${p.cmdline.join('\0')}\0`);
    for (const [fd, target] of Object.entries(p.fds)) this.openFd(p.pid, Number(fd), target);
  }

  openFd(pid: number, fd: number, target: string): void {
    symlinkSync(target, join(this.root, String(pid), 'fd', String(fd)));
  }

  closeFd(pid: number, fd: number): void {
    unlinkSync(join(this.root, String(pid), 'fd', String(fd)));
  }

  exit(pid: number): void {
    rmSync(join(this.root, String(pid)), { recursive: true, force: true });
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

const pidsOf = (entry: SocketEntry | undefined) => entry?.owners.map((o) => o.pid);
const byInode = (snapshot: SocketSnapshot, inode: number) =>
  [...snapshot.listening, ...snapshot.connections].find((s) => s.inode === inode);

describe('SocketOwners on a fake /proc', () => {
  let proc: FakeProc;
  let clock: number;
  let owners: SocketOwners;

  const WEB_LISTENER: FakeSocket = { local: '0.0.0.0', localPort: 80, state: '0A', inode: 1001, uid: 0 };
  const ACCEPTED: FakeSocket = {
    local: '10.0.0.5',
    localPort: 80,
    remote: '198.51.100.7',
    remotePort: 61000,
    state: '01',
    inode: 1002,
    uid: 33,
  };
  const OUTGOING: FakeSocket = {
    local: '10.0.0.5',
    localPort: 50000,
    remote: '93.184.216.34',
    remotePort: 443,
    state: '01',
    inode: 2001,
    uid: 1000,
  };
  const TIME_WAIT: FakeSocket = {
    local: '10.0.0.5',
    localPort: 80,
    remote: '198.51.100.8',
    remotePort: 61001,
    state: '06',
    inode: 0,
  };
  const KERNEL_UDP: FakeSocket = { local: '0.0.0.0', localPort: 4789, state: '07', inode: 9999 };
  const DNS6: FakeSocket = { local: '::1', localPort: 53, state: '07', inode: 3001, uid: 0 };

  beforeEach(() => {
    proc = new FakeProc();
    clock = 1_700_000_000_000;
    owners = new SocketOwners({
      procRoot: proc.root,
      passwdFile: proc.passwd,
      now: () => clock,
      localAddresses: () => ['127.0.0.1', '10.0.0.5'],
    });
    proc.tables({ tcp: [WEB_LISTENER, ACCEPTED, OUTGOING, TIME_WAIT], udp: [KERNEL_UDP], udp6: [DNS6] });
    proc.process({
      pid: 100,
      comm: 'nginx',
      uid: 0,
      cmdline: ['nginx: master process /usr/sbin/nginx'],
      fds: { 0: '/dev/null', 6: 'socket:[1001]' },
    });
    proc.process({
      pid: 101,
      comm: 'nginx',
      uid: 33,
      cmdline: ['nginx: worker process'],
      fds: { 0: '/dev/null', 6: 'socket:[1001]', 7: 'socket:[1002]', 8: 'socket:[55555]' },
    });
    proc.process({
      pid: 200,
      comm: 'curl',
      uid: 1000,
      cmdline: ['curl', '-s', 'https://example.org/'],
      fds: { 0: 'pipe:[77]', 1: '/tmp/out', 3: 'socket:[2001]' },
    });
    proc.process({
      pid: 300,
      comm: 'dnsmasq',
      uid: 0,
      cmdline: ['dnsmasq', '-k'],
      fds: { 4: 'socket:[3001]' },
    });
    proc.process({
      pid: 400,
      comm: 'cron',
      uid: 0,
      cmdline: ['/usr/sbin/cron', '-f'],
      fds: { 0: '/dev/null' },
    });
  });

  afterEach(() => {
    proc.remove();
  });

  it('names the processes holding each socket, and splits listeners from connections', () => {
    const snapshot = owners.snapshot();
    expect(snapshot.at).toBe(clock);
    expect(snapshot.localAddresses).toEqual(['127.0.0.1', '10.0.0.5']);
    expect(snapshot.listening.map((s) => s.inode).sort()).toEqual([1001, 3001, 9999]);
    expect(snapshot.connections.map((s) => s.inode).sort()).toEqual([0, 1002, 2001]);
    // The master and its forked worker share the listener, lowest pid first.
    expect(pidsOf(byInode(snapshot, 1001))).toEqual([100, 101]);
    expect(byInode(snapshot, 1002)?.owners).toEqual([
      {
        pid: 101,
        name: 'nginx',
        user: 'www-data',
        uid: 33,
        command: 'nginx: worker process',
      } satisfies SocketOwner,
    ]);
    expect(byInode(snapshot, 2001)?.owners).toEqual([
      { pid: 200, name: 'curl', user: '1000', uid: 1000, command: 'curl -s https://example.org/' },
    ]);
    expect(byInode(snapshot, 3001)).toMatchObject({ ipVersion: 6, localAddress: '::1', state: 'UNCONN' });
    expect(pidsOf(byInode(snapshot, 3001))).toEqual([300]);
    // TIME-WAIT and a kernel socket: no process holds them.
    expect(snapshot.connections.find((s) => s.state === 'TIME-WAIT')?.owners).toEqual([]);
    expect(byInode(snapshot, 9999)?.owners).toEqual([]);
  });

  it('reads no descriptor again while no socket is new', () => {
    owners.snapshot();
    const after = { ...owners.stats };
    for (let i = 0; i < 5; i++) {
      clock += 2000;
      expect(pidsOf(byInode(owners.snapshot(), 1002))).toEqual([101]);
    }
    expect(owners.stats).toMatchObject({ snapshots: 6, linksRead: after.linksRead });
    // A process that started meanwhile, without a new socket, is not read yet either.
    proc.process({ pid: 500, comm: 'bash', uid: 0, cmdline: ['bash'], fds: { 0: '/dev/tty1' } });
    clock += 2000;
    owners.snapshot();
    expect(owners.stats.linksRead).toBe(after.linksRead);
  });

  it('finds a new process with a new socket without reading the others', () => {
    owners.snapshot();
    const before = { ...owners.stats };
    const wget: FakeSocket = { ...OUTGOING, localPort: 50001, inode: 2002 };
    proc.tables({ tcp: [WEB_LISTENER, ACCEPTED, OUTGOING, wget], udp: [KERNEL_UDP], udp6: [DNS6] });
    proc.process({
      pid: 600,
      comm: 'wget',
      uid: 0,
      cmdline: ['wget', 'x'],
      fds: { 3: 'socket:[2002]', 4: '/x' },
    });
    clock += 2000;
    const snapshot = owners.snapshot();
    expect(byInode(snapshot, 2002)?.owners).toEqual([
      { pid: 600, name: 'wget', user: 'root', uid: 0, command: 'wget x' },
    ]);
    expect(owners.stats.fdTablesRead - before.fdTablesRead).toBe(1);
    expect(owners.stats.linksRead - before.linksRead).toBe(2);
  });

  it('finds a new connection of a busy server without reading the connections it knows', () => {
    const busy = Array.from({ length: 40 }, (_, i): FakeSocket => ({
      ...ACCEPTED,
      remotePort: 20000 + i,
      inode: 5000 + i,
    }));
    for (const [i, socket] of busy.entries()) proc.openFd(101, 10 + i, `socket:[${socket.inode}]`);
    const tables = { tcp: [WEB_LISTENER, ACCEPTED, OUTGOING, ...busy], udp: [KERNEL_UDP], udp6: [DNS6] };
    proc.tables(tables);
    owners.snapshot();
    const before = { ...owners.stats };
    const next: FakeSocket = { ...ACCEPTED, remotePort: 61002, inode: 1003 };
    proc.tables({ ...tables, tcp: [...tables.tcp, next] });
    proc.openFd(101, 9, 'socket:[1003]');
    clock += 2000;
    expect(pidsOf(byInode(owners.snapshot(), 1003))).toEqual([101]);
    // 52 descriptors in all, 45 of them listed sockets it knows: only the other 7 may be read.
    expect(owners.stats.linksRead - before.linksRead).toBeLessThanOrEqual(7);
  });

  it('forgets an exited process, and does not search again for a socket nobody holds', () => {
    owners.snapshot();
    proc.exit(200);
    clock += 2000;
    expect(byInode(owners.snapshot(), 2001)?.owners).toEqual([]);
    clock += 2000;
    expect(byInode(owners.snapshot(), 2001)?.owners).toEqual([]);
    const searched = { ...owners.stats };
    clock += 2000;
    expect(byInode(owners.snapshot(), 2001)?.owners).toEqual([]);
    expect(owners.stats.linksRead).toBe(searched.linksRead);
    expect(owners.stats.fdTablesRead).toBe(searched.fdTablesRead);
  });

  it('reads every process for a socket only once it outlived a snapshot: most that go missing closed meanwhile', () => {
    owners.snapshot();
    const before = { ...owners.stats };
    // Listed, but closed before its holder was read: only the processes that hold sockets are read.
    proc.tables({
      tcp: [WEB_LISTENER, ACCEPTED, OUTGOING, { ...OUTGOING, inode: 7777 }],
      udp: [KERNEL_UDP],
      udp6: [DNS6],
    });
    clock += 2000;
    expect(byInode(owners.snapshot(), 7777)?.owners).toEqual([]);
    expect(owners.stats.fdTablesRead - before.fdTablesRead).toBe(4);
    // A process that never held a socket opens one: named one snapshot later, by the wider search.
    proc.openFd(400, 5, 'socket:[8888]');
    proc.tables({
      tcp: [WEB_LISTENER, ACCEPTED, OUTGOING, { ...OUTGOING, inode: 8888 }],
      udp: [KERNEL_UDP],
      udp6: [DNS6],
    });
    clock += 2000;
    expect(byInode(owners.snapshot(), 8888)?.owners).toEqual([]);
    clock += 2000;
    expect(pidsOf(byInode(owners.snapshot(), 8888))).toEqual([400]);
  });

  it('sees a reused pid as another process', () => {
    owners.snapshot();
    proc.process({
      pid: 200,
      comm: 'ssh',
      uid: 0,
      cmdline: ['ssh', 'backup'],
      startTime: 99_999,
      fds: { 3: 'socket:[2003]' },
    });
    const ssh: FakeSocket = { ...OUTGOING, remotePort: 22, inode: 2003 };
    proc.tables({ tcp: [WEB_LISTENER, OUTGOING, ssh], udp: [KERNEL_UDP] });
    clock += 2000;
    const snapshot = owners.snapshot();
    expect(byInode(snapshot, 2003)?.owners).toEqual([
      { pid: 200, name: 'ssh', user: 'root', uid: 0, command: 'ssh backup' },
    ]);
    expect(byInode(snapshot, 2001)?.owners).toEqual([]);
  });

  it('catches forks and closes of shared sockets within the rescan interval', () => {
    owners = new SocketOwners({
      procRoot: proc.root,
      passwdFile: proc.passwd,
      now: () => clock,
      rescanIntervalMs: 10_000,
      localAddresses: () => [],
    });
    owners.snapshot();
    // A second worker forked with the listener; the master closes its copy.
    proc.process({
      pid: 102,
      comm: 'nginx',
      uid: 33,
      cmdline: ['nginx: worker process'],
      fds: { 6: 'socket:[1001]' },
    });
    proc.closeFd(100, 6);
    clock += 2000;
    expect(pidsOf(byInode(owners.snapshot(), 1001))).toEqual([100, 101]);
    for (let t = 0; t < 20_000; t += 2000) {
      clock += 2000;
      owners.snapshot();
    }
    expect(pidsOf(byInode(owners.snapshot(), 1001))).toEqual([101, 102]);
  });

  it('gives the uid as text for a user /etc/passwd does not know, and reads passwd again once it changes', () => {
    expect(byInode(owners.snapshot(), 2001)?.owners[0]?.user).toBe('1000');
    writeFileSync(proc.passwd, 'alice:x:1000:1000::/home/alice:/bin/sh\n');
    proc.process({ pid: 201, comm: 'curl', uid: 1000, cmdline: ['curl'], fds: { 3: 'socket:[2004]' } });
    proc.tables({ tcp: [OUTGOING, { ...OUTGOING, localPort: 50004, inode: 2004 }] });
    clock += 2000;
    expect(byInode(owners.snapshot(), 2004)?.owners[0]?.user).toBe('alice');
  });

  it('lists nothing, without throwing, where there is no procfs', () => {
    const none = new SocketOwners({ procRoot: join(proc.root, 'missing'), localAddresses: () => [] });
    expect(none.snapshot()).toMatchObject({ listening: [], connections: [] });
  });

  it('feeds a cache that names the local process of a flow', () => {
    const cache = new ConnectionOwnerCache({ now: () => clock });
    cache.add(owners.snapshot());
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '10.0.0.5',
        srcPort: 50000,
        dstAddr: '93.184.216.34',
        dstPort: 443,
      }),
    ).toMatchObject({ owner: { pid: 200, name: 'curl' }, side: 'client', via: 'connection' });
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '198.51.100.7',
        srcPort: 61000,
        dstAddr: '10.0.0.5',
        dstPort: 80,
      }),
    ).toMatchObject({ owner: { pid: 101 }, side: 'server', via: 'connection' });
    // A connection that came and went between two snapshots: the listener serves it.
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '198.51.100.9',
        srcPort: 1234,
        dstAddr: '10.0.0.5',
        dstPort: 80,
      }),
    ).toMatchObject({
      owner: { pid: 100 },
      owners: [{ pid: 100 }, { pid: 101 }],
      side: 'server',
      via: 'listener',
    });
  });
});

function owner(pid: number, name: string): SocketOwner {
  return { pid, name, user: 'root', uid: 0, command: name };
}

function entry(fields: Partial<SocketEntry> & Pick<SocketEntry, 'localAddress' | 'localPort'>): SocketEntry {
  return {
    protocol: 'tcp',
    ipVersion: fields.localAddress.includes(':') ? 6 : 4,
    remoteAddress: fields.localAddress.includes(':') ? '::' : '0.0.0.0',
    remotePort: 0,
    state: 'ESTAB',
    inode: 1,
    uid: 0,
    owners: [],
    ...fields,
  };
}

function snapshotOf(
  at: number,
  sockets: SocketEntry[],
  localAddresses = ['192.0.2.10', '2001:db8::10'],
): SocketSnapshot {
  return {
    at,
    listening: sockets.filter((s) => s.state === 'LISTEN' || s.state === 'UNCONN'),
    connections: sockets.filter((s) => s.state !== 'LISTEN' && s.state !== 'UNCONN'),
    localAddresses,
  };
}

describe('ConnectionOwnerCache', () => {
  let clock: number;
  const curl = owner(4000, 'curl');
  const sshd = owner(700, 'sshd');
  const outgoing = entry({
    localAddress: '192.0.2.10',
    localPort: 40000,
    remoteAddress: '203.0.113.5',
    remotePort: 443,
    owners: [curl],
  });

  beforeEach(() => {
    clock = 1_000_000;
  });

  it('finds a connection with the client local or the server local', () => {
    const cache = new ConnectionOwnerCache({ now: () => clock });
    const accepted = entry({
      localAddress: '2001:db8::10',
      localPort: 22,
      remoteAddress: '2001:db8:1::7',
      remotePort: 50123,
      owners: [sshd],
    });
    cache.add(snapshotOf(clock, [outgoing, accepted]));
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '192.0.2.10',
        srcPort: 40000,
        dstAddr: '203.0.113.5',
        dstPort: 443,
      }),
    ).toEqual({ owner: curl, owners: [curl], side: 'client', via: 'connection' });
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '2001:db8:1::7',
        srcPort: 50123,
        dstAddr: '2001:db8::10',
        dstPort: 22,
      }),
    ).toEqual({ owner: sshd, owners: [sshd], side: 'server', via: 'connection' });
    // Same ends, other protocol or port: not this connection.
    expect(
      cache.lookup({
        protocol: 'udp',
        srcAddr: '192.0.2.10',
        srcPort: 40000,
        dstAddr: '203.0.113.5',
        dstPort: 443,
      }),
    ).toBeNull();
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '192.0.2.10',
        srcPort: 40001,
        dstAddr: '203.0.113.5',
        dstPort: 443,
      }),
    ).toBeNull();
  });

  it('falls back to a listener on the server address, or a wildcard one only for this host', () => {
    const cache = new ConnectionOwnerCache({ now: () => clock });
    const postgres = owner(900, 'postgres');
    const named = owner(53, 'named');
    cache.add(
      snapshotOf(clock, [
        entry({ localAddress: '0.0.0.0', localPort: 22, state: 'LISTEN', owners: [sshd] }),
        entry({ localAddress: '127.0.0.1', localPort: 5432, state: 'LISTEN', owners: [postgres] }),
        entry({ localAddress: '::', localPort: 8080, state: 'LISTEN', owners: [owner(1200, 'java')] }),
        entry({ protocol: 'udp', localAddress: '::', localPort: 53, state: 'UNCONN', owners: [named] }),
      ]),
    );
    const to = (dstAddr: string, dstPort: number, protocol = 'tcp') =>
      cache.lookup({ protocol, srcAddr: '198.51.100.1', srcPort: 33333, dstAddr, dstPort });
    expect(to('192.0.2.10', 22)).toEqual({ owner: sshd, owners: [sshd], side: 'server', via: 'listener' });
    expect(to('127.0.0.1', 5432)?.owner.name).toBe('postgres');
    // A dual-stack listener on :: takes IPv4 too.
    expect(to('192.0.2.10', 8080)?.owner.name).toBe('java');
    expect(to('2001:db8::10', 53, 'udp')?.owner.name).toBe('named');
    expect(to('2001:db8::10', 22)).toBeNull();
    // Another host's port 22 is not our sshd.
    expect(to('192.0.2.99', 22)).toBeNull();
    expect(to('192.0.2.10', 23)).toBeNull();
  });

  it('names the UDP client sending from an unconnected socket', () => {
    const cache = new ConnectionOwnerCache({ now: () => clock });
    const resolver = owner(321, 'systemd-resolve');
    cache.add(
      snapshotOf(clock, [
        entry({
          protocol: 'udp',
          localAddress: '0.0.0.0',
          localPort: 41000,
          state: 'UNCONN',
          owners: [resolver],
        }),
      ]),
    );
    expect(
      cache.lookup({
        protocol: 'udp',
        srcAddr: '192.0.2.10',
        srcPort: 41000,
        dstAddr: '9.9.9.9',
        dstPort: 53,
      }),
    ).toEqual({ owner: resolver, owners: [resolver], side: 'client', via: 'listener' });
    // Not for TCP: a connection is its own socket, never a listener.
    expect(
      cache.lookup({
        protocol: 'tcp',
        srcAddr: '192.0.2.10',
        srcPort: 41000,
        dstAddr: '9.9.9.9',
        dstPort: 53,
      }),
    ).toBeNull();
  });

  it('keeps the owner of a connection seen later without one (TIME-WAIT) and forgets it ttl after it was last seen', () => {
    const cache = new ConnectionOwnerCache({ ttlMs: 60_000, now: () => clock });
    const flow = {
      protocol: 'tcp',
      srcAddr: '192.0.2.10',
      srcPort: 40000,
      dstAddr: '203.0.113.5',
      dstPort: 443,
    };
    cache.add(snapshotOf(clock, [outgoing]));
    clock += 50_000;
    cache.add(snapshotOf(clock, [{ ...outgoing, state: 'TIME-WAIT', inode: 0, owners: [] }]));
    clock += 50_000;
    expect(cache.lookup(flow)?.owner).toEqual(curl);
    clock += 10_001;
    expect(cache.lookup(flow)).toBeNull();
    expect(cache.size).toBe(0);
  });

  it('drops expired sockets as snapshots come, and never holds more than maxEntries', () => {
    const cache = new ConnectionOwnerCache({ ttlMs: 60_000, maxEntries: 3, now: () => clock });
    const flowFrom = (port: number) => ({
      protocol: 'tcp',
      srcAddr: '192.0.2.10',
      srcPort: port,
      dstAddr: '203.0.113.5',
      dstPort: 443,
    });
    for (let port = 40000; port < 40005; port++) {
      cache.add(snapshotOf(clock, [{ ...outgoing, localPort: port }]));
      clock += 1000;
      expect(cache.size).toBeLessThanOrEqual(3);
    }
    expect([40000, 40001, 40002, 40003, 40004].map((p) => cache.lookup(flowFrom(p)) !== null)).toEqual([
      false,
      false,
      true,
      true,
      true,
    ]);
    clock += 60_000;
    cache.add(snapshotOf(clock, []));
    expect(cache.size).toBe(0);
  });

  it('never remembers a socket no process was seen holding', () => {
    const cache = new ConnectionOwnerCache({ now: () => clock });
    cache.add(snapshotOf(clock, [{ ...outgoing, owners: [] }]));
    expect(cache.size).toBe(0);
  });
});
