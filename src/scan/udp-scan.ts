/**
 * UDP scanning: a connected datagram socket per (address, port), the port's protocol probes
 * (udp-probes.ts: a DNS query on 53, an NTP request on 123, ...; an empty datagram elsewhere,
 * as nmap sends), and the verdict from what comes back:
 * - an answer: open (and the probe that was answered names the service);
 * - ICMP port unreachable (the socket's ECONNREFUSED): closed;
 * - ICMP host or admin unreachable (EHOSTUNREACH, ENETUNREACH): filtered;
 * - nothing after every retry: open|filtered (a silent service and a dropping firewall look alike).
 *
 * Slow on purpose where the network is: Linux sends ICMP errors to one peer in a burst of six and
 * then one a second (net.ipv4.icmp_ratelimit), so a host's closed ports can only be told at that
 * pace. A few probes in flight per host (`hostWindow`, default 6) and retries spaced by the
 * timeout keep a closed port from passing for a silent one. Loopback has no such limit.
 *
 * Must never: send more than the probes' payloads `1 + retries` times to a pair, keep a socket
 * after its verdict, or go on after `signal` aborts.
 */

import { createSocket, type Socket } from 'node:dgram';
import type { PortResult, ScanTarget, ServiceInfo } from './scan-types.js';
import { udpProbesFor, type UdpProbe } from './udp-probes.js';

export interface UdpScanOptions {
  /** Wait for an answer after each send (default 1000 ms). */
  timeoutMs?: number;
  /** Sends after the first one for a port that stays silent (default 2). */
  retries?: number;
  /** Ports in flight per host (default 6: the kernel's ICMP burst). */
  hostWindow?: number;
  /** Ports in flight over all hosts (default 256). */
  maxInFlight?: number;
  signal?: AbortSignal;
  onResult?: (result: PortResult) => void;
}

interface Job {
  target: ScanTarget;
  port: number;
}

/** Scans `ports` over UDP on every target; resolves with one result per pair. */
export async function scanUdp(
  targets: readonly ScanTarget[],
  ports: readonly number[],
  options: UdpScanOptions = {},
): Promise<PortResult[]> {
  const hostWindow = options.hostWindow ?? 6;
  const maxInFlight = options.maxInFlight ?? 256;
  const results: PortResult[] = [];
  // Per host, its own queue; hosts take turns so that each has at most hostWindow in flight.
  const queues = targets.map((target) => ({ target, next: 0, inFlight: 0 }));
  let inFlight = 0;
  let cursor = 0;
  let pending = targets.length * ports.length;
  if (pending === 0 || options.signal?.aborted) return results;

  return new Promise((resolve) => {
    const pump = (): void => {
      let idle = 0;
      while (inFlight < maxInFlight && idle < queues.length && !options.signal?.aborted) {
        const queue = queues[cursor]!;
        cursor = (cursor + 1) % queues.length;
        if (queue.inFlight >= hostWindow || queue.next >= ports.length) {
          idle++;
          continue;
        }
        idle = 0;
        const job: Job = { target: queue.target, port: ports[queue.next++]! };
        queue.inFlight++;
        inFlight++;
        void probePort(job, options).then((result) => {
          queue.inFlight--;
          inFlight--;
          results.push(result);
          options.onResult?.(result);
          if (--pending === 0) resolve(results);
          else pump();
        });
      }
      if (options.signal?.aborted && inFlight === 0) resolve(results);
    };
    options.signal?.addEventListener('abort', () => {
      if (inFlight === 0) resolve(results);
    });
    pump();
  });
}

/** One port: send its probes, resend on silence, settle on the first telling answer. */
function probePort(job: Job, options: UdpScanOptions): Promise<PortResult> {
  const timeoutMs = options.timeoutMs ?? 1000;
  const retries = options.retries ?? 2;
  const probes = udpProbesFor(job.port);
  const base = { address: job.target.address, protocol: 'udp' as const, port: job.port };
  return new Promise((resolve) => {
    let socket: Socket | null = createSocket(job.target.family === 6 ? 'udp6' : 'udp4');
    const unconnected = answersFromAnotherPort(probes);
    let sends = 0;
    let timer: NodeJS.Timeout | null = null;
    let sentAt = 0;
    const settle = (result: PortResult): void => {
      if (!socket) return;
      if (timer) clearTimeout(timer);
      const s = socket;
      socket = null;
      options.signal?.removeEventListener('abort', onAbort);
      try {
        s.close();
      } catch {
        // Already closed by an error.
      }
      resolve(result);
    };
    const onAbort = (): void => {
      settle({ ...base, state: 'open|filtered', reason: 'aborted' });
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const send = (): void => {
      if (!socket) return;
      sends++;
      sentAt = performance.now();
      for (const probe of probes) {
        if (unconnected) socket.send(probe.payload, job.port, job.target.address);
        else socket.send(probe.payload);
      }
      timer = setTimeout(() => {
        if (sends <= retries) send();
        else settle({ ...base, state: 'open|filtered', reason: 'no-response' });
      }, timeoutMs);
    };
    socket.on('message', (reply, from) => {
      // Unconnected (TFTP, below): only the target's answers count.
      if (from.address !== job.target.address) return;
      const rttMs = Math.round((performance.now() - sentAt) * 1000) / 1000;
      const service = recognize(probes, reply);
      settle({ ...base, state: 'open', reason: 'udp-response', rttMs, ...(service && { service }) });
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const rttMs = Math.round((performance.now() - sentAt) * 1000) / 1000;
      if (err.code === 'ECONNREFUSED') settle({ ...base, state: 'closed', reason: 'port-unreach', rttMs });
      else if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH')
        settle({ ...base, state: 'filtered', reason: 'host-unreach', rttMs });
      else settle({ ...base, state: 'open|filtered', reason: `error-${err.code ?? 'unknown'}` });
    });
    if (unconnected) {
      // A TFTP server answers from a new port, which a connected socket never receives; the
      // price of listening unconnected is that ICMP port unreachable is not seen either, so a
      // closed TFTP port is open|filtered here (nmap's raw sockets see both).
      socket.bind(0, send);
    } else {
      socket.connect(job.port, job.target.address, send);
    }
  });
}

/** Probes whose server answers from another port than the one asked (TFTP). */
function answersFromAnotherPort(probes: readonly UdpProbe[]): boolean {
  return probes.some((p) => p.name.startsWith('tftp'));
}

/** The service the reply names, from the first probe that recognises it. */
function recognize(probes: readonly UdpProbe[], reply: Buffer): ServiceInfo | null {
  for (const probe of probes) {
    try {
      const service = probe.recognize(reply);
      if (service) return service;
    } catch {
      // A recogniser must not throw on hostile bytes; if one does, the answer still makes the port open.
    }
  }
  return null;
}
