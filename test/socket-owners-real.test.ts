/**
 * SocketOwners against the real host: Python children listen and connect on 127.0.0.1 and ::1
 * only, and the snapshot must name them, agree with `ss -ltnupHe` on every listener's processes,
 * and let the ConnectionOwnerCache name the client of their connection, also after it closed.
 */

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect, it } from 'vitest';
import { ConnectionOwnerCache, SocketOwners } from '../src/system/socket-owners.js';
import type { SocketEntry, SocketSnapshot } from '../src/system/socket-types.js';
import { hasTool, describeUnlessMissing } from './helpers/system-tools.js';

// Listens on TCP 127.0.0.1, TCP ::1 (when the host has IPv6) and UDP 127.0.0.1, prints the ports,
// and accepts connections, keeping them open, until killed.
const SERVER = `
import json, socket
tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
tcp.bind(('127.0.0.1', 0))
tcp.listen(16)
udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
udp.bind(('127.0.0.1', 0))
tcp6_port = None
try:
    tcp6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    tcp6.bind(('::1', 0))
    tcp6.listen(16)
    tcp6_port = tcp6.getsockname()[1]
except OSError:
    pass
print(json.dumps({'tcp': tcp.getsockname()[1], 'udp': udp.getsockname()[1], 'tcp6': tcp6_port}), flush=True)
accepted = []
while True:
    accepted.append(tcp.accept()[0])
`;

// Connects to the TCP port twice, plainly and from a dual-stack IPv6 socket (which the kernel
// lists with IPv4-mapped addresses), prints both local ports and holds them for 5 s.
const CLIENT = `
import json, socket, sys, time
port = int(sys.argv[1])
plain = socket.create_connection(('127.0.0.1', port))
mapped_port = None
try:
    mapped = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    mapped.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    mapped.connect(('::ffff:127.0.0.1', port))
    mapped_port = mapped.getsockname()[1]
except OSError:
    pass
print(json.dumps({'plain': plain.getsockname()[1], 'mapped': mapped_port}), flush=True)
time.sleep(5)
`;

const missing = [
  ...['python3', 'ss'].filter((tool) => !hasTool(tool)),
  ...(existsSync('/proc/net/tcp') ? [] : ['/proc/net/tcp (Linux procfs)']),
];

/** The first line a child prints, as JSON. */
async function firstLine<T>(child: ChildProcess, timeoutMs = 10_000): Promise<T> {
  const lines = createInterface({ input: child.stdout! });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  try {
    for await (const line of lines) return JSON.parse(line) as T;
    throw new Error(`child ${child.spawnfile} exited (code ${String(child.exitCode)}) before printing`);
  } finally {
    clearTimeout(timer);
    lines.close();
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

function python(script: string, ...args: string[]): ChildProcess {
  return spawn('python3', ['-c', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
}

interface SsListener {
  protocol: string;
  port: number;
  inode: number;
  users: { name: string; pid: number }[];
}

/** `ss -ltnupHe` lines: netid, state, queues, local, peer, users:((..)), ..., ino:N. */
function parseSs(text: string): SsListener[] {
  const out: SsListener[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const inode = /\bino:(\d+)/.exec(line);
    const local = fields[4];
    if (fields.length < 6 || inode === null || local === undefined) continue;
    const users = [...line.matchAll(/\("((?:[^"\\]|\\.)*)",pid=(\d+),fd=\d+\)/g)].map((m) => ({
      name: m[1]!,
      pid: Number(m[2]),
    }));
    out.push({
      protocol: fields[0]!,
      port: Number(local.slice(local.lastIndexOf(':') + 1)),
      inode: Number(inode[1]),
      users,
    });
  }
  return out;
}

const all = (s: SocketSnapshot): SocketEntry[] => [...s.listening, ...s.connections];

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'install python3 and iproute2 (scripts/setup.sh --test)',
  'socket owners on the real host',
  () => {
    it("lists a child's listeners with its pid, as ss does, and names both ends of its connections", async () => {
      const server = python(SERVER);
      let client: ChildProcess | undefined;
      try {
        const ports = await firstLine<{ tcp: number; udp: number; tcp6: number | null }>(server);
        const owners = new SocketOwners();
        const before = owners.snapshot();
        const ss = parseSs(execFileSync('ss', ['-ltnupHe'], { encoding: 'utf8' }));
        const after = owners.snapshot();

        const serverOwner = { pid: server.pid, name: 'python3' };
        const listener = (protocol: string, address: string, port: number) =>
          after.listening.find(
            (s) => s.protocol === protocol && s.localAddress === address && s.localPort === port,
          );
        expect(listener('tcp', '127.0.0.1', ports.tcp)).toMatchObject({
          ipVersion: 4,
          state: 'LISTEN',
          remoteAddress: '0.0.0.0',
          owners: [serverOwner],
        });
        expect(listener('udp', '127.0.0.1', ports.udp)).toMatchObject({
          state: 'UNCONN',
          owners: [serverOwner],
        });
        if (ports.tcp6 !== null) {
          expect(listener('tcp', '::1', ports.tcp6)).toMatchObject({
            ipVersion: 6,
            remoteAddress: '::',
            owners: [serverOwner],
          });
        }
        expect(owners.stats.snapshots).toBe(2);

        // ss ran between our two snapshots: every listener it names a process for is in one of
        // them, held by the same processes.
        const ours = new Map<number, SocketEntry[]>();
        for (const s of [...before.listening, ...after.listening])
          ours.set(s.inode, [...(ours.get(s.inode) ?? []), s]);
        const ssWithUsers = ss.filter((l) => l.users.length > 0);
        expect(ssWithUsers.map((l) => l.inode)).toContain(listener('tcp', '127.0.0.1', ports.tcp)?.inode);
        for (const l of ssWithUsers) {
          const seen = ours.get(l.inode);
          expect(seen, `ss ${l.protocol} port ${l.port} ino ${l.inode}`).toBeDefined();
          expect(seen?.[0]).toMatchObject({ protocol: l.protocol, localPort: l.port });
          const ourPids = new Set(seen?.flatMap((s) => s.owners.map((o) => o.pid)));
          for (const user of l.users) {
            expect(ourPids.has(user.pid), `pid ${user.pid} (${user.name}) on port ${l.port}`).toBe(true);
            const ourName = seen?.flatMap((s) => s.owners).find((o) => o.pid === user.pid)?.name;
            expect(ourName).toBe(user.name);
          }
        }
        // And the listeners in both our snapshots were there for ss too.
        const ssInodes = new Set(ss.map((l) => l.inode));
        const stable = after.listening.filter((s) => before.listening.some((b) => b.inode === s.inode));
        for (const s of stable) {
          if (s.inode !== 0)
            expect(ssInodes.has(s.inode), `${s.protocol} ${s.localAddress}:${s.localPort}`).toBe(true);
        }

        client = python(CLIENT, String(ports.tcp));
        const clientPorts = await firstLine<{ plain: number; mapped: number | null }>(client);
        const clientOwner = { pid: client.pid, name: 'python3' };
        // Where the host has IPv6, the dual-stack client must have connected: that path is tested.
        if (ports.tcp6 !== null) expect(clientPorts.mapped).not.toBeNull();
        const connection = (s: SocketSnapshot, localPort: number, remotePort: number) =>
          s.connections.find(
            (c) =>
              c.protocol === 'tcp' &&
              c.localAddress === '127.0.0.1' &&
              c.localPort === localPort &&
              c.remoteAddress === '127.0.0.1' &&
              c.remotePort === remotePort,
          );
        const clientPortList = [
          clientPorts.plain,
          ...(clientPorts.mapped === null ? [] : [clientPorts.mapped]),
        ];
        // The server accepts in its own time: wait until it holds both connections.
        let withClient: SocketSnapshot = owners.snapshot();
        const deadline = Date.now() + 4000;
        while (
          clientPortList.some((port) => connection(withClient, ports.tcp, port)?.owners.length !== 1) &&
          Date.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          withClient = owners.snapshot();
        }
        for (const port of clientPortList) {
          expect(connection(withClient, port, ports.tcp)).toMatchObject({
            ipVersion: 4,
            state: 'ESTAB',
            owners: [clientOwner],
          });
          expect(connection(withClient, ports.tcp, port)).toMatchObject({ owners: [serverOwner] });
        }
        expect(all(withClient).some((s) => s.localAddress.startsWith('::ffff:'))).toBe(false);

        const cache = new ConnectionOwnerCache();
        cache.add(withClient);
        const flow = {
          protocol: 'tcp',
          srcAddr: '127.0.0.1',
          srcPort: clientPorts.plain,
          dstAddr: '127.0.0.1',
          dstPort: ports.tcp,
        };
        expect(cache.lookup(flow)).toMatchObject({
          owner: { ...clientOwner, command: expect.stringContaining('python3') as string },
          side: 'client',
          via: 'connection',
        });

        // The client goes: its end closes with no process left, and the cache still names it.
        await stop(client);
        const closed = owners.snapshot();
        expect(connection(closed, clientPorts.plain, ports.tcp)?.owners ?? []).toEqual([]);
        cache.add(closed);
        expect(cache.lookup(flow)).toMatchObject({ owner: clientOwner, side: 'client' });
      } finally {
        if (client) await stop(client);
        await stop(server);
      }
    });
  },
);
