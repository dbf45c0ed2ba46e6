/**
 * The blocking policy against a real kernel: FirewallService over a real SQLite store and the
 * nftables backend inside a network namespace of its own.
 * - a flood of alerts from 100,000 spoofed sources makes no more blocks than the per-minute cap
 *   allows, and afterwards nftables' set holds exactly the blocks the database has;
 * - with iptables and ipset, entries deleted by hand and stale ones added while FlowTrack was
 *   down are set right when it starts again (serve-firewall-netns.test.ts shows it for nftables);
 * - an earlier run's table that nothing manages is found, and removed when asked;
 * - the host's real default gateway is refused with its reason (this one runs in the host's own
 *   namespace with the dry-run backend: it reads the host's routes and touches no rule).
 * Needs root for the namespace; skipped with a message otherwise, except under CI=true.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Alert } from '../src/alerts/alert.js';
import { loadServiceConfig } from '../src/config/service-config.js';
import { hostProtectedAddresses } from '../src/respond/block-safety.js';
import { DryRunFirewall } from '../src/respond/dry-run-firewall.js';
import type { FirewallBackend } from '../src/respond/firewall-backend.js';
import { FirewallService, type FirewallConfig } from '../src/respond/firewall-service.js';
import { IptablesFirewall } from '../src/respond/iptables-firewall.js';
import { NftablesFirewall } from '../src/respond/nftables-firewall.js';
import { leftovers } from '../src/respond/open-firewall.js';
import { openStore, type Store } from '../src/store/store.js';
import { Lan, removeStaleLans } from './helpers/netns.js';
import { describeUnlessMissing, hasTool } from './helpers/system-tools.js';

const root = process.getuid?.() === 0;
const missing = [...['ip', 'nft'].filter((t) => !hasTool(t)), ...(root ? [] : ['root'])];
const SOURCES = 100_000;
const CAP = 60;

function config(overrides: Partial<FirewallConfig['autoBlock']> = {}): FirewallConfig {
  const base = loadServiceConfig({ env: {} }).firewall;
  return { ...base, mode: 'enforce', autoBlock: { ...base.autoBlock, maxPerMinute: CAP, ...overrides } };
}

function alert(n: number, src: string, at: number): Alert {
  return {
    id: `connection_flood-test-${n}`,
    type: 'connection_flood',
    severity: 'high',
    src,
    dst: '203.0.113.1',
    start: at * 1000,
    end: at * 1000,
    counters: { connections: 500 },
    summary: `${src} opened 500 new TCP connections`,
    evidence: { thresholds: [] },
    updates: 1,
  } as unknown as Alert;
}

function service(store: Store, backend: FirewallBackend, now: () => number, cfg = config()): FirewallService {
  return new FirewallService({
    backend,
    rules: () => store.firewallRules,
    settings: () => store.settings,
    audit: (event) => store.audit.append(event),
    config: cfg,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    now,
  });
}

describeUnlessMissing(
  missing.length === 0 ? null : missing.join(', '),
  'run as root after scripts/setup.sh --test (nftables in a network namespace)',
  'the blocking policy with nftables in a network namespace',
  () => {
    let lan: Lan | undefined;
    let dir = '';
    let store: Store;

    beforeAll(async () => {
      await removeStaleLans();
      dir = mkdtempSync(join(tmpdir(), 'flowtrack-policy-'));
      store = await openStore(join(dir, 'flowtrack.db'));
      lan = await Lan.create([{ role: 'fw', addresses: ['10.75.0.1'] }]);
    }, 30_000);

    afterAll(async () => {
      try {
        await store.close();
        await lan?.remove();
      } finally {
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`keeps ${SOURCES.toLocaleString('en')} spoofed sources within the cap, and the kernel's set equal to the database`, async () => {
      const firewall = new NftablesFirewall({ prefix: ['ip', 'netns', 'exec', lan!.host('fw').ns] });
      let clock = Date.now();
      const policy = service(store, firewall, () => clock);
      await policy.start();
      // 1,000 alerts a second for 100 s, each from another address of 198.18.0.0/15.
      for (let n = 0; n < SOURCES; n++) {
        if (n % 1000 === 0) clock += 1000;
        policy.onAlert(alert(n, `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`, clock));
      }
      const report = await policy.reconcile();
      await policy.stop();

      const status = policy.status();
      const blocks = (await store.firewallRules.active(clock)).filter((r) => r.kind === 'block');
      // A sliding minute over 100 s: at most two caps' worth.
      expect(blocks.length).toBeGreaterThanOrEqual(CAP);
      expect(blocks.length).toBeLessThanOrEqual(2 * CAP);
      expect(status.counts.blocked).toBe(blocks.length);
      expect(status.counts.cappedOut).toBe(SOURCES - blocks.length);
      expect(blocks.every((r) => r.createdBy === 'policy' && r.alertId !== null)).toBe(true);
      // Consistent: nothing to re-apply or remove, and the set lists exactly the database's blocks.
      expect(report).toMatchObject({ missing: [], stale: [] });
      const { stdout } = await lan!.exec('fw', 'nft', ['-j', 'list', 'set', 'inet', 'flowtrack', 'block_v4']);
      const set = (
        JSON.parse(stdout) as { nftables: { set?: { elem?: { elem: { val: string } }[] } }[] }
      ).nftables.find((i) => i.set)!.set!;
      expect((set.elem ?? []).map((e) => e.elem.val).sort()).toEqual(blocks.map((r) => r.source).sort());
    }, 120_000);

    it("finds and, when asked, removes an earlier run's rules that nothing manages", async () => {
      const prefix = ['ip', 'netns', 'exec', lan!.host('fw').ns];
      await new NftablesFirewall({ prefix }).apply({
        blocked: [{ address: '203.0.113.9', expiresAt: null }],
        closedPorts: [],
      });
      expect(await leftovers('dry-run', false, { prefix })).toEqual(['nftables']);
      expect(await leftovers('nftables', false, { prefix })).toEqual([]);
      expect(await leftovers('dry-run', true, { prefix })).toEqual(['nftables']);
      expect(await new NftablesFirewall({ prefix }).read()).toBeNull();
      expect(await leftovers('dry-run', false, { prefix })).toEqual([]);
    });
  },
);

const iptablesMissing = [
  ...['ip', 'iptables', 'ipset'].filter((t) => !hasTool(t)),
  ...(root ? [] : ['root']),
];

describeUnlessMissing(
  iptablesMissing.length === 0 ? null : iptablesMissing.join(', '),
  'run as root after scripts/setup.sh --test (iptables and ipset in a network namespace)',
  'the firewall service with iptables and ipset in a network namespace',
  () => {
    let lan: Lan | undefined;

    beforeAll(async () => {
      await removeStaleLans();
      lan = await Lan.create([{ role: 'ipt', addresses: ['10.75.1.1'] }]);
    }, 30_000);

    afterAll(async () => {
      await lan?.remove();
    });

    it('iptables: after rules deleted by hand and stale ones added, reconciling makes the kernel equal the database', async () => {
      const prefix = ['ip', 'netns', 'exec', lan!.host('ipt').ns];
      const dbDir = mkdtempSync(join(tmpdir(), 'flowtrack-reconcile-'));
      const own = await openStore(join(dbDir, 'flowtrack.db'));
      try {
        const ada = { name: 'ada', ip: null };
        const first = service(own, new IptablesFirewall({ prefix }), Date.now);
        await first.start();
        await first.addRule({ kind: 'block', source: '203.0.113.70' }, ada);
        await first.addRule(
          { kind: 'block', source: '2001:db8:7::/48', expiresAt: Date.now() + 3_600_000 },
          ada,
        );
        await first.addRule({ kind: 'close', protocol: 'tcp', port: 9999 }, ada);
        await first.stop();

        // By hand, while FlowTrack is down.
        const ipset = (args: string[]) => lan!.exec('ipt', 'ipset', args);
        await ipset(['del', 'flowtrack-block4', '203.0.113.70']);
        await ipset(['add', 'flowtrack-block4', '203.0.113.120']);
        await ipset(['add', 'flowtrack-tcp', '7777']);

        const again = service(own, new IptablesFirewall({ prefix }), Date.now);
        const report = await again.start();
        await again.stop();
        expect(report.missing).toEqual(['block 203.0.113.70']);
        expect(report.stale.sort()).toEqual(['block 203.0.113.120', 'close 7777/tcp']);
        const { stdout } = await ipset(['save']);
        const entries = stdout
          .split('\n')
          .filter((l) => l.startsWith('add flowtrack-'))
          .map((l) => l.split(' ').slice(1, 3).join(' '))
          .sort();
        expect(entries).toEqual([
          'flowtrack-block4 203.0.113.70',
          'flowtrack-block6 2001:db8:7::/48',
          'flowtrack-tcp 9999',
        ]);
        await new IptablesFirewall({ prefix }).flush();
      } finally {
        await own.close();
        rmSync(dbDir, { recursive: true, force: true });
      }
    }, 60_000);
  },
);

it("refuses to block the host's own default gateway, saying so (host namespace, dry-run backend; skipped only on a host with no default route)", async (context) => {
  const gateway = [...hostProtectedAddresses().gateways][0];
  if (gateway === undefined) {
    if (process.env.CI === 'true')
      throw new Error('this CI machine has no default route: no gateway to test with');
    context.skip('this host has no default route, so there is no gateway to protect');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'flowtrack-gateway-'));
  const store = await openStore(join(dir, 'flowtrack.db'));
  try {
    const firewall = service(store, new DryRunFirewall(), Date.now);
    await firewall.start();
    await expect(
      firewall.addRule({ kind: 'block', source: gateway }, { name: 'ada', ip: null }),
    ).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining(`${gateway}, this host's default gateway`) as unknown,
    });
    await firewall.stop();
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
