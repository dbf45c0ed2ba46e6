/**
 * The conformance suite every firewall backend passes, on a real kernel: a server, an attacker
 * and a client in their own network namespaces on one bridge (no default route), the backend
 * applied inside the server's namespace. A block must really stop the attacker's TCP connections
 * and pings while the client still gets through; unblocking, a block's expiry and flush() must
 * let it through again; a closed port must refuse connections; blocks and closed ports limited to
 * an interface must hold on that interface only (the server has a second, unconnected one);
 * flush() must leave rules it did not make. The namespaces, and with them every rule, are removed
 * at the end.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BlockedSource, ClosedPort, FirewallBackend } from '../../src/respond/firewall-backend.js';
import { Lan, removeStaleLans, sleep } from './netns.js';
import { describeUnlessMissing, hasTool } from './system-tools.js';

export interface FirewallSuiteOptions {
  /** The backend, running its commands after `prefix` (which enters the server's namespace). */
  make: (prefix: readonly string[]) => FirewallBackend;
  /** The system tools it needs. */
  tools: readonly string[];
  /** A /24 of its own, as 'A.B.C' (suites run side by side). */
  subnet: string;
  /** A rule of someone else's in the server's namespace, and how to list every rule there. */
  foreign: { add: readonly string[]; list: readonly (readonly string[])[]; name: string };
}

export function runFirewallSuite(label: string, options: FirewallSuiteOptions): void {
  const root = process.getuid?.() === 0;
  const missing = [...(root ? [] : ['root']), ...['ip', 'ping', ...options.tools].filter((t) => !hasTool(t))];
  const SERVER = `${options.subnet}.2`;
  const ATTACKER = `${options.subnet}.20`;
  const CLIENT = `${options.subnet}.40`;
  // A prefix that holds the attacker (.20), not the client (.40).
  const ATTACKER_PREFIX = `${options.subnet}.16/28`;
  const OPEN_PORT = 8080;
  const CLOSED_PORT = 8081;
  /** The server's second interface, which no traffic arrives on. */
  const OTHER = 'other0';

  describeUnlessMissing(
    missing.length === 0 ? null : missing.join(', '),
    'run as root after scripts/setup.sh --test (firewalls in network namespaces)',
    `firewall conformance: ${label} in a network namespace`,
    () => {
      let lan: Lan | null = null;
      let firewall: FirewallBackend;
      /** The server's interface that the LAN's packets arrive on. */
      let arriving: string;

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
        arriving = lan.host('server').iface;
        // A veth pair with both ends in the server's namespace, connected to nothing: the dummy
        // driver would do as well, but not every kernel has it.
        await lan.exec('server', 'ip', ['link', 'add', OTHER, 'type', 'veth', 'peer', 'name', 'other1']);
        await lan.exec('server', 'ip', ['link', 'set', OTHER, 'up']);
        firewall = options.make(['ip', 'netns', 'exec', lan.host('server').ns]);
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
        await firewall.block([{ address: ATTACKER_PREFIX, expiresAt: null }]);
        expect(await connect('attacker')).toBe('silent');
        expect(await connect('client')).toBe('open');
        expect((await firewall.read())?.blocked).toEqual([{ address: ATTACKER_PREFIX, expiresAt: null }]);
        await firewall.unblock([ATTACKER_PREFIX]);
        expect(await connect('attacker')).toBe('open');
      }, 30_000);

      it('lifts a block by itself when it expires', async () => {
        await firewall.block([{ address: ATTACKER, expiresAt: Date.now() + 2000 }]);
        const listed = (await firewall.read())?.blocked[0];
        expect(listed?.address).toBe(ATTACKER);
        expect(listed?.expiresAt).toBeGreaterThan(Date.now());
        expect(await pings('attacker')).toBe(false);
        await sleep(3500);
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

      it('drops a source blocked on the interface it arrives on, not one blocked on another', async () => {
        await firewall.block([
          { address: ATTACKER, expiresAt: null, interface: OTHER },
          // A name that begins the arriving one's (eth for eth0) is another interface too.
          { address: ATTACKER_PREFIX, expiresAt: null, interface: arriving.slice(0, -1) },
        ]);
        expect(await connect('attacker')).toBe('open');
        expect(await pings('attacker')).toBe(true);

        await firewall.block([{ address: ATTACKER, expiresAt: null, interface: arriving }]);
        expect(await connect('attacker')).toBe('silent');
        expect(await pings('attacker')).toBe(false);
        expect(await connect('client')).toBe('open');
        expect(sorted((await firewall.read())?.blocked)).toEqual(
          sorted([
            { address: ATTACKER, expiresAt: null, interface: OTHER },
            { address: ATTACKER_PREFIX, expiresAt: null, interface: arriving.slice(0, -1) },
            { address: ATTACKER, expiresAt: null, interface: arriving },
          ]),
        );

        // Unblocking takes the address off every interface, and leaves the prefix.
        await firewall.block([{ address: ATTACKER, expiresAt: null }]);
        await firewall.unblock([ATTACKER]);
        expect(await connect('attacker')).toBe('open');
        expect((await firewall.read())?.blocked).toEqual([
          { address: ATTACKER_PREFIX, expiresAt: null, interface: arriving.slice(0, -1) },
        ]);
        await firewall.unblock([ATTACKER_PREFIX]);
        expect((await firewall.read())?.blocked).toEqual([]);
      }, 30_000);

      it('blocks a prefix on one interface for a time; unblocking what is not blocked is no error', async () => {
        await firewall.block([
          { address: ATTACKER_PREFIX, expiresAt: Date.now() + 60_000, interface: arriving },
        ]);
        expect(await connect('attacker')).toBe('silent');
        expect(await connect('client')).toBe('open');
        const [listed, ...more] = (await firewall.read())?.blocked ?? [];
        expect(more).toEqual([]);
        expect(listed).toMatchObject({ address: ATTACKER_PREFIX, interface: arriving });
        expect(listed?.expiresAt).toBeGreaterThan(Date.now() + 50_000);
        // Another address, blocked nowhere, is no error.
        await firewall.unblock([ATTACKER_PREFIX, CLIENT]);
        expect(await connect('attacker')).toBe('open');
        expect((await firewall.read())?.blocked).toEqual([]);
      }, 30_000);

      it('refuses a port closed on the interface connections arrive on, not one closed on another', async () => {
        const elsewhere: ClosedPort = { protocol: 'tcp', port: CLOSED_PORT, interface: OTHER };
        await firewall.apply({ blocked: [], closedPorts: [elsewhere] });
        expect(await connect('client', CLOSED_PORT)).toBe('open');

        const here: ClosedPort[] = [
          { protocol: 'tcp', port: CLOSED_PORT, interface: arriving },
          { protocol: 'udp', port: CLOSED_PORT, interface: arriving },
        ];
        await firewall.apply({ blocked: [], closedPorts: [elsewhere, ...here] });
        expect(await connect('client', CLOSED_PORT)).toBe('refused');
        expect(await connect('client', OPEN_PORT)).toBe('open');
        expect(sorted((await firewall.read())?.closedPorts)).toEqual(sorted([elsewhere, ...here]));
        await firewall.apply({ blocked: [], closedPorts: [] });
        expect(await connect('client', CLOSED_PORT)).toBe('open');
        expect((await firewall.read())?.closedPorts).toEqual([]);
      }, 30_000);

      it('apply() replaces the whole state, and flush() removes its own rules and only them', async () => {
        const state = {
          blocked: [
            { address: ATTACKER, expiresAt: null },
            { address: ATTACKER, expiresAt: null, interface: arriving },
          ],
          closedPorts: [{ protocol: 'tcp', port: CLOSED_PORT, interface: arriving }],
        } satisfies { blocked: BlockedSource[]; closedPorts: ClosedPort[] };
        await firewall.apply(state);
        expect(await connect('attacker')).toBe('silent');
        // Applying again neither doubles a rule nor loses the block.
        await firewall.apply(state);
        expect(await connect('attacker')).toBe('silent');
        expect(await connect('client', CLOSED_PORT)).toBe('refused');
        const read = await firewall.read();
        expect(sorted(read?.blocked)).toEqual(sorted(state.blocked));
        expect(read?.closedPorts).toEqual(state.closedPorts);
        const [cmd = '', ...args] = options.foreign.add;
        await lan!.exec('server', cmd, args);
        await firewall.flush();
        expect(await firewall.read()).toBeNull();
        expect(await connect('attacker')).toBe('open');
        expect(await connect('client', CLOSED_PORT)).toBe('open');
        let listed = '';
        for (const [listCmd = '', ...listArgs] of options.foreign.list)
          listed += (await lan!.exec('server', listCmd, listArgs)).stdout;
        expect(listed).toContain(options.foreign.name);
        expect(listed.toLowerCase()).not.toContain('flowtrack');
      }, 30_000);
    },
  );
}

/** `items` in one order whatever order the kernel lists them in. */
function sorted<T>(items: readonly T[] | undefined): T[] {
  return [...(items ?? [])].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
