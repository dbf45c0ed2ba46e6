/**
 * The nftables backend on a real kernel: a server, an attacker and a client in their own network
 * namespaces on one bridge (no default route), FlowTrack's table applied inside the server's
 * namespace. A block must really stop the attacker's TCP connections and pings while the client
 * still gets through; unblocking, a block's expiry and flush() must let it through again; a closed
 * port must refuse connections. The namespaces, and with them every rule, are removed at the end.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NftablesFirewall, parseSource } from '../src/respond/nftables-firewall.js';
import { ErrorCode } from '../src/util/errors.js';
import { Lan, removeStaleLans, sleep } from './helpers/netns.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const root = process.getuid?.() === 0;
const missing = [...(root ? [] : ['root']), ...['nft', 'ip', 'ping'].filter((tool) => !hasTool(tool))];

const SERVER = '10.79.0.2';
const ATTACKER = '10.79.0.20';
const CLIENT = '10.79.0.40';
const OPEN_PORT = 8080;
const CLOSED_PORT = 8081;

describe('parseSource', () => {
  it('takes addresses and prefixes of both families', () => {
    expect(parseSource('203.0.113.7')).toEqual({ family: 4, addr: '203.0.113.7', len: 32 });
    expect(parseSource('198.51.100.0/24')).toEqual({ family: 4, addr: '198.51.100.0', len: 24 });
    expect(parseSource('2001:db8::/64')).toEqual({ family: 6, addr: '2001:db8::', len: 64 });
  });

  it('refuses anything else, saying how to write it', () => {
    for (const bad of [
      '',
      'example.com',
      '10.0.0.1/33',
      '2001:db8::/129',
      '10.0.0.1/8/8',
      '10.0.0.1/x',
      '1.2.3.4; drop',
    ])
      expect(() => parseSource(bad)).toThrow(/not an IP address or prefix|prefix length/);
  });
});

describe('NftablesFirewall without nft', () => {
  it('fails with IO_ERROR saying to install nftables', async () => {
    const firewall = new NftablesFirewall({ command: ['/nonexistent/nft'] });
    await expect(firewall.apply({ blocked: [], closedPorts: [] })).rejects.toMatchObject({
      code: ErrorCode.IO_ERROR,
      message: expect.stringContaining('install nftables') as unknown,
    });
  });
});

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (nftables in network namespaces)',
  'NftablesFirewall in a network namespace',
  () => {
    let lan: Lan | null = null;
    let firewall: NftablesFirewall;

    beforeAll(async () => {
      await removeStaleLans();
      lan = await Lan.create([
        { role: 'server', addresses: [SERVER] },
        { role: 'attacker', addresses: [ATTACKER] },
        { role: 'client', addresses: [CLIENT] },
      ]);
      // Two TCP listeners that accept and close (this Node, in the server's namespace).
      const listen = `for (const p of [${OPEN_PORT}, ${CLOSED_PORT}]) require('net').createServer((s) => s.end()).listen(p, '${SERVER}', () => console.log('listening', p))`;
      const server = lan.start('server', process.execPath, ['-e', listen], 300);
      await server.waitFor(new RegExp(`listening ${CLOSED_PORT}`), 10_000);
      firewall = new NftablesFirewall({ command: ['ip', 'netns', 'exec', lan.host('server').ns, 'nft'] });
      await firewall.apply({ blocked: [], closedPorts: [] });
    }, 60_000);

    afterAll(async () => {
      await lan?.remove();
    });

    /** 'open' when a TCP connection from `role` succeeds, 'refused' when it is reset, 'silent' on no answer. */
    async function connect(role: string, port = OPEN_PORT): Promise<'open' | 'refused' | 'silent'> {
      const script = `exec 3<>/dev/tcp/${SERVER}/${port}`;
      const r = await lan!.exec(role, 'timeout', ['2', 'bash', '-c', script], { allowFailure: true });
      return r.code === 0 ? 'open' : r.code === 124 ? 'silent' : 'refused';
    }

    async function pings(role: string): Promise<boolean> {
      const r = await lan!.exec(role, 'ping', ['-c', '1', '-W', '1', SERVER], { allowFailure: true });
      return r.code === 0;
    }

    it('drops a blocked source (TCP and ping) while others pass, until it is unblocked', async () => {
      expect(await connect('attacker')).toBe('open');
      await firewall.block([{ address: ATTACKER, expiresAt: null }]);
      expect(await connect('attacker')).toBe('silent');
      expect(await pings('attacker')).toBe(false);
      expect(await connect('client')).toBe('open');
      expect(await pings('client')).toBe(true);
      expect((await firewall.read())?.blocked).toEqual([{ address: ATTACKER, expiresAt: null }]);

      await firewall.unblock([ATTACKER]);
      expect(await connect('attacker')).toBe('open');
      expect(await pings('attacker')).toBe(true);
      expect((await firewall.read())?.blocked).toEqual([]);
    }, 30_000);

    it('blocks a whole prefix, and only it', async () => {
      // 10.79.0.16/28 holds the attacker (.20), not the client (.40).
      await firewall.block([{ address: '10.79.0.16/28', expiresAt: null }]);
      expect(await connect('attacker')).toBe('silent');
      expect(await connect('client')).toBe('open');
      await firewall.unblock(['10.79.0.16/28']);
      expect(await connect('attacker')).toBe('open');
    }, 30_000);

    it('lifts a block by itself when it expires', async () => {
      await firewall.block([{ address: ATTACKER, expiresAt: Date.now() + 2000 }]);
      const listed = (await firewall.read())?.blocked[0];
      expect(listed?.address).toBe(ATTACKER);
      expect(listed?.expiresAt).toBeGreaterThan(Date.now());
      expect(await pings('attacker')).toBe(false);
      await sleep(3000);
      expect(await pings('attacker')).toBe(true);
      expect((await firewall.read())?.blocked).toEqual([]);
    }, 30_000);

    it('refuses connections to a closed port and keeps the others open', async () => {
      await firewall.apply({ blocked: [], closedPorts: [{ protocol: 'tcp', port: CLOSED_PORT }] });
      expect(await connect('client', CLOSED_PORT)).toBe('refused');
      expect(await connect('client', OPEN_PORT)).toBe('open');
      expect((await firewall.read())?.closedPorts).toEqual([{ protocol: 'tcp', port: CLOSED_PORT }]);
      await firewall.apply({ blocked: [], closedPorts: [] });
      expect(await connect('client', CLOSED_PORT)).toBe('open');
    }, 30_000);

    it('apply() replaces the whole state at once, and flush() removes the table and only it', async () => {
      await firewall.apply({ blocked: [{ address: ATTACKER, expiresAt: null }], closedPorts: [] });
      expect(await connect('attacker')).toBe('silent');
      // Someone else's table in the same namespace must survive the flush.
      await lan!.exec('server', 'nft', ['add', 'table', 'inet', 'someone_else']);
      await firewall.flush();
      expect(await firewall.read()).toBeNull();
      expect(await connect('attacker')).toBe('open');
      const { stdout } = await lan!.exec('server', 'nft', ['list', 'tables']);
      expect(stdout).toContain('someone_else');
      expect(stdout).not.toContain('flowtrack');
    }, 30_000);
  },
);
