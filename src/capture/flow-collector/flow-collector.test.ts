/**
 * FlowCollector on real loopback UDP sockets (127.0.0.1 and ::1 only): NetFlow v5 datagrams built
 * here are sent to it and what it hands over and counts is checked. Real exporters are in
 * test/netflow-collector-exporters.test.ts.
 */

import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { FlowTrackError } from '../../util/errors.js';
import { FlowCollector, type FlowCollectorOptions } from './flow-collector.js';
import type { CollectedFlow } from './netflow-decoder.js';

/** A NetFlow v5 datagram of `count` UDP records 10.0.0.1:1000+i -> 10.0.0.2:53, 100 bytes each. */
function v5Datagram(count: number, sampling = 0): Buffer {
  const b = Buffer.alloc(24 + 48 * count);
  b.writeUInt16BE(5, 0);
  b.writeUInt16BE(count, 2);
  b.writeUInt32BE(100_000, 4);
  b.writeUInt32BE(1_700_000_000, 8);
  b.writeUInt16BE(sampling, 22);
  for (let i = 0; i < count; i++) {
    const p = 24 + 48 * i;
    b.writeUInt32BE(0x0a000001, p);
    b.writeUInt32BE(0x0a000002, p + 4);
    b.writeUInt32BE(1, p + 16);
    b.writeUInt32BE(100, p + 20);
    b.writeUInt32BE(99_000, p + 24);
    b.writeUInt32BE(99_500, p + 28);
    b.writeUInt16BE(1000 + i, p + 32);
    b.writeUInt16BE(53, p + 34);
    b[p + 38] = 17;
  }
  return b;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function started(options: Partial<FlowCollectorOptions> & { address: string }) {
  const batches: CollectedFlow[][] = [];
  const collector = new FlowCollector({ port: 0, onFlows: (flows) => batches.push(flows), ...options });
  await collector.start();
  cleanups.push(() => collector.stop());
  return { collector, batches, port: collector.listeningOn().port };
}

function sender(type: 'udp4' | 'udp6'): Socket {
  const socket = createSocket(type);
  cleanups.push(() => new Promise<void>((resolve) => socket.close(() => resolve())));
  return socket;
}

function send(socket: Socket, datagram: Buffer, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(datagram, port, address, (err) => (err ? reject(err) : resolve())),
  );
}

/** Waits until the collector has received `datagrams` (at most 5 s: loopback delivers at once). */
async function received(collector: FlowCollector, datagrams: number): Promise<void> {
  for (let i = 0; i < 500 && collector.stats().datagrams < datagrams; i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(collector.stats().datagrams).toBe(datagrams);
}

describe('FlowCollector', () => {
  it('receives NetFlow over IPv4, hands over batches tagged with the exporter, and counts per exporter', async () => {
    const { collector, batches, port } = await started({ address: '127.0.0.1', batchSize: 5 });
    const socket = sender('udp4');
    await send(socket, v5Datagram(3), port, '127.0.0.1');
    await send(socket, v5Datagram(3), port, '127.0.0.1');
    await received(collector, 2);
    // The second datagram took the batch past 5: handed over at once, all 6 together.
    expect(batches.map((b) => b.length)).toEqual([6]);
    expect(batches[0]![0]).toMatchObject({
      exporter: '127.0.0.1',
      flow: {
        srcAddr: '10.0.0.1',
        dstAddr: '10.0.0.2',
        srcPort: 1000,
        dstPort: 53,
        protocol: 'udp',
        bytesToServer: 100,
      },
    });
    const stats = collector.stats();
    expect(stats).toMatchObject({ datagrams: 2, records: 6, flows: 6, malformed: 0, notAllowed: 0 });
    expect(stats.exporters).toEqual([
      {
        address: '127.0.0.1',
        datagrams: 2,
        flows: 6,
        malformed: 0,
        lastSeenMs: expect.any(Number) as number,
      },
    ]);
    expect(stats.receiveBufferBytes).toBeGreaterThan(0);
  });

  it('listens on ::1 and names an IPv6 exporter by its address', async () => {
    const { collector, batches, port } = await started({ address: '::1', batchSize: 1 });
    await send(sender('udp6'), v5Datagram(1), port, '::1');
    await received(collector, 1);
    expect(batches.flat().map((f) => f.exporter)).toEqual(['::1']);
  });

  it('hands over what waits for its batch when stopped, and applies a sampling override', async () => {
    const { collector, batches, port } = await started({
      address: '127.0.0.1',
      batchSize: 1000,
      batchIntervalMs: 3_600_000,
      samplingOverrides: { '127.0.0.1': 50 },
    });
    await send(sender('udp4'), v5Datagram(2, 10), port, '127.0.0.1');
    await received(collector, 1);
    expect(batches).toEqual([]);
    await collector.stop();
    expect(batches.flat().map((f) => f.flow.bytesToServer)).toEqual([5000, 5000]);
  });

  it('drops and counts datagrams from exporters not allowed', async () => {
    const { collector, batches, port } = await started({
      address: '127.0.0.1',
      batchSize: 1,
      allowedExporters: ['10.0.0.0/8', '2001:db8::/32'],
    });
    await send(sender('udp4'), v5Datagram(1), port, '127.0.0.1');
    await received(collector, 1);
    expect(collector.stats()).toMatchObject({ notAllowed: 1, records: 0, exporters: [] });
    expect(batches).toEqual([]);
    const open = await started({ address: '127.0.0.1', batchSize: 1, allowedExporters: ['127.0.0.0/8'] });
    await send(sender('udp4'), v5Datagram(1), open.port, '127.0.0.1');
    await received(open.collector, 1);
    expect(open.batches.flat()).toHaveLength(1);
  });

  it('counts malformed datagrams with their reason, and keeps going when onFlows throws', async () => {
    let calls = 0;
    const { collector, port } = await started({
      address: '127.0.0.1',
      batchSize: 1,
      onFlows: () => {
        calls++;
        throw new Error('store is down');
      },
    });
    const socket = sender('udp4');
    await send(socket, Buffer.from('not netflow at all'), port, '127.0.0.1');
    await send(socket, v5Datagram(1), port, '127.0.0.1');
    await send(socket, v5Datagram(1), port, '127.0.0.1');
    await received(collector, 3);
    const stats = collector.stats();
    expect(stats).toMatchObject({ malformed: 1, callbackErrors: 2, flows: 2 });
    expect(stats.lastMalformed).toMatchObject({
      exporter: '127.0.0.1',
      reason: expect.stringMatching(/^version/) as string,
    });
    expect(calls).toBe(2);
  });

  it('says which address and port are taken when the port is in use', async () => {
    const holder = sender('udp4');
    await new Promise<void>((resolve) => holder.bind(0, '127.0.0.1', resolve));
    const { port } = holder.address();
    const collector = new FlowCollector({ address: '127.0.0.1', port, onFlows: () => undefined });
    const error = await collector.start().then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(FlowTrackError);
    expect((error as FlowTrackError).message).toBe(
      `cannot receive NetFlow/IPFIX on 127.0.0.1 port ${port}: the port is already in use by another program; stop it or choose another port (EADDRINUSE)`,
    );
  });

  it('refuses bad options with the value and what to write instead', () => {
    const make = (options: Partial<FlowCollectorOptions>) => () =>
      new FlowCollector({ address: '127.0.0.1', port: 2055, onFlows: () => undefined, ...options });
    expect(make({ address: 'localhost' })).toThrow(/listen address "localhost" is not an IP address/);
    expect(make({ port: 70000 })).toThrow(/listen port 70000 is not a UDP port/);
    expect(make({ allowedExporters: ['10.0.0.0/33'] })).toThrow(
      /allowed exporter "10.0.0.0\/33" is not an address or prefix/,
    );
    expect(make({ allowedExporters: ['router-1'] })).toThrow(/"router-1"/);
    expect(make({ batchSize: 0 })).toThrow(/batchSize is 0/);
  });
});
