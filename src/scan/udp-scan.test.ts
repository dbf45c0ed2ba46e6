/**
 * The UDP engine on 127.0.0.1 against Node's own datagram servers: a port that answers is open,
 * one nothing listens on is closed (ICMP port unreachable), one that swallows every probe is
 * open|filtered after the retries; and a TFTP server answering from another port (as TFTP does)
 * is heard, which needs port 69 and so root.
 */

import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { describeUnlessMissing } from '../../test/helpers/system-tools.js';
import type { ScanTarget } from './scan-types.js';
import { scanUdp } from './udp-scan.js';

const LOCAL: ScanTarget = { address: '127.0.0.1', family: 4 };
const sockets: Socket[] = [];

function bind(
  port: number,
  onMessage: (socket: Socket, msg: Buffer, from: { address: string; port: number }) => void,
) {
  return new Promise<Socket>((resolve) => {
    const socket = createSocket('udp4');
    sockets.push(socket);
    socket.on('message', (msg, from) => onMessage(socket, msg, from));
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('scanUdp on 127.0.0.1', () => {
  it('finds an answering port open, an unused one closed and a silent one open|filtered', async () => {
    const echo = await bind(0, (s, msg, from) => s.send(Buffer.from('hello'), from.port, from.address));
    const silent = await bind(0, () => undefined);
    const unused = await bind(0, () => undefined);
    const closedPort = unused.address().port;
    unused.close();
    sockets.splice(sockets.indexOf(unused), 1);
    const ports = [echo.address().port, silent.address().port, closedPort];
    const results = await scanUdp([LOCAL], ports, { timeoutMs: 100, retries: 1 });
    const byPort = new Map(results.map((r) => [r.port, r]));
    expect(byPort.get(ports[0]!)).toMatchObject({ state: 'open', reason: 'udp-response' });
    expect(byPort.get(ports[1]!)).toMatchObject({ state: 'open|filtered', reason: 'no-response' });
    expect(byPort.get(ports[2]!)).toMatchObject({ state: 'closed', reason: 'port-unreach' });
  });
});

describeUnlessMissing(
  process.getuid?.() === 0 ? null : 'root',
  'run as root (a TFTP server needs port 69)',
  'scanUdp and TFTP',
  () => {
    it('hears a TFTP server that answers from another port', async () => {
      // The server takes the request on 69 and answers "file not found" from a new socket.
      await bind(69, (_s, msg, from) => {
        const reply = createSocket('udp4');
        sockets.push(reply);
        const error = Buffer.concat([Buffer.from([0, 5, 0, 1]), Buffer.from('File not found\0')]);
        reply.send(error, from.port, from.address);
        expect(msg.readUInt16BE(0)).toBe(1);
      });
      const [result] = await scanUdp([LOCAL], [69], { timeoutMs: 200, retries: 0 });
      expect(result).toMatchObject({ state: 'open', service: { name: 'tftp' } });
    });
  },
);
