/**
 * The store's conformance suite for issue 10's tables, run on SQLite (src/store/store.test.ts)
 * and PostgreSQL (test/store-postgres.test.ts): alerts through their life and in groups,
 * suppression rules, notification channels and the delivery queue, incidents with their links
 * and timelines, and migration 0008 over a store that already has alerts.
 */

import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateStore } from '../../src/store/migrate-store.js';
import { runRetention } from '../../src/store/retention.js';
import type { Store } from '../../src/store/store.js';
import type { Notification } from '../../src/alerts/notify/notifier.js';
import { alert, BASE_MS, undoAlertLifecycleMigration } from './store-suite.js';

function notification(id: string, alertId?: string): Notification {
  return {
    id,
    kind: alertId === undefined ? 'test' : 'alert',
    title: `title of ${id}`,
    text: 'text',
    at: BASE_MS,
    host: 'sensor-1',
    ...(alertId !== undefined && { alert: alert(alertId) }),
  };
}

export function runAlertLifecycleSuite(label: string, make: () => Promise<Store>): void {
  describe(`store conformance, alert lifecycle: ${label}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await store.close();
    });

    it('acknowledge, assign, comment, resolve and reopen, each with its history entry', async () => {
      await store.alerts.upsertAlerts([alert('a-1')], BASE_MS);
      await store.alerts.acknowledge('a-1', 'alice', BASE_MS + 1, 'looking at it');
      await store.alerts.assign('a-1', 'bob', 'alice', BASE_MS + 2);
      await store.alerts.comment('a-1', 'it is the backup host', 'bob', BASE_MS + 3);
      const resolved = await store.alerts.resolve('a-1', 'bob', BASE_MS + 4);
      expect(resolved).toMatchObject({
        status: 'resolved',
        acknowledgedBy: 'alice',
        resolvedBy: 'bob',
        resolvedAt: BASE_MS + 4,
        assignee: 'bob',
        group: 'src:203.0.113.5',
      });
      // Acknowledging a resolved alert needs a reopen first.
      await expect(store.alerts.acknowledge('a-1', 'alice', BASE_MS + 5)).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      const reopened = await store.alerts.reopen('a-1', 'carol', BASE_MS + 6, 'it came back');
      expect(reopened).toMatchObject({
        status: 'open',
        acknowledgedBy: null,
        resolvedBy: null,
        assignee: 'bob',
      });
      await expect(store.alerts.reopen('a-1', 'carol', BASE_MS + 7)).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      // Done twice, a change is recorded once.
      await store.alerts.assign('a-1', 'bob', 'alice', BASE_MS + 8);
      await store.alerts.assign('a-1', null, 'alice', BASE_MS + 9);
      const history = await store.alerts.events('a-1');
      expect(history.map((e) => [e.kind, e.actor, e.text, e.tsMs])).toEqual([
        ['acknowledged', 'alice', 'looking at it', BASE_MS + 1],
        ['assigned', 'alice', 'bob', BASE_MS + 2],
        ['commented', 'bob', 'it is the backup host', BASE_MS + 3],
        ['resolved', 'bob', null, BASE_MS + 4],
        ['reopened', 'carol', 'it came back', BASE_MS + 6],
        ['assigned', 'alice', null, BASE_MS + 9],
      ]);
      // The pipeline's next update keeps all of it.
      await store.alerts.upsertAlerts([alert('a-1', { updates: 9 })], BASE_MS + 10);
      expect(await store.alerts.findById('a-1')).toMatchObject({
        status: 'open',
        updates: 9,
        assignee: null,
      });
      await expect(store.alerts.comment('nope', 'x', 'bob', BASE_MS)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('group alerts by attacker, or by victim when there are many sources, and filter by group, assignee and muting', async () => {
      await store.alerts.upsertAlerts(
        [
          alert('scan-1', { severity: 'medium' }),
          alert('brute-2', { type: 'brute_force', severity: 'high', end: alert('x').end + 9_000_000 }),
          alert('ddos-3', {
            type: 'ddos',
            src: null,
            dst: '192.0.2.80',
            severity: 'critical',
            suppressedBy: 7,
          }),
          alert('res-4', {
            type: 'resource',
            src: null,
            dst: null,
            severity: 'low',
            detectedSeverity: 'medium',
          }),
        ],
        BASE_MS,
      );
      await store.alerts.acknowledge('scan-1', 'alice', BASE_MS + 1);
      await store.alerts.assign('brute-2', 'bob', 'alice', BASE_MS + 1);
      const groups = await store.alerts.groups({}, 10);
      expect(groups.find((g) => g.group === 'src:203.0.113.5')).toMatchObject({
        count: 2,
        open: 1,
        types: ['brute_force', 'port_scan'],
        severity: 'high',
      });
      expect(groups.map((g) => g.group).sort()).toEqual([
        'dst:192.0.2.80',
        'src:203.0.113.5',
        'type:resource',
      ]);
      expect((await store.alerts.groups({ suppressed: false }, 10)).map((g) => g.group)).not.toContain(
        'dst:192.0.2.80',
      );
      const ids = async (filter: Parameters<Store['alerts']['listAlerts']>[0]) =>
        (await store.alerts.listAlerts(filter)).items.map((a) => a.id).sort();
      expect(await ids({ group: 'src:203.0.113.5' })).toEqual(['brute-2', 'scan-1']);
      expect(await ids({ assignee: 'bob' })).toEqual(['brute-2']);
      expect(await ids({ suppressed: true })).toEqual(['ddos-3']);
      expect(await ids({ suppressed: false })).toEqual(['brute-2', 'res-4', 'scan-1']);
      expect(await store.alerts.findById('res-4')).toMatchObject({
        severity: 'low',
        detectedSeverity: 'medium',
      });
      expect(await store.alerts.findById('ddos-3')).toMatchObject({ suppressedBy: 7 });
      expect(await store.alerts.idsInGroup('src:203.0.113.5', ['open'])).toEqual(['brute-2']);
    });

    it('keep suppression rules, the ended ones marked', async () => {
      const rule = await store.suppressions.create(
        {
          type: 'port_scan',
          src: '10.0.0.0/8',
          dst: null,
          reason: 'lab scanner',
          expiresAt: BASE_MS + 60_000,
        },
        'alice',
        BASE_MS,
      );
      await store.suppressions.create(
        { type: null, src: null, dst: '192.0.2.1', reason: 'old', expiresAt: BASE_MS + 10 },
        'alice',
        BASE_MS,
      );
      expect((await store.suppressions.active(BASE_MS + 100)).map((r) => r.id)).toEqual([rule.id]);
      const removed = await store.suppressions.remove(rule.id, 'bob', BASE_MS + 200);
      expect(removed).toMatchObject({ removedBy: 'bob', removedAt: BASE_MS + 200, reason: 'lab scanner' });
      expect(await store.suppressions.active(BASE_MS + 300)).toEqual([]);
      expect((await store.suppressions.list()).length).toBe(2);
      await expect(store.suppressions.remove(rule.id, 'bob', BASE_MS)).rejects.toMatchObject({
        code: 'CONFLICT',
      });
      await expect(store.suppressions.remove(999, 'bob', BASE_MS)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('keep channels with unique names, and deliveries as a queue and a log', async () => {
      const input = {
        name: 'ops mail',
        kind: 'email' as const,
        enabled: true,
        minSeverity: 'high',
        types: ['syn_flood'],
        maxPerWindow: 5,
        windowMinutes: 10,
        settings: { host: 'smtp.example.net', password: 'secret' },
      };
      const channel = await store.channels.create(input, 'ada', BASE_MS);
      expect(channel).toMatchObject({ ...input, createdBy: 'ada', updatedAt: BASE_MS });
      await expect(store.channels.create(input, 'ada', BASE_MS)).rejects.toMatchObject({ code: 'CONFLICT' });
      const updated = await store.channels.update(
        channel.id,
        { ...input, enabled: false },
        'bob',
        BASE_MS + 1,
      );
      expect(updated).toMatchObject({ enabled: false, updatedBy: 'bob', createdBy: 'ada' });

      const q = store.deliveries;
      const first = await q.enqueue(channel.id, notification('n-1', 'a-1'), BASE_MS);
      const second = await q.enqueue(channel.id, notification('n-2'), BASE_MS + 1);
      expect((await q.due(BASE_MS + 1, 10)).map((d) => [d.id, d.notification.id, d.attempts])).toEqual([
        [first, 'n-1', 0],
        [second, 'n-2', 0],
      ]);
      expect((await q.due(BASE_MS + 1, 10))[0]?.notification.alert?.id).toBe('a-1');
      await q.markRetry(first, 1, BASE_MS + 5_000, 'connection refused');
      await q.markSent(second, 1, BASE_MS + 2);
      expect((await q.due(BASE_MS + 4_999, 10)).map((d) => d.id)).toEqual([]);
      expect((await q.due(BASE_MS + 5_000, 10)).map((d) => [d.id, d.attempts])).toEqual([[first, 1]]);
      await q.markFailed(first, 2, 'gave up', BASE_MS + 6_000);
      expect(await q.counts(channel.id)).toEqual({ pending: 0, sent: 1, failed: 1 });
      const log = await q.list({ limit: 1 });
      expect(log.items.map((d) => [d.id, d.status, d.sentAt])).toEqual([[second, 'sent', BASE_MS + 2]]);
      const rest = await q.list({ limit: 1, cursor: log.nextCursor });
      expect(rest.items.map((d) => [d.id, d.status, d.lastError, d.alertId])).toEqual([
        [first, 'failed', 'gave up', 'a-1'],
      ]);
      expect((await q.list({ alertId: 'a-1' })).items.map((d) => d.id)).toEqual([first]);
      // Deleting the channel keeps its log.
      await store.channels.delete(channel.id);
      expect(await store.channels.list()).toEqual([]);
      expect((await q.list({ channelId: channel.id })).items.length).toBe(2);
    });

    it('follow an incident: status, edits, comments and links, each on its timeline', async () => {
      await store.alerts.upsertAlerts([alert('a-1')], BASE_MS);
      const incident = await store.incidents.create(
        { title: 'Scan of the DMZ', description: 'seen at 9', severity: 'high', hosts: ['192.0.2.7'] },
        'alice',
        BASE_MS,
      );
      expect(incident).toMatchObject({
        status: 'open',
        hosts: ['192.0.2.7'],
        createdBy: 'alice',
        closedAt: null,
      });
      await store.incidents.link(
        incident.id,
        { kind: 'alert', ref: 'a-1', note: 'the scan' },
        'alice',
        BASE_MS + 1,
      );
      await expect(
        store.incidents.link(incident.id, { kind: 'alert', ref: 'a-1', note: null }, 'alice', BASE_MS + 1),
      ).rejects.toMatchObject({ code: 'CONFLICT' });
      const flow = await store.incidents.link(
        incident.id,
        { kind: 'flow', ref: '42', note: null },
        'bob',
        BASE_MS + 2,
      );
      await store.incidents.comment(incident.id, 'blocked at the edge', 'bob', BASE_MS + 3);
      const { after } = await store.incidents.update(
        incident.id,
        { status: 'contained', severity: 'critical', assignee: 'bob' },
        'bob',
        BASE_MS + 4,
      );
      expect(after).toMatchObject({
        status: 'contained',
        severity: 'critical',
        assignee: 'bob',
        updatedAt: BASE_MS + 4,
      });
      const unchanged = await store.incidents.update(
        incident.id,
        { status: 'contained' },
        'bob',
        BASE_MS + 5,
      );
      expect(unchanged.after).toBe(unchanged.before);
      const closed = await store.incidents.update(incident.id, { status: 'closed' }, 'carol', BASE_MS + 6);
      expect(closed.after.closedAt).toBe(BASE_MS + 6);
      await store.incidents.unlink(incident.id, flow.id, 'carol', BASE_MS + 7);
      await expect(store.incidents.unlink(incident.id, flow.id, 'carol', BASE_MS + 7)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
      expect((await store.incidents.events(incident.id)).map((e) => [e.kind, e.actor, e.text])).toEqual([
        ['created', 'alice', 'Scan of the DMZ'],
        ['linked', 'alice', 'alert a-1'],
        ['linked', 'bob', 'flow 42'],
        ['commented', 'bob', 'blocked at the edge'],
        ['status', 'bob', 'open → contained'],
        ['edited', 'bob', 'changed severity, assignee'],
        ['status', 'carol', 'contained → closed'],
        ['unlinked', 'carol', 'flow 42'],
      ]);
      expect((await store.incidents.links(incident.id)).map((l) => [l.kind, l.ref, l.note])).toEqual([
        ['alert', 'a-1', 'the scan'],
      ]);
      expect((await store.incidents.linking('alert', 'a-1')).map((i) => i.id)).toEqual([incident.id]);
      const other = await store.incidents.create(
        { title: 'Printer down', description: '', severity: 'low', hosts: [] },
        'alice',
        BASE_MS + 8,
      );
      expect((await store.incidents.list({ active: true })).items.map((i) => i.id)).toEqual([other.id]);
      const page = await store.incidents.list({ limit: 1 });
      const next = await store.incidents.list({ limit: 1, cursor: page.nextCursor });
      expect([...page.items, ...next.items].map((i) => i.id)).toEqual([other.id, incident.id]);
      await expect(store.incidents.update(999, { status: 'closed' }, 'x', BASE_MS)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('retention keeps an old alert an incident links, and deletes the others with their history and old notifications', async () => {
      const DAY_MS = 86_400_000;
      const now = BASE_MS + 30 * DAY_MS;
      await store.alerts.upsertAlerts(
        [alert('old-linked'), alert('old-alone'), alert('new', { end: now * 1000 })],
        BASE_MS,
      );
      await store.alerts.comment('old-alone', 'seen', 'bob', BASE_MS);
      await store.alerts.comment('old-linked', 'seen', 'bob', BASE_MS);
      const incident = await store.incidents.create(
        { title: 'kept', description: '', severity: 'low', hosts: [] },
        'bob',
        BASE_MS,
      );
      await store.incidents.link(
        incident.id,
        { kind: 'alert', ref: 'old-linked', note: null },
        'bob',
        BASE_MS,
      );
      const channel = await store.channels.create(
        {
          name: 'c',
          kind: 'syslog',
          enabled: true,
          minSeverity: 'low',
          types: [],
          maxPerWindow: 1,
          windowMinutes: 1,
          settings: {},
        },
        'ada',
        BASE_MS,
      );
      const sent = await store.deliveries.enqueue(channel.id, notification('n-sent', 'old-alone'), BASE_MS);
      await store.deliveries.markSent(sent, 1, BASE_MS);
      await store.deliveries.enqueue(channel.id, notification('n-pending'), BASE_MS);
      const result = await runRetention(store, { alertsMaxAgeMs: 7 * DAY_MS }, now);
      expect(result).toMatchObject({ alerts: 1, alertEvents: 1, deliveries: 1 });
      expect(await store.alerts.findById('old-alone')).toBeNull();
      expect((await store.alerts.events('old-linked')).map((e) => e.text)).toEqual(['seen']);
      expect((await store.deliveries.list()).items.map((d) => d.notificationId)).toEqual(['n-pending']);
    });

    it('migration 0008 puts the alerts a store already has into their groups', async () => {
      await store.alerts.upsertAlerts(
        [alert('a-1'), alert('d-2', { type: 'ddos', src: null, dst: '192.0.2.80' })],
        BASE_MS,
      );
      await undoAlertLifecycleMigration(store);
      expect(await migrateStore(store)).toEqual(['0008-alert-lifecycle', '0009-sensors']);
      expect((await store.alerts.findById('a-1'))?.group).toBe('src:203.0.113.5');
      expect((await store.alerts.findById('d-2'))?.group).toBe('dst:192.0.2.80');
      expect(await store.incidents.list()).toEqual({ items: [], nextCursor: null });
    });
  });
}
