/**
 * The process behind a flow, end to end: the real `flowtrack serve` CLI captures live in a
 * client's network namespace (default settings: a sample and a read of the sockets every 2 s)
 * while a Python client there holds a TCP connection to a server in another namespace for a few
 * seconds. The flow FlowTrack stores names that client: python3, its pid and its user. A
 * connection the server namespace opens to a listener in the client namespace is named after
 * that listener's process (the accepted side).
 *
 * Traffic stays on a LAN of network namespaces with no default route (test/helpers/netns.ts),
 * every process bounded in time. Needs root; skipped with a message otherwise, except under
 * CI=true where a missing tool fails.
 */

import { userInfo } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from './helpers/netns.js';
import { NetnsServe } from './helpers/netns-serve.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const TOOLS = ['ip', 'tcpdump', 'python3', 'curl'];

const CLIENT = '10.79.0.20';
const SERVER = '10.79.0.1';

const root = process.getuid?.() === 0;
const missing = [...TOOLS.filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];

/** A TCP server that prints "listening PID", accepts and reads until each peer closes, for at most `seconds`. */
const SERVER_PY = (address: string, port: number, seconds: number) => `
import os, socket, threading, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((${JSON.stringify(address)}, ${port})); s.listen()
print("listening", os.getpid(), flush=True)
def serve(c):
    while c.recv(65536): pass
    c.close()
s.settimeout(${seconds})
end = time.time() + ${seconds}
while time.time() < end:
    try: c, _ = s.accept()
    except socket.timeout: break
    threading.Thread(target=serve, args=(c,), daemon=True).start()
`;

/** Connects, prints its pid and local port, sends a little, holds the connection, closes. */
const CLIENT_PY = (address: string, port: number, holdSeconds: number) => `
import os, socket, time
c = socket.create_connection((${JSON.stringify(address)}, ${port}), timeout=5)
print(os.getpid(), c.getsockname()[1], flush=True)
c.sendall(b"x" * 10000)
time.sleep(${holdSeconds})
c.close()
`;

interface FlowRow {
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  process?: { pid: number; name: string; user: string };
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (network namespaces and tcpdump need root)',
  'the process behind each flow, with flowtrack serve capturing live',
  () => {
    const flowtrack = new NetnsServe({
      tmpPrefix: 'flowtrack-flow-process-',
      hosts: { client: CLIENT, server: SERVER },
      // Default settings but the port; the API at 127.0.0.1 in the client's own namespace.
      serveOn: 'client',
      port: 18081,
      users: { ana: 'analyst' },
    });
    const api = flowtrack.api;

    /**
     * The stored flow to `port` (either side), once there is one: a closed TCP connection's flow
     * ends 15 s after its last packet (the flow table waits for late retransmissions), then the
     * pipeline's batch goes out within a second.
     */
    const flowTo = (port: number) =>
      waitFor(
        `the flow of port ${port} stored`,
        async () => {
          const res = await api(`/api/flows?port=${port}&limit=10`);
          return (res.body as { items: FlowRow[] }).items[0] ?? null;
        },
        40_000,
        250,
      );

    /** Runs a Python program in `role`'s namespace; resolves with the first line it prints. */
    async function python(role: string, program: string, seconds: number) {
      const p = flowtrack.lan.start(role, 'python3', ['-c', program], seconds);
      await p.waitFor(/\n/, 10_000);
      return { process: p, firstLine: p.text.split('\n')[0]! };
    }

    beforeAll(() => flowtrack.start(), 60_000);
    afterAll(() => flowtrack.stop());

    it('names the client process of an outgoing connection on its flow: python3, its pid, its user', async () => {
      const server = await python('server', SERVER_PY(SERVER, 8088, 30), 40);
      expect(server.firstLine).toMatch(/^listening \d+$/);
      // Held 5 s: at least two reads of the sockets (every 2 s) see it.
      const client = await python('client', CLIENT_PY(SERVER, 8088, 5), 20);
      const [pid, port] = client.firstLine.split(' ').map(Number);
      expect(await client.process.exited).toBe(0);
      const flow = await flowTo(8088);
      expect([flow.srcAddr, flow.srcPort, flow.dstAddr, flow.dstPort]).toEqual([CLIENT, port, SERVER, 8088]);
      expect(flow.process).toEqual({ pid, name: 'python3', user: userInfo().username });
      // The server's host view names the local program that talked to it.
      const host = (await api(`/api/hosts/${SERVER}`)).body as { processes: { pid: number; name: string }[] };
      expect(host.processes.map((p) => [p.name, p.pid])).toEqual([['python3', pid]]);
      await server.process.stop();
    });

    it('names the listening process of an accepted connection on its flow', async () => {
      const listener = await python('client', SERVER_PY(CLIENT, 9099, 30), 40);
      const listenerPid = Number(/^listening (\d+)$/.exec(listener.firstLine)?.[1]);
      const client = await python('server', CLIENT_PY(CLIENT, 9099, 5), 20);
      expect(await client.process.exited).toBe(0);
      const flow = await flowTo(9099);
      expect([flow.srcAddr, flow.dstAddr, flow.dstPort]).toEqual([SERVER, CLIENT, 9099]);
      expect(flow.process).toEqual({ pid: listenerPid, name: 'python3', user: userInfo().username });
      await listener.process.stop();
    });
  },
);
