/**
 * FirewallService over a real SQLite store and the dry-run backend, with a fixed host (its own
 * addresses, gateway and DNS server), logged-in admins and a clock the test moves: rules an admin
 * adds and lifts reach the backend, unsafe ones are refused with the reason, expiry and
 * reconciliation keep the backend equal to the database, and the blocking policy blocks
 * attackers as configured (filter, IPv6 /64, escalation, per-minute cap, kill switch).
 */

import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Alert } from '../alerts/alert.js';
import { serviceConfigSchema, type ServiceConfigInput } from '../config/service-config.js';
import type { AuditEvent } from '../store/audit-repository.js';
import type { FirewallRule } from '../store/firewall-rule-repository.js';
import { openStore, type Store } from '../store/store.js';
import { ErrorCode } from '../util/errors.js';
import { AdminSessions } from './admin-sessions.js';
import { DryRunFirewall } from './dry-run-firewall.js';
import { FirewallService, stateOf, type Actor, type FirewallConfig } from './firewall-service.js';

const T0 = 1_750_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const ALICE: Actor = { name: 'alice', ip: '198.51.100.200' };

/** The host the service protects. */
const HOST = {
  own: ['192.0.2.10', '2001:db8:1::10'],
  gateways: ['192.0.2.1'],
  dnsServers: ['198.51.100.53'],
};
const API_PORT = 8443;

interface Harness {
  store: Store;
  backend: DryRunFirewall;
  service: FirewallService;
  sessions: AdminSessions;
  lines: string[];
  clock: { now: number };
}

const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

function firewallConfig(input: ServiceConfigInput['firewall'] = {}): FirewallConfig {
  return serviceConfigSchema.shape.firewall.parse({ allowList: ['10.20.0.0/16'], ...input });
}

/** A service on `store` (a new in-memory one when absent), reconciled once as `start()` would. */
async function harness(
  config: ServiceConfigInput['firewall'] = {},
  shared?: Pick<Harness, 'store' | 'clock'>,
): Promise<Harness> {
  const clock = shared?.clock ?? { now: T0 };
  const now = (): number => clock.now;
  let store = shared?.store;
  if (!store) {
    store = await openStore(':memory:', { now });
    stores.push(store);
  }
  const open = store;
  const backend = new DryRunFirewall({ now });
  const sessions = new AdminSessions(HOUR, now);
  const lines: string[] = [];
  const log = (level: string) => (obj: object, msg: string) => lines.push(`${level}: ${msg}`);
  const service = new FirewallService({
    backend,
    rules: () => open.firewallRules,
    settings: () => open.settings,
    audit: (event) => open.audit.append(event),
    config: firewallConfig(config),
    apiPort: () => API_PORT,
    adminSessions: sessions,
    host: () => HOST,
    log: { info: log('info'), warn: log('warn'), error: log('error') },
    now,
  });
  await service.reconcile();
  return { store: open, backend, service, sessions, lines, clock };
}

async function auditOf(store: Store, action: string): Promise<AuditEvent[]> {
  return (await store.audit.list({ action, limit: 1000 })).items;
}

/** An alert as the detectors raise it: a port scan by `src`, high severity unless overridden. */
function alert(id: string, src: string | null, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    type: 'port_scan',
    severity: 'high',
    src,
    dst: '192.0.2.10',
    start: T0 * 1000 - 5_000_000,
    end: T0 * 1000,
    counters: { ports: 120 },
    summary: `${src ?? 'someone'} probed 120 ports of 192.0.2.10`,
    evidence: {
      thresholds: [{ metric: 'ports', value: 120, threshold: 20 }],
      sampleFlows: [],
      topSources: [],
    },
    updates: 1,
    ...overrides,
  };
}

/** What the backend enforces now, in the form `stateOf` writes. */
async function enforced(h: Harness): Promise<ReturnType<typeof stateOf>> {
  const state = await h.backend.read();
  if (state === null) throw new Error('the backend was never set up');
  return state;
}

describe('FirewallService rules', () => {
  it('adds a block the backend enforces, lists it, and lifts it, each audited before and after', async () => {
    const h = await harness();
    const rule = await h.service.addRule(
      { kind: 'block', source: '203.0.113.7', comment: 'scanner', expiresAt: T0 + HOUR },
      ALICE,
    );
    expect(rule).toMatchObject({
      kind: 'block',
      source: '203.0.113.7',
      comment: 'scanner',
      createdBy: 'alice',
      createdAt: T0,
      expiresAt: T0 + HOUR,
      removedAt: null,
    });
    expect(await h.service.active()).toEqual([rule]);
    expect((await enforced(h)).blocked).toEqual([{ address: '203.0.113.7', expiresAt: T0 + HOUR }]);

    h.clock.now += 1000;
    const lifted = await h.service.removeRule(rule.id, ALICE);
    expect(lifted).toMatchObject({ id: rule.id, removedAt: T0 + 1000, removedBy: 'alice' });
    expect(await h.service.active()).toEqual([]);
    expect((await enforced(h)).blocked).toEqual([]);

    const [added] = await auditOf(h.store, 'firewall.rule.add');
    expect(added).toMatchObject({
      actor: 'alice',
      actorIp: '198.51.100.200',
      target: String(rule.id),
      before: null,
      after: rule,
      outcome: 'ok',
    });
    const [removed] = await auditOf(h.store, 'firewall.rule.remove');
    expect(removed).toMatchObject({ target: String(rule.id), before: rule, after: lifted, outcome: 'ok' });
    await expect(h.service.removeRule(rule.id, ALICE)).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
    await expect(h.service.removeRule(9999, ALICE)).rejects.toMatchObject({ code: ErrorCode.NOT_FOUND });
  });

  it('refuses to block loopback, the host, its gateway and DNS, an admin and what is allowed, saying why', async () => {
    const h = await harness();
    h.sessions.saw('203.0.113.77', 'bob');
    await h.service.addRule({ kind: 'allow', source: '198.51.100.128/25', comment: 'partners' }, ALICE);
    const cases: [string, RegExp][] = [
      ['127.0.0.1', /loopback/],
      ['::1', /loopback/],
      ['192.0.2.10', /192\.0\.2\.10, an address of this host/],
      ['2001:db8:1::/48', /an address of this host/],
      ['192.0.2.1', /default gateway/],
      ['198.51.100.53', /DNS server/],
      ['203.0.113.77', /where a logged-in admin is connected from/],
      ['203.0.113.0/24', /203\.0\.113\.77, where a logged-in admin/],
      ['10.20.3.4', /10\.20\.0\.0\/16 on the allow-list/],
      ['198.51.100.130', /198\.51\.100\.128\/25 on the allow-list/],
    ];
    for (const [source, reason] of cases) {
      const refused = h.service.addRule({ kind: 'block', source }, ALICE);
      await expect(refused, source).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
      await expect(refused, source).rejects.toThrow(reason);
    }
    expect((await h.service.active()).map((r) => r.kind)).toEqual(['allow']);
    expect((await enforced(h)).blocked).toEqual([]);
    // The refusals are audited as denied (without waiting for the audit log: it follows).
    await vi.waitFor(async () =>
      expect(
        (await auditOf(h.store, 'firewall.rule.add')).filter((e) => e.outcome === 'denied'),
      ).toHaveLength(cases.length),
    );
  });

  it('refuses a narrower block inside one in force, and a wider one replaces the narrower', async () => {
    const h = await harness();
    const wide = await h.service.addRule({ kind: 'block', source: '203.0.113.0/24' }, ALICE);
    for (const source of ['203.0.113.9', '203.0.113.0/25', '203.0.113.0/24']) {
      await expect(h.service.addRule({ kind: 'block', source }, ALICE), source).rejects.toMatchObject({
        code: ErrorCode.CONFLICT,
        message: expect.stringContaining(`already blocked by rule ${wide.id}`) as string,
      });
    }
    await h.service.removeRule(wide.id, ALICE);

    const one = await h.service.addRule({ kind: 'block', source: '198.51.100.7' }, ALICE);
    const two = await h.service.addRule({ kind: 'block', source: '198.51.100.9' }, ALICE);
    const other = await h.service.addRule({ kind: 'block', source: '203.0.113.5' }, ALICE);
    const wider = await h.service.addRule({ kind: 'block', source: '198.51.100.0/28' }, ALICE);
    expect((await h.service.active()).map((r) => r.id)).toEqual([other.id, wider.id]);
    for (const narrow of [one, two]) {
      expect(await h.store.firewallRules.findById(narrow.id)).toMatchObject({
        removedAt: T0,
        removedBy: `alice (rule ${wider.id})`,
      });
    }
    // The kernel holds exactly what the database says: the replaced blocks are gone from it.
    expect(await enforced(h)).toEqual(stateOf(await h.service.active()));
    expect(await h.service.reconcile()).toMatchObject({ missing: [], stale: [] });
  });

  it('lifts the blocks an allow rule covers', async () => {
    const h = await harness();
    await h.service.addRule({ kind: 'block', source: '203.0.113.0/24' }, ALICE);
    await h.service.addRule({ kind: 'block', source: '198.51.100.7' }, ALICE);
    const allow = await h.service.addRule({ kind: 'allow', source: '203.0.113.20' }, ALICE);
    expect((await h.service.active()).map((r) => r.source)).toEqual(['198.51.100.7', '203.0.113.20']);
    expect((await enforced(h)).blocked.map((b) => b.address)).toEqual(['198.51.100.7']);
    const lifted = (await auditOf(h.store, 'firewall.rule.remove'))[0];
    expect(lifted?.after).toMatchObject({ source: '203.0.113.0/24', removedBy: `alice (rule ${allow.id})` });
    await expect(h.service.addRule({ kind: 'block', source: '203.0.113.0/24' }, ALICE)).rejects.toThrow(
      /203\.0\.113\.20 on the allow-list/,
    );
  });

  it('lifting a block on any interface keeps the same source blocked on one interface', async () => {
    const h = await harness();
    const everywhere = await h.service.addRule({ kind: 'block', source: '203.0.113.5' }, ALICE);
    await h.service.addRule({ kind: 'block', source: '203.0.113.5', interface: 'eth1' }, ALICE);
    expect(await h.service.reconcile()).toMatchObject({ missing: [], stale: [] });
    await h.service.removeRule(everywhere.id, ALICE);
    expect((await enforced(h)).blocked).toEqual([
      { address: '203.0.113.5', expiresAt: null, interface: 'eth1' },
    ]);
  });

  it('never closes ssh or the API port, and an open rule lifts a close', async () => {
    const h = await harness();
    for (const [port, reason] of [
      [22, /22\/tcp is how admins reach this host/],
      [API_PORT, /8443\/tcp is how admins reach this host/],
    ] as const) {
      const refused = h.service.addRule({ kind: 'close', protocol: 'tcp', port }, ALICE);
      await expect(refused).rejects.toMatchObject({ code: ErrorCode.CONFLICT });
      await expect(refused).rejects.toThrow(reason);
    }
    // The same numbers over UDP are no way in for an admin.
    await h.service.addRule({ kind: 'close', protocol: 'udp', port: 22 }, ALICE);
    const telnet = await h.service.addRule({ kind: 'close', protocol: 'tcp', port: 23 }, ALICE);
    expect((await enforced(h)).closedPorts).toEqual([
      { protocol: 'udp', port: 22 },
      { protocol: 'tcp', port: 23 },
    ]);
    await expect(
      h.service.addRule({ kind: 'close', protocol: 'tcp', port: 23 }, ALICE),
    ).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });

    const open = await h.service.addRule({ kind: 'open', protocol: 'tcp', port: 23 }, ALICE);
    expect(await h.store.firewallRules.findById(telnet.id)).toMatchObject({
      removedBy: `alice (rule ${open.id})`,
    });
    expect((await enforced(h)).closedPorts).toEqual([{ protocol: 'udp', port: 22 }]);
    await expect(h.service.addRule({ kind: 'close', protocol: 'tcp', port: 23 }, ALICE)).rejects.toThrow(
      `rule ${open.id} keeps 23/tcp open`,
    );
  });

  it('refuses malformed rules with BAD_REQUEST', async () => {
    const h = await harness();
    for (const input of [
      { kind: 'block', source: 'evil.example' },
      { kind: 'block', source: '10.0.0.1/24' },
      { kind: 'block' },
      { kind: 'block', source: '203.0.113.5', port: 22 },
      { kind: 'close', port: 23 },
      { kind: 'close', protocol: 'tcp', port: 70_000 },
      { kind: 'close', protocol: 'tcp', port: 23, source: '203.0.113.5' },
      { kind: 'block', source: '203.0.113.5', interface: 'eth0; nft flush ruleset' },
      // nftables reads a name starting with @ as a set's.
      { kind: 'block', source: '203.0.113.5', interface: '@blocked' },
      { kind: 'block', source: '203.0.113.5', comment: 'x'.repeat(201) },
      { kind: 'block', source: '203.0.113.5', expiresAt: T0 - 1 },
    ] as const) {
      await expect(h.service.addRule(input, ALICE), JSON.stringify(input)).rejects.toMatchObject({
        code: ErrorCode.BAD_REQUEST,
      });
    }
    expect(await h.store.firewallRules.history(10)).toEqual([]);
  });

  it('changes a rule’s comment and expiry, and the backend follows the expiry', async () => {
    const h = await harness();
    const rule = await h.service.addRule({ kind: 'block', source: '203.0.113.5' }, ALICE);
    const changed = await h.service.updateRule(
      rule.id,
      { comment: 'until Monday', expiresAt: T0 + HOUR },
      ALICE,
    );
    expect(changed).toMatchObject({ comment: 'until Monday', expiresAt: T0 + HOUR });
    expect((await enforced(h)).blocked).toEqual([{ address: '203.0.113.5', expiresAt: T0 + HOUR }]);
    expect((await auditOf(h.store, 'firewall.rule.update'))[0]).toMatchObject({
      before: rule,
      after: changed,
    });
    await expect(h.service.updateRule(rule.id, { expiresAt: T0 - 1 }, ALICE)).rejects.toMatchObject({
      code: ErrorCode.BAD_REQUEST,
    });
  });
});

describe('FirewallService expiry and reconciliation', () => {
  it('marks rules expired at their time on tick, audits it, and the backend drops them', async () => {
    const h = await harness();
    const block = await h.service.addRule(
      { kind: 'block', source: '203.0.113.5', expiresAt: T0 + MINUTE },
      ALICE,
    );
    const close = await h.service.addRule(
      { kind: 'close', protocol: 'tcp', port: 23, expiresAt: T0 + 2 * MINUTE },
      ALICE,
    );
    h.clock.now = T0 + MINUTE + 400;
    await h.service.tick();
    expect(await h.store.firewallRules.findById(block.id)).toMatchObject({
      removedAt: T0 + MINUTE,
      removedBy: 'expired',
    });
    expect(await enforced(h)).toEqual({ blocked: [], closedPorts: [{ protocol: 'tcp', port: 23 }] });
    const [expiry] = await auditOf(h.store, 'firewall.rule.expire');
    expect(expiry).toMatchObject({
      actor: 'flowtrack',
      target: String(block.id),
      before: { ...block, removedAt: null },
      after: { id: block.id, removedAt: T0 + MINUTE, removedBy: 'expired' },
    });

    h.clock.now = T0 + 2 * MINUTE + 400;
    await h.service.tick();
    expect(await h.store.firewallRules.findById(close.id)).toMatchObject({ removedBy: 'expired' });
    expect(await enforced(h)).toEqual({ blocked: [], closedPorts: [] });
    expect(await auditOf(h.store, 'firewall.rule.expire')).toHaveLength(2);
  });

  it('finds entries changed behind its back, reports them, and makes the backend equal the database', async () => {
    const h = await harness();
    await h.service.addRule({ kind: 'block', source: '198.51.100.7' }, ALICE);
    await h.service.addRule({ kind: 'block', source: '2001:db8:9::/64', expiresAt: T0 + HOUR }, ALICE);
    await h.service.addRule({ kind: 'close', protocol: 'tcp', port: 23 }, ALICE);
    // Someone else's hand on FlowTrack's own sets.
    await h.backend.block([{ address: '203.0.113.99', expiresAt: null }]);
    await h.backend.unblock(['198.51.100.7']);

    const report = await h.service.reconcile();
    expect(report).toEqual({ at: T0, missing: ['block 198.51.100.7'], stale: ['block 203.0.113.99'] });
    expect(await enforced(h)).toEqual(stateOf(await h.service.active()));
    expect(h.service.status().lastReconcile).toEqual(report);
    expect((await auditOf(h.store, 'firewall.reconcile'))[0]).toMatchObject({
      before: { stale: { count: 1, first: ['block 203.0.113.99'] } },
      after: { missing: { count: 1, first: ['block 198.51.100.7'] } },
    });
    expect(h.lines).toContain('warn: firewall reconciled with the database');
    expect(await h.service.reconcile()).toMatchObject({ missing: [], stale: [] });
    expect(await auditOf(h.store, 'firewall.reconcile')).toHaveLength(1);
  });

  it('sets up a fresh dry run at start with no news: nothing reported as missing, nothing audited', async () => {
    const h = await harness();
    await h.service.addRule({ kind: 'block', source: '198.51.100.7' }, ALICE);
    const restarted = await harness({}, h);
    expect(restarted.service.status().lastReconcile).toMatchObject({ missing: [], stale: [] });
    expect((await enforced(restarted)).blocked.map((b) => b.address)).toEqual(['198.51.100.7']);
    expect(await auditOf(h.store, 'firewall.reconcile')).toEqual([]);
  });

  it('stops enforcing a block that has become unsafe (an admin now signs in from it), keeping its rule', async () => {
    const h = await harness();
    const rule = await h.service.addRule({ kind: 'block', source: '203.0.113.0/24' }, ALICE);
    h.sessions.saw('203.0.113.44', 'bob');
    const report = await h.service.reconcile();
    expect(report.stale).toEqual(['block 203.0.113.0/24']);
    expect((await enforced(h)).blocked).toEqual([]);
    expect((await h.service.active()).map((r) => r.id)).toEqual([rule.id]);
    expect(h.lines).toContain(
      `warn: rule ${rule.id} is not enforced: 203.0.113.0/24 includes 203.0.113.44, where a logged-in admin is connected from`,
    );
  });
});

describe('FirewallService blocking policy', () => {
  const autoRules = async (h: Harness): Promise<FirewallRule[]> =>
    (await h.store.firewallRules.history(1000)).filter((r) => r.createdBy === 'policy').reverse();

  it('blocks the attacker of an alert of a listed type and enough severity, naming the alert', async () => {
    const h = await harness();
    h.service.onAlert(alert('a-1', '203.0.113.5', { type: 'traffic_anomaly' }));
    h.service.onAlert(alert('a-2', '203.0.113.6', { severity: 'medium' }));
    h.service.onAlert(alert('a-3', null));
    h.service.onAlert(alert('a-4', '203.0.113.8', { severity: 'critical', type: 'syn_flood' }));
    await h.service.reconcile();
    const [rule, ...more] = await autoRules(h);
    expect(more).toEqual([]);
    expect(rule).toMatchObject({
      kind: 'block',
      source: '203.0.113.8',
      alertId: 'a-4',
      createdBy: 'policy',
      expiresAt: T0 + 10 * MINUTE,
    });
    expect((await enforced(h)).blocked).toEqual([{ address: '203.0.113.8', expiresAt: T0 + 10 * MINUTE }]);
    expect((await auditOf(h.store, 'firewall.block.auto'))[0]).toMatchObject({
      actor: 'policy',
      target: '203.0.113.8',
      after: rule,
      outcome: 'ok',
    });
    expect(h.lines).toContain('warn: blocked 203.0.113.8 automatically for 10m');
    expect(h.service.status().counts).toEqual({ blocked: 1, cappedOut: 0, refused: 0, failed: 0 });
  });

  it('blocks an IPv6 attacker by its /64, once', async () => {
    const h = await harness();
    h.service.onAlert(alert('a-1', '2001:db8:5:6:a:b:c:d'));
    h.service.onAlert(alert('a-2', '2001:db8:5:6::1'));
    await h.service.reconcile();
    expect((await autoRules(h)).map((r) => [r.source, r.alertId])).toEqual([['2001:db8:5:6::/64', 'a-1']]);
  });

  it('refuses to block a protected attacker, and counts and shows the refusal', async () => {
    const h = await harness();
    h.service.onAlert(alert('a-1', '192.0.2.1'));
    await h.service.reconcile();
    expect(await autoRules(h)).toEqual([]);
    const { counts, recentRefusals } = h.service.status();
    expect(counts.refused).toBe(1);
    expect(recentRefusals).toEqual([
      {
        at: T0,
        address: '192.0.2.1',
        alertId: 'a-1',
        reason: expect.stringMatching(/default gateway/) as string,
      },
    ]);
    await vi.waitFor(async () =>
      expect((await auditOf(h.store, 'firewall.block.auto'))[0]).toMatchObject({ outcome: 'denied' }),
    );
  });

  it('blocks a repeat offender for longer each time: 10 min, 1 h, 24 h, then for good', async () => {
    const h = await harness();
    const lengths: (number | null)[] = [];
    for (const [i, expected] of [10 * MINUTE, HOUR, 24 * HOUR, null].entries()) {
      h.service.onAlert(alert(`scan-${i}`, '203.0.113.5', { end: h.clock.now * 1000 }));
      await h.service.reconcile();
      const rule = (await autoRules(h))[i]!;
      lengths.push(rule.expiresAt === null ? null : rule.expiresAt - rule.createdAt);
      expect(lengths[i]).toBe(expected);
      if (rule.expiresAt !== null) {
        // Still blocked: another alert changes nothing.
        h.service.onAlert(alert(`scan-${i}-again`, '203.0.113.5', { end: h.clock.now * 1000 }));
        await h.service.reconcile();
        expect(await autoRules(h)).toHaveLength(i + 1);
        h.clock.now = rule.expiresAt + 1000;
        await h.service.tick();
      }
    }
    expect(lengths).toEqual([10 * MINUTE, HOUR, 24 * HOUR, null]);
    expect((await enforced(h)).blocked).toEqual([{ address: '203.0.113.5', expiresAt: null }]);
  });

  it('blocks an attack that goes on past its block again, for longer, under the same alert', async () => {
    const h = await harness();
    h.service.onAlert(alert('scan', '203.0.113.5'));
    await h.service.reconcile();
    h.clock.now += 10 * MINUTE + 1000;
    await h.service.tick();
    // An update whose packets all came before the block ended (a detector's window still
    // counting them) is no new attack.
    h.service.onAlert(alert('scan', '203.0.113.5', { updates: 39 }));
    await h.service.reconcile();
    expect(await autoRules(h)).toHaveLength(1);
    h.service.onAlert(alert('scan', '203.0.113.5', { updates: 40, end: h.clock.now * 1000 }));
    await h.service.reconcile();
    const rules = await autoRules(h);
    expect(rules.map((r) => [r.alertId, r.expiresAt! - r.createdAt])).toEqual([
      ['scan', 10 * MINUTE],
      ['scan', HOUR],
    ]);
  });

  it('makes at most maxPerMinute blocks a minute and counts the rest', async () => {
    const h = await harness({ autoBlock: { maxPerMinute: 5 } });
    for (let i = 0; i < 100; i++) h.service.onAlert(alert(`flood-${i}`, `100.64.${i}.1`));
    await h.service.reconcile();
    expect(await autoRules(h)).toHaveLength(5);
    expect(h.service.status()).toMatchObject({
      autoBlock: { enabled: true, blocksLastMinute: 5, maxPerMinute: 5 },
      counts: { blocked: 5, cappedOut: 95 },
    });
    expect(h.lines.filter((l) => l.includes('per-minute cap'))).toHaveLength(1);

    // A minute on, a new attacker is blocked, and so is one held back whose alert goes on.
    h.clock.now += MINUTE;
    h.service.onAlert(alert('late', '100.64.200.1'));
    h.service.onAlert(alert('flood-99', '100.64.99.1', { updates: 2 }));
    await h.service.reconcile();
    expect((await autoRules(h)).map((r) => r.source).slice(5)).toEqual(['100.64.200.1', '100.64.99.1']);
    expect(h.service.status().counts).toMatchObject({ blocked: 7, cappedOut: 95 });
  });

  it('stops blocking when switched off, audited and kept for the next start', async () => {
    const h = await harness();
    await h.service.setAutoBlock(false, ALICE);
    expect(h.service.autoBlockEnabled).toBe(false);
    h.service.onAlert(alert('a-1', '203.0.113.5'));
    await h.service.reconcile();
    expect(await autoRules(h)).toEqual([]);
    expect((await auditOf(h.store, 'firewall.autoblock'))[0]).toMatchObject({
      actor: 'alice',
      before: { enabled: true },
      after: { enabled: false },
    });

    // A new service on the same database (a restart) reads the switch when it reconciles.
    const again = await harness({}, h);
    expect(again.service.autoBlockEnabled).toBe(false);
    again.service.onAlert(alert('a-2', '203.0.113.5'));
    await again.service.reconcile();
    expect(await autoRules(h)).toEqual([]);

    await again.service.setAutoBlock(true, ALICE);
    again.service.onAlert(alert('a-3', '203.0.113.5'));
    await again.service.reconcile();
    expect((await autoRules(h)).map((r) => r.alertId)).toEqual(['a-3']);
  });
});

describe('FirewallService for the dashboard', () => {
  it('keeps the alert an admin’s rule answers, in the rule and its audit entry', async () => {
    const h = await harness();
    const rule = await h.service.addRule(
      { kind: 'block', source: '203.0.113.7', alertId: 'port_scan-9' },
      ALICE,
    );
    expect(rule).toMatchObject({ source: '203.0.113.7', alertId: 'port_scan-9', createdBy: 'alice' });
    expect((await auditOf(h.store, 'firewall.rule.add'))[0]).toMatchObject({
      after: { alertId: 'port_scan-9' },
      outcome: 'ok',
    });
    const plain = await h.service.addRule({ kind: 'block', source: '203.0.113.8' }, ALICE);
    expect(plain.alertId).toBeNull();
  });

  it('shows the configured policy, the API’s own port among the protected ones', async () => {
    const h = await harness({
      protectedPorts: ['22/tcp', `${API_PORT}/tcp`],
      autoBlock: { durations: ['1h'] },
    });
    expect(h.service.policy()).toEqual({
      configuredBackend: 'auto',
      allowList: ['10.20.0.0/16'],
      protectedPorts: ['22/tcp', `${API_PORT}/tcp`],
      autoBlock: {
        alertTypes: firewallConfig().autoBlock.alertTypes,
        minSeverity: 'high',
        minSeverityByType: { connection_flood: 'low' },
        durations: ['1h'],
        forgetAfter: '30d',
        ipv6PrefixLength: 64,
        maxPerMinute: 60,
      },
    });
  });
});
