/**
 * `flowtrack serve` enforcing its firewall with nftables, as an admin runs it: the real CLI in the
 * victim's network namespace, capturing on its eth0, real tools in other namespaces.
 * - an hping3 SYN flood from one source is blocked automatically within 3 s of its first packet
 *   (the kernel's set holds the attacker, whose connections then go unanswered), a benign client
 *   keeps connecting meanwhile, and the block expires on time (the attacker connects again);
 * - blocking the host's own address, an allow-listed network or the signed-in admin's address is
 *   refused through the API with the reason, and nothing reaches the kernel;
 * - the kill switch stops automatic blocking, and stays off across a restart;
 * - after a restart with FlowTrack's rules deleted by hand and stale ones added, the kernel holds
 *   exactly what the database says.
 *
 * Traffic stays on a LAN of network namespaces with no default route (test/helpers/netns.ts), and
 * every tool is bounded in packets and time; the namespaces go, and with them every rule. Needs
 * root; skipped with a message otherwise, except under CI=true where a missing tool fails.
 */

import { afterAll, beforeAll, expect, it } from 'vitest';
import { sleep, waitFor } from './helpers/netns.js';
import { NetnsServe } from './helpers/netns-serve.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const TOOLS = ['ip', 'tcpdump', 'hping3', 'nft', 'curl', 'bash'];

const VICTIM = '10.76.0.1';
const CLIENT = '10.76.0.20';
const ADMIN = '10.76.0.30';
const ATTACKER = '10.76.0.66';
const ALLOWED_NET = '10.76.0.128/25';
/** The first automatic block lasts this long (the configured first step). */
const FIRST_BLOCK_S = 8;
const SERVICE_PORT = 8080;

const root = process.getuid?.() === 0;
const missing = [...TOOLS.filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];

interface Rule {
  id: number;
  kind: string;
  source: string | null;
  port: number | null;
  createdBy: string;
  alertId: string | null;
  expiresAt: number | null;
  removedBy: string | null;
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (network namespaces and nftables need root)',
  'flowtrack serve blocking attackers with nftables between network namespaces',
  () => {
    const flowtrack = new NetnsServe({
      tmpPrefix: 'flowtrack-serve-firewall-',
      hosts: { victim: VICTIM, client: CLIENT, admin: ADMIN, attacker: ATTACKER },
      // The API at the victim's address, called from the admin's namespace.
      serveOn: 'victim',
      port: 18080,
      apiFrom: 'admin',
      env: {
        FLOWTRACK_FIREWALL_MODE: 'enforce',
        FLOWTRACK_FIREWALL_BACKEND: 'nftables',
        FLOWTRACK_FIREWALL_AUTO_BLOCK_DURATIONS: `${FIRST_BLOCK_S}s,1h`,
        FLOWTRACK_FIREWALL_ALLOW_LIST: ALLOWED_NET,
        FLOWTRACK_CAPTURE_EVIDENCE_ENABLED: 'false',
      },
      users: { ada: 'admin' },
      beforeServe: async (lan) => {
        // The service the benign client uses: accepts and closes.
        const listen = `require('net').createServer((s) => s.end()).listen(${SERVICE_PORT}, '${VICTIM}', () => console.log('listening'))`;
        await lan.start('victim', process.execPath, ['-e', listen], 300).waitFor(/listening/, 10_000);
      },
    });
    /** The API from the admin's namespace, as the signed-in admin. */
    const api = flowtrack.api;

    async function rules(all = false): Promise<Rule[]> {
      return ((await api(`/api/firewall/rules${all ? '?all=true' : ''}`)).body as { items: Rule[] }).items;
    }

    /** The elements of one of FlowTrack's sets in the victim's kernel, as nft lists them. */
    async function setElements(set: string): Promise<string[]> {
      const list = ['-j', 'list', 'set', 'inet', 'flowtrack', set];
      const { stdout } = await flowtrack.lan.exec('victim', 'nft', list);
      const listed = JSON.parse(stdout) as { nftables: { set?: { elem?: unknown[] } }[] };
      const elements = listed.nftables.find((i) => i.set)?.set?.elem ?? [];
      return elements.map((e) => {
        const v = (
          typeof e === 'object' && e !== null && 'elem' in e ? (e as { elem: { val: unknown } }).elem.val : e
        ) as string | number | { prefix: { addr: string; len: number } };
        return typeof v === 'object' ? `${v.prefix.addr}/${v.prefix.len}` : String(v);
      });
    }

    /** 'open' when a TCP connection from `role` to the service succeeds, 'silent' when unanswered. */
    async function connect(role: string): Promise<'open' | 'refused' | 'silent'> {
      const script = `exec 3<>/dev/tcp/${VICTIM}/${SERVICE_PORT}`;
      const r = await flowtrack.lan.exec(role, 'timeout', ['2', 'bash', '-c', script], {
        allowFailure: true,
      });
      return r.code === 0 ? 'open' : r.code === 124 ? 'silent' : 'refused';
    }

    beforeAll(async () => {
      await flowtrack.start();
      expect(flowtrack.serve.text).toContain('firewall enforced with nftables');
    }, 60_000);
    afterAll(() => flowtrack.stop());

    it('blocks a SYN flood source within 3 s while a benign client keeps working, until the block expires', async () => {
      expect(await connect('attacker')).toBe('open');
      const started = Date.now();
      // 15,000 SYNs at about 5,000 a second: hping3 stops by itself.
      const flood = flowtrack.lan.exec(
        'attacker',
        'hping3',
        ['-q', '-S', '-p', '80', '-c', '15000', '-i', 'u200', VICTIM],
        {
          timeoutSeconds: 30,
          allowFailure: true,
        },
      );
      const clientResults: string[] = [];
      let flooding = true;
      // A connection every 300 ms: a client, not a connection flood (100 a minute).
      const client = (async () => {
        while (flooding) {
          clientResults.push(await connect('client'));
          await sleep(300);
        }
      })();
      await waitFor(
        'the attacker in the kernel set',
        async () => ((await setElements('block_v4')).includes(ATTACKER) ? true : null),
        10_000,
      );
      const blockedAfterMs = Date.now() - started;
      expect(await connect('attacker')).toBe('silent');
      await flood;
      flooding = false;
      await client;
      expect(blockedAfterMs).toBeLessThan(3000);
      expect(clientResults.length).toBeGreaterThan(0);
      expect(clientResults.every((r) => r === 'open')).toBe(true);

      // The rule names the policy and the alert that caused it.
      const [rule] = (await rules()).filter((r) => r.source === ATTACKER);
      expect(rule).toMatchObject({ kind: 'block', createdBy: 'policy' });
      // The flood is both a connection flood and a SYN flood; whichever alert came first blocked it.
      const alerts = (await api('/api/anomalies')).body as {
        items: { id: string; type: string; src: string }[];
      };
      const cause = alerts.items.find((a) => a.id === rule!.alertId);
      expect(cause?.src).toBe(ATTACKER);
      expect(['syn_flood', 'connection_flood']).toContain(cause?.type);
      expect(rule!.expiresAt! - Date.now()).toBeLessThanOrEqual(FIRST_BLOCK_S * 1000);

      // Expiry: the kernel lets the attacker in again and the database says why.
      await waitFor(
        'the block to expire',
        async () => ((await setElements('block_v4')).length === 0 ? true : null),
        (FIRST_BLOCK_S + 5) * 1000,
      );
      expect(await connect('attacker')).toBe('open');
      const lifted = await waitFor(
        'the rule marked expired',
        async () => (await rules(true)).find((r) => r.id === rule!.id && r.removedBy === 'expired') ?? null,
        3000,
      );
      expect(lifted.removedBy).toBe('expired');
      const audit = (await api('/api/logs/audit?action=firewall.rule.expire')).body as {
        items: { target: string }[];
      };
      expect(audit.items.map((e) => e.target)).toContain(String(rule!.id));

      // The kill switch: the attacker's connection just now counts again in the detector's minute,
      // which would block it again (for an hour); switched off, nothing is blocked any more.
      const off = await api('/api/firewall/auto-block', { method: 'PUT', body: { enabled: false } });
      expect(off.body).toEqual({ enabled: false });
      for (const again of (await rules()).filter((r) => r.source === ATTACKER)) {
        expect((await api(`/api/firewall/rules/${again.id}`, { method: 'DELETE' })).status).toBe(200);
      }
      expect(await setElements('block_v4')).toEqual([]);
    }, 60_000);

    it("refuses to block the host's own address, an allow-listed network and the admin's own session, with the reason", async () => {
      const refusals: [string, RegExp][] = [
        [VICTIM, /an address of this host/],
        ['10.76.0.0/24', /an address of this host/],
        ['10.76.0.200', /allow-list/],
        [ADMIN, /where a logged-in admin is connected from/],
      ];
      for (const [source, reason] of refusals) {
        const res = await api('/api/firewall/rules', { method: 'POST', body: { kind: 'block', source } });
        expect(res.status, source).toBe(409);
        expect((res.body as { message: string }).message).toMatch(reason);
      }
      expect(await setElements('block_v4')).toEqual([]);
      const denied = (await api('/api/logs/audit?action=firewall.rule.add&outcome=denied')).body as {
        items: unknown[];
      };
      expect(denied.items.length).toBeGreaterThanOrEqual(refusals.length);
    }, 30_000);

    it('after a restart with rules deleted by hand and stale ones added, the kernel matches the database', async () => {
      const add = async (body: object) => {
        const res = await api('/api/firewall/rules', { method: 'POST', body });
        expect(res.status).toBe(201);
      };
      await add({ kind: 'block', source: '10.76.0.70', comment: 'kept for good' });
      await add({ kind: 'block', source: '10.76.0.96/28', expiresInSeconds: 3600 });
      await add({ kind: 'close', protocol: 'tcp', port: 9999 });
      expect(await flowtrack.serve.stop('SIGTERM', 20_000)).toBe(0);

      // By hand, while FlowTrack is down: one of its blocks deleted, stale entries added.
      const nft = (args: string[]) => flowtrack.lan.exec('victim', 'nft', args);
      await nft(['delete', 'element', 'inet', 'flowtrack', 'block_v4', '{ 10.76.0.70 }']);
      await nft(['add', 'element', 'inet', 'flowtrack', 'block_v4', '{ 10.76.0.120 }']);
      await nft(['add', 'element', 'inet', 'flowtrack', 'closed_tcp', '{ 7777 }']);
      expect((await setElements('block_v4')).sort()).toEqual(['10.76.0.120', '10.76.0.96/28']);

      await flowtrack.startServe();
      expect(flowtrack.serve.text).toMatch(
        /automatic blocking off; reconciled with the database: 1 re-applied, 2 stale removed/,
      );
      const inForce = await rules();
      const blocks = inForce.filter((r) => r.kind === 'block').map((r) => r.source!);
      const closed = inForce.filter((r) => r.kind === 'close').map((r) => String(r.port));
      expect((await setElements('block_v4')).sort()).toEqual(blocks.sort());
      expect(await setElements('closed_tcp')).toEqual(closed);
      expect(blocks.sort()).toEqual(['10.76.0.70', '10.76.0.96/28']);
      const reconciled = (await api('/api/logs/audit?action=firewall.reconcile')).body as {
        items: { before: { stale: { first: string[] } }; after: { missing: { first: string[] } } }[];
      };
      expect(reconciled.items[0]?.after.missing.first).toEqual(['block 10.76.0.70']);
      expect(reconciled.items[0]?.before.stale.first.sort()).toEqual(['block 10.76.0.120', 'close 7777/tcp']);
    }, 60_000);
  },
);
