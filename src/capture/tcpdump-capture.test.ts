/**
 * Live capture through the real tcpdump on the loopback interface: UDP datagrams this test sends
 * to its own socket on 127.0.0.1 (a BPF filter on that socket's port keeps everything else out),
 * tcpdump's statistics on SIGUSR1, a tcpdump killed under it and started again, failures that a
 * restart cannot fix, and a clean stop. Nothing leaves the host; every wait is bounded.
 * Needs tcpdump and root (to capture); skipped with a message otherwise, except under CI=true.
 */

import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkType } from './link-type.js';
import { PacketDecoder } from '../decode/packet-decoder.js';
import { isAlive, sleep } from '../../test/helpers/netns.js';
import { describeUnlessMissing, hasTool } from '../../test/helpers/system-tools.js';
import {
  TcpdumpCapture,
  tcpdumpArguments,
  type CaptureEvent,
  type TcpdumpCaptureOptions,
} from './tcpdump-capture.js';

const root = process.getuid?.() === 0;
const missing = [...(hasTool('tcpdump') ? [] : ['tcpdump']), ...(root ? [] : ['root'])];

const BASE: TcpdumpCaptureOptions = {
  interface: 'lo',
  filter: '',
  snapLength: 256,
  promiscuous: false,
  bufferKiB: 1024,
  immediate: true,
};

/** How long any one thing may take before the test fails (tcpdump starts in well under a second). */
const WAIT_MS = 10_000;

async function waitUntil(what: string, done: () => boolean, timeoutMs = WAIT_MS): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A UDP datagram tcpdump handed over: its ports and payload. */
interface SeenDatagram {
  srcPort: number;
  dstPort: number;
  payload: string;
}

/** A capture with everything it reported, stopped after each test. */
class CaptureUnderTest {
  readonly events: CaptureEvent[] = [];
  readonly datagrams: SeenDatagram[] = [];
  readonly linkTypes = new Set<number>();
  readonly capture: TcpdumpCapture;
  private readonly decoder = new PacketDecoder();

  constructor(options: Partial<TcpdumpCaptureOptions>) {
    this.capture = new TcpdumpCapture(
      { ...BASE, ...options },
      (pkt) => {
        this.linkTypes.add(pkt.linkType);
        const d = this.decoder;
        d.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
        if (d.ipProto !== 17) return;
        // Ethernet (14) + IPv4 (20) + UDP (8) on the loopback; the packet's bytes are reused: copy.
        const payload = pkt.data.subarray(pkt.offset + 42, pkt.offset + pkt.capLen).toString('utf8');
        this.datagrams.push({ srcPort: d.srcPort, dstPort: d.dstPort, payload });
      },
      (event) => this.events.push(event),
    );
    running.push(this);
  }

  of<T extends CaptureEvent['type']>(type: T): Extract<CaptureEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<CaptureEvent, { type: T }> => e.type === type);
  }

  async started(runs = 1): Promise<void> {
    await waitUntil(`tcpdump to listen (${runs} time(s))`, () => this.of('running').length >= runs);
  }
}

const running: CaptureUnderTest[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.capture.stop();
});

/** A UDP socket on 127.0.0.1 that receives, and one that sends to it. */
class LoopbackUdp {
  private constructor(
    readonly receiver: Socket,
    readonly sender: Socket,
    readonly port: number,
  ) {}

  static async open(): Promise<LoopbackUdp> {
    const receiver = createSocket('udp4');
    receiver.on('message', () => undefined);
    receiver.bind(0, '127.0.0.1');
    await once(receiver, 'listening');
    const sender = createSocket('udp4');
    return new LoopbackUdp(receiver, sender, receiver.address().port);
  }

  async send(payloads: string[]): Promise<void> {
    for (const p of payloads) {
      await new Promise<void>((resolve, reject) => {
        this.sender.send(p, this.port, '127.0.0.1', (err) => (err ? reject(err) : resolve()));
      });
    }
  }

  close(): void {
    this.receiver.close();
    this.sender.close();
  }
}

function payloads(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
}

describe('tcpdumpArguments', () => {
  it('writes pcap to standard output, packet-buffered, with the snap length and kernel buffer', () => {
    expect(tcpdumpArguments({ ...BASE, promiscuous: true, immediate: false })).toEqual([
      '-i',
      'lo',
      '-n',
      '-s',
      '256',
      '-B',
      '1024',
      '-U',
      '-w',
      '-',
    ]);
  });

  it('adds -p when not promiscuous and --immediate-mode when immediate', () => {
    const args = tcpdumpArguments({ ...BASE, promiscuous: false, immediate: true });
    expect(args.slice(-2)).toEqual(['-p', '--immediate-mode']);
    expect(tcpdumpArguments({ ...BASE, promiscuous: true, immediate: true })).not.toContain('-p');
    expect(tcpdumpArguments({ ...BASE, promiscuous: false, immediate: false })).not.toContain(
      '--immediate-mode',
    );
  });

  it('passes the filter last as one argument, and no filter when it is blank', () => {
    const filter = 'udp port 53 and not host 10.0.0.1; rm -rf /';
    const args = tcpdumpArguments({ ...BASE, filter, immediate: false });
    expect(args.at(-1)).toBe(filter);
    expect(args.filter((a) => a === filter)).toHaveLength(1);
    expect(tcpdumpArguments({ ...BASE, filter: '  ' }).at(-1)).toBe('--immediate-mode');
  });
});

describe('TcpdumpCapture without tcpdump', () => {
  it('fails once, saying how to install tcpdump, when the program does not exist', async () => {
    const c = new CaptureUnderTest({
      tcpdumpPath: '/nonexistent/flowtrack-test/tcpdump',
      restartDelayMs: 10,
    });
    c.capture.start();
    await waitUntil('the failure', () => c.of('failed').length > 0);
    // Time for a restart that must not come.
    await sleep(200);
    expect(c.events.map((e) => e.type)).toEqual(['failed']);
    expect(c.of('failed')[0]).toMatchObject({ interface: 'lo' });
    expect(c.of('failed')[0]!.message).toContain('install it (`apt-get install tcpdump`)');
    expect(c.capture.state).toBe('failed');
    expect(c.capture.failure).toContain('tcpdump is not installed');
    expect(c.capture.counters.restarts).toBe(0);
  });
});

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root with tcpdump installed (scripts/setup.sh --test)',
  'TcpdumpCapture on the loopback interface',
  () => {
    it('hands every packet tcpdump captures to onPacket, and counts them', async () => {
      const udp = await LoopbackUdp.open();
      try {
        const c = new CaptureUnderTest({ filter: `udp port ${udp.port}` });
        c.capture.start();
        await c.started();
        expect(c.capture.state).toBe('running');
        expect(c.of('running')[0]).toEqual({ type: 'running', interface: 'lo', linkType: 'EN10MB' });
        const sent = payloads('first', 200);
        await udp.send(sent);
        await waitUntil('200 datagrams', () => c.datagrams.length >= sent.length);
        expect(c.datagrams.map((d) => d.payload)).toEqual(sent);
        expect(new Set(c.datagrams.map((d) => d.dstPort))).toEqual(new Set([udp.port]));
        expect([...c.linkTypes]).toEqual([LinkType.ETHERNET]);
        expect(c.capture.counters.packets).toBe(sent.length);

        // tcpdump's own count arrives on its stderr a moment after SIGUSR1. On the loopback the
        // kernel's filter sees each datagram twice, going out and coming in (libpcap then drops
        // the outgoing copy), so tcpdump's "received by filter" may be twice what it captured.
        c.capture.requestStats();
        await waitUntil('the statistics', () => c.capture.counters.received >= sent.length);
        const copies = c.capture.counters.received / sent.length;
        expect([1, 2]).toContain(copies);
        expect(c.capture.counters).toMatchObject({ kernelDropped: 0, interfaceDropped: 0, restarts: 0 });

        // Each report counts from tcpdump's start: only the growth is added.
        await udp.send(payloads('more', 50));
        await waitUntil('50 more datagrams', () => c.datagrams.length >= 250);
        c.capture.requestStats();
        await waitUntil('the second statistics', () => c.capture.counters.received > copies * sent.length);
        await sleep(100);
        expect(c.capture.counters.received).toBe(copies * 250);
        expect(c.capture.counters.packets).toBe(250);
      } finally {
        udp.close();
      }
    });

    it('starts a killed tcpdump again after restartDelayMs and reports the gap', async () => {
      const udp = await LoopbackUdp.open();
      try {
        const c = new CaptureUnderTest({ filter: `udp port ${udp.port}`, restartDelayMs: 100 });
        c.capture.start();
        await c.started();
        await udp.send(payloads('before', 5));
        await waitUntil('the first datagrams', () => c.datagrams.length >= 5);
        const firstPid = c.capture.pid!;
        const killedAt = Date.now();
        process.kill(firstPid, 'SIGKILL');

        await c.started(2);
        expect(Date.now() - killedAt).toBeGreaterThanOrEqual(100);
        expect(c.events.map((e) => e.type)).toEqual(['running', 'died', 'running', 'gap']);
        const [died] = c.of('died');
        expect(died).toMatchObject({ interface: 'lo', restartInMs: 100 });
        expect(died!.reason).toContain('SIGKILL');
        const [gap] = c.of('gap');
        expect(gap!.toMs - gap!.fromMs).toBeGreaterThanOrEqual(100);
        expect(gap!.toMs - gap!.fromMs).toBeLessThan(WAIT_MS);
        expect(c.capture.counters.restarts).toBe(1);
        expect(c.capture.state).toBe('running');
        expect(c.capture.pid).not.toBe(firstPid);
        expect(isAlive(firstPid)).toBe(false);

        // The new tcpdump captures as the first did.
        await udp.send(payloads('after', 5));
        await waitUntil('the later datagrams', () => c.datagrams.length >= 10);
        expect(c.datagrams.map((d) => d.payload).slice(5)).toEqual(payloads('after', 5));
      } finally {
        udp.close();
      }
    });

    it('fails once, naming capture.filter, on a filter that is not BPF, and does not restart', async () => {
      const c = new CaptureUnderTest({ filter: 'udp port ((nonsense', restartDelayMs: 10 });
      c.capture.start();
      await waitUntil('the failure', () => c.of('failed').length > 0);
      await sleep(300);
      expect(c.events).toHaveLength(1);
      const [failed] = c.of('failed');
      expect(failed!.message).toContain('fix capture.filter');
      expect(failed!.message).toContain('"udp port ((nonsense"');
      expect(failed!.message).toContain('tcpdump said:');
      expect(c.capture.state).toBe('failed');
      expect(c.capture.counters.restarts).toBe(0);
      expect(c.capture.pid).toBeNull();
    });

    it('stop() ends tcpdump and nothing starts it again', async () => {
      const c = new CaptureUnderTest({ filter: 'udp port 9', restartDelayMs: 10 });
      c.capture.start();
      await c.started();
      const pid = c.capture.pid!;
      expect(isAlive(pid)).toBe(true);
      await c.capture.stop();
      expect(c.capture.state).toBe('stopped');
      expect(c.capture.pid).toBeNull();
      expect(isAlive(pid)).toBe(false);
      await sleep(100);
      expect(c.events.map((e) => e.type)).toEqual(['running']);
      expect(c.capture.pid).toBeNull();
    });

    it('stop() during the wait before a restart cancels the restart', async () => {
      const c = new CaptureUnderTest({ filter: 'udp port 9', restartDelayMs: 300 });
      c.capture.start();
      await c.started();
      process.kill(c.capture.pid!, 'SIGKILL');
      await waitUntil('the death', () => c.of('died').length > 0);
      await c.capture.stop();
      await sleep(500);
      expect(c.events.map((e) => e.type)).toEqual(['running', 'died']);
      expect(c.capture.state).toBe('stopped');
      expect(c.capture.pid).toBeNull();
      expect(c.capture.counters.restarts).toBe(0);
    });
  },
);
