/**
 * The UDP exporter, read back the way a collector reads it: by a small decoder written from
 * RFC 7011 (test/helpers/ipfix-reader.ts, it learns the templates from the messages, as a
 * collector does). The exporter sends to a UDP socket of this test on 127.0.0.1; every wait is
 * bounded.
 */

import { createSocket, type Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { OCTETS, PACKETS, SRC_PORT, decodeAll, flow, manyFlows } from '../../test/helpers/ipfix-reader.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { IPV4_TEMPLATE_ID, IPV6_TEMPLATE_ID, MIN_IPFIX_MTU } from './ipfix-encoder.js';
import { IpfixExporter, type IpfixExporterOptions, parseCollectorAddress } from './ipfix-exporter.js';

describe('parseCollectorAddress', () => {
  it('reads IPv4, bracketed IPv6 and host names', () => {
    expect(parseCollectorAddress('127.0.0.1:4739')).toEqual({ host: '127.0.0.1', port: 4739 });
    expect(parseCollectorAddress('[::1]:2055')).toEqual({ host: '::1', port: 2055 });
    expect(parseCollectorAddress('collector.example:9995')).toEqual({
      host: 'collector.example',
      port: 9995,
    });
  });

  it('says what is wrong with a bad address', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /must be HOST:PORT/],
      ['::1:4739', /must be HOST:PORT/],
      ['127.0.0.1:0', /port must be a whole number from 1 to 65535, not 0/],
      ['127.0.0.1:65536', /not 65536/],
      ['bad_host!:4739', /host must be an IP address or a host name/],
    ];
    for (const [text, message] of cases) {
      let error: unknown;
      try {
        parseCollectorAddress(text, '--ipfix');
      } catch (err) {
        error = err;
      }
      expect(error, text).toBeInstanceOf(FlowTrackError);
      expect((error as FlowTrackError).code).toBe(ErrorCode.BAD_OPTION);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toMatch(/^--ipfix/);
    }
  });
});

// ---------------------------------------------------------------- the UDP exporter

/** A UDP socket on 127.0.0.1 that keeps what it receives. */
class TestCollector {
  readonly received: Buffer[] = [];
  private constructor(private readonly socket: Socket) {
    socket.on('message', (msg) => this.received.push(msg));
  }

  static async start(port = 0, address = '127.0.0.1'): Promise<TestCollector> {
    const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(port, address, () => resolve());
    });
    return new TestCollector(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** Waits (at most 5 s) until `count` messages have arrived; fails the test otherwise. */
  async waitFor(count: number): Promise<Buffer[]> {
    for (let i = 0; i < 500 && this.received.length < count; i++) await sleep(10);
    expect(this.received.length).toBeGreaterThanOrEqual(count);
    return this.received;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A UDP port on 127.0.0.1 that nothing listens on (bound, then closed again). */
async function closedPort(): Promise<number> {
  const c = await TestCollector.start();
  const port = c.port;
  await c.close();
  return port;
}

describe('IpfixExporter', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const undo of cleanup.splice(0).reverse()) await undo();
  });

  async function collector(port = 0, address = '127.0.0.1'): Promise<TestCollector> {
    const c = await TestCollector.start(port, address);
    cleanup.push(() => c.close());
    return c;
  }

  function exporter(options: Partial<IpfixExporterOptions> & { port: number }): IpfixExporter {
    const e = new IpfixExporter({ host: '127.0.0.1', ...options });
    cleanup.push(() => e.close());
    return e;
  }

  it('sends buffered flows on flush and counts what it sent', async () => {
    const c = await collector();
    const e = exporter({ port: c.port, observationDomainId: 5, mtu: 600 });
    const flows = manyFlows(20);
    for (const f of flows) e.export(f);
    expect(e.stats()).toMatchObject({ bufferedFlows: 20, messages: 0 });
    await e.flush();
    const stats = e.stats();
    const received = await c.waitFor(stats.messages);
    const decoded = decodeAll(received);
    const records = decoded.flatMap((m) => m.records);
    expect(stats).toMatchObject({ flows: 20, records: 40, sendErrors: 0, droppedFlows: 0, bufferedFlows: 0 });
    expect(received).toHaveLength(stats.messages);
    expect(records).toHaveLength(40);
    expect(records.reduce((n, r) => n + Number(r.fields.get(PACKETS)), 0)).toBe(stats.packets);
    expect(stats.packets).toBe(20 * 9);
    expect(records.reduce((n, r) => n + Number(r.fields.get(OCTETS)), 0)).toBe(stats.bytes);
    expect(stats.bytes).toBe(20 * 9600);
    expect(decoded.every((m) => m.domain === 5)).toBe(true);
    expect(e.collector).toBe(`127.0.0.1:${c.port}`);
  });

  it('paces its messages and still delivers every one, in order', async () => {
    const c = await collector();
    // Two or three records a message: about 50 messages, beyond the burst of 32 that leaves at once.
    const e = exporter({ port: c.port, mtu: MIN_IPFIX_MTU, maxMessagesPerSecond: 1000 });
    for (const f of manyFlows(60)) e.export(f);
    await e.flush();
    const { messages, records } = e.stats();
    expect(messages).toBeGreaterThan(32);
    const decoded = decodeAll(await c.waitFor(messages));
    expect(decoded).toHaveLength(messages);
    let before = 0;
    for (const m of decoded) {
      expect(m.sequence).toBe(before);
      before += m.records.length;
    }
    expect(before).toBe(records);
    expect(records).toBe(120);
  });

  it('flushes by itself after the flush interval', async () => {
    const c = await collector();
    const e = exporter({ port: c.port, flushIntervalMs: 20 });
    e.export(flow());
    const [message] = await c.waitFor(1);
    expect(decodeAll([message!])[0]!.records).toHaveLength(2);
  });

  it('looks up a host name (localhost, from the hosts file) and sends to its address', async () => {
    // localhost is 127.0.0.1 or ::1 depending on the resolver's order: listen where it points.
    const c = await collector(0, (await lookup('localhost')).address);
    const e = exporter({ host: 'localhost', port: c.port });
    e.export(flow());
    await e.close();
    expect(e.stats()).toMatchObject({ flows: 1, messages: 1, sendErrors: 0 });
    expect(decodeAll(await c.waitFor(1))[0]!.records).toHaveLength(2);
  });

  it('drops and counts flows beyond its buffer, and after close', async () => {
    const c = await collector();
    const e = exporter({ port: c.port, maxBufferedFlows: 10 });
    for (const f of manyFlows(15)) e.export(f);
    expect(e.stats()).toMatchObject({ droppedFlows: 5, bufferedFlows: 10 });
    expect(e.waitForRoom()).not.toBeNull();
    await e.close();
    expect(e.stats()).toMatchObject({ flows: 10, droppedFlows: 5 });
    expect(e.waitForRoom()).toBeNull();
    e.export(flow());
    expect(e.stats().droppedFlows).toBe(6);
    await c.waitFor(e.stats().messages);
  });

  it('counts a collector that is down, never throws, and delivers with templates once it is back', async () => {
    const port = await closedPort();
    const e = exporter({ port, templateRefreshMessages: 1000 });
    // The first message meets no listener; the kernel's port-unreachable fails a later send.
    for (let i = 0; i < 50 && e.stats().sendErrors === 0; i++) {
      e.export(flow({ srcPort: 2000 + i }));
      await e.flush();
    }
    const down = e.stats();
    expect(down.sendErrors).toBeGreaterThan(0);
    expect(down.lastError).toMatch(/ECONNREFUSED/);
    expect(down.bufferedFlows).toBeGreaterThan(0);
    const c = await collector(port);
    e.export(flow({ srcPort: 9999 }));
    await e.flush();
    const up = e.stats();
    expect(up.bufferedFlows).toBe(0);
    const received = await c.waitFor(1);
    // The kept messages were encoded without templates: a template message goes first.
    const decoded = decodeAll(received);
    expect(decoded[0]!.templateIds).toEqual([IPV4_TEMPLATE_ID, IPV6_TEMPLATE_ID]);
    const ports = decoded.flatMap((m) => m.records.map((r) => r.fields.get(SRC_PORT)));
    expect(ports).toContain(9999);
    // Sequence numbers stay those of the records sent before: the lost first message counts.
    for (let i = 1; i < decoded.length; i++) {
      expect(decoded[i]!.sequence).toBe(decoded[i - 1]!.sequence + decoded[i - 1]!.records.length);
    }
  });

  it('rejects a bad collector address at construction', () => {
    expect(() => new IpfixExporter({ host: 'no such host', port: 4739 })).toThrow(
      /IP address or a host name/,
    );
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 0 })).toThrow(/from 1 to 65535/);
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 4739, maxBufferedFlows: 0 })).toThrow(
      FlowTrackError,
    );
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 4739, mtu: 10 })).toThrow(/MTU/);
    expect(() => new IpfixExporter({ host: '127.0.0.1', port: 4739, maxMessagesPerSecond: 0 })).toThrow(
      /message rate must be above 0/,
    );
    expect(
      () => new IpfixExporter({ host: '127.0.0.1', port: 4739, maxMessagesPerSecond: Infinity }),
    ).not.toThrow();
  });
});
