/**
 * The TCP connect engine: real listeners on 127.0.0.1 found open and the rest closed, through
 * both connectors; and, with a stand-in connector (a mock: loopback cannot drop a SYN or run out
 * of descriptors on demand), the retry of a silent port and its filtered verdict, the rate limit,
 * a machine out of descriptors, and an abort.
 */

import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanTarget } from './scan-types.js';
import { libuvConnector, netConnector, type ConnectOutcome, type TcpConnector } from './tcp-connector.js';
import { scanTcp } from './tcp-scan.js';

const LOCAL: ScanTarget = { address: '127.0.0.1', family: 4 };

/** A connector that answers as `answer` says for each attempt (undefined: never), and records the attempts. */
function standIn(answer: (port: number, attempt: number) => ConnectOutcome | undefined) {
  const attempts: { port: number; at: number }[] = [];
  let cancelled = 0;
  const connector: TcpConnector = {
    kind: 'net',
    connect(_address, _family, port, done, context) {
      const n = attempts.filter((a) => a.port === port).length + 1;
      attempts.push({ port, at: performance.now() });
      const outcome = answer(port, n);
      let live = true;
      if (outcome) {
        setImmediate(() => {
          if (live) done(outcome, context);
        });
      }
      return {
        cancel: () => {
          live = false;
          cancelled++;
        },
      };
    },
  };
  return { connector, attempts, cancelled: () => cancelled };
}

describe('scanTcp on 127.0.0.1', () => {
  const servers: Server[] = [];
  const open: number[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) {
      const server = createServer((s) => s.destroy());
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      servers.push(server);
      const address = server.address();
      if (address && typeof address !== 'string') open.push(address.port);
    }
  });

  afterAll(() => {
    for (const s of servers) s.close();
  });

  const connectors = [
    ['libuv', libuvConnector()],
    ['net', netConnector()],
  ] as const;

  for (const [name, connector] of connectors) {
    it(`finds the listeners open and their neighbours closed (${name} connector)`, async () => {
      expect(connector, 'this Node has the tcp_wrap binding').not.toBeNull();
      const ports = [...open, ...open.map((p) => p + 1)].filter(
        (p, i, all) => all.indexOf(p) === i && p < 65536,
      );
      const results = await scanTcp([LOCAL], ports, { connector: connector! });
      expect(results).toHaveLength(ports.length);
      for (const r of results) {
        const listening = open.includes(r.port);
        expect(r, String(r.port)).toMatchObject({
          address: '127.0.0.1',
          protocol: 'tcp',
          state: listening ? 'open' : 'closed',
          reason: listening ? 'syn-ack' : 'conn-refused',
        });
        expect(r.rttMs).toBeGreaterThanOrEqual(0);
      }
    });
  }
});

describe('scanTcp with a stand-in connector (mock)', () => {
  it('tries a silent port 1 + retries times, then calls it filtered', async () => {
    const { connector, attempts, cancelled } = standIn((port) =>
      port === 81 ? undefined : { result: 'refused', errno: 'ECONNREFUSED' },
    );
    const results = await scanTcp([LOCAL], [80, 81], { connector, maxTimeoutMs: 50, retries: 2 });
    expect(results.find((r) => r.port === 81)).toMatchObject({ state: 'filtered', reason: 'no-response' });
    expect(results.find((r) => r.port === 80)).toMatchObject({ state: 'closed' });
    expect(attempts.filter((a) => a.port === 81)).toHaveLength(3);
    expect(cancelled()).toBe(3);
  });

  it('takes a port answered on its retry (a lost SYN) for what the answer says', async () => {
    const { connector } = standIn((port, attempt) => (attempt === 1 ? undefined : { result: 'open' }));
    const results = await scanTcp([LOCAL], [22], { connector, maxTimeoutMs: 30 });
    expect(results).toMatchObject([{ port: 22, state: 'open', reason: 'syn-ack' }]);
  });

  it('calls a port of an unreachable host filtered, with the reason', async () => {
    const { connector } = standIn(() => ({ result: 'unreachable', errno: 'EHOSTUNREACH' }));
    const results = await scanTcp([LOCAL], [1], { connector });
    expect(results).toMatchObject([{ state: 'filtered', reason: 'host-unreachable' }]);
  });

  it('starts no more attempts a second than the rate allows', async () => {
    const { connector, attempts } = standIn(() => ({ result: 'refused', errno: 'ECONNREFUSED' }));
    const ports = Array.from({ length: 60 }, (_, i) => i + 1);
    await scanTcp([LOCAL], ports, { connector, ratePerSecond: 200 });
    const first = attempts[0]!.at;
    // In any 100 ms after the first attempt, at most 20 (the rate) plus the bucket's 2 at start.
    for (const a of attempts) {
      const inWindow = attempts.filter((b) => b.at >= a.at && b.at < a.at + 100).length;
      expect(inWindow).toBeLessThanOrEqual(22);
    }
    expect(attempts.at(-1)!.at - first).toBeGreaterThan(200);
  });

  it('puts a pair back when this machine is out of descriptors, and still gives every verdict', async () => {
    let busy = 3;
    const { connector } = standIn(() =>
      busy-- > 0 ? { result: 'busy', errno: 'EMFILE' } : { result: 'refused', errno: 'ECONNREFUSED' },
    );
    const results = await scanTcp([LOCAL], [1, 2, 3, 4], { connector });
    expect(results.map((r) => r.state).sort()).toEqual(['closed', 'closed', 'closed', 'closed']);
  });

  it('stops and cancels what is in flight when aborted', async () => {
    const { connector, cancelled } = standIn(() => undefined);
    const controller = new AbortController();
    const ports = Array.from({ length: 100 }, (_, i) => i + 1);
    setTimeout(() => controller.abort(), 50);
    const results = await scanTcp([LOCAL], ports, {
      connector,
      maxTimeoutMs: 10_000,
      signal: controller.signal,
    });
    expect(results.length).toBeLessThan(100);
    expect(cancelled()).toBeGreaterThan(0);
  });
});
