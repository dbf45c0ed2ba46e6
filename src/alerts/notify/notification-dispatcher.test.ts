import { describe, expect, it, vi } from 'vitest';
import type { Alert, Severity } from '../alert.js';
import {
  NotificationDispatcher,
  type ChannelSpec,
  type DeliveryQueue,
  type DeliveryStatus,
  type DispatcherOptions,
  type QueuedDelivery,
} from './notification-dispatcher.js';
import { NotifyError, type Notification, type Notifier } from './notifier.js';

const T0 = Date.UTC(2024, 0, 2, 3, 0, 0);
const MINUTE = 60_000;

// ---- An in-memory DeliveryQueue: the store's table in a few lines ----

interface Row extends QueuedDelivery {
  status: DeliveryStatus;
  error: string | null;
  finishedAt: number | null;
}

class MemoryQueue implements DeliveryQueue {
  readonly rows: Row[] = [];
  enqueueCalls = 0;
  failEnqueue = false;

  enqueue(channelId: number, notification: Notification, now: number): Promise<number> {
    this.enqueueCalls++;
    if (this.failEnqueue) return Promise.reject(new Error('database is locked'));
    const id = this.rows.length + 1;
    this.rows.push({
      id,
      channelId,
      notification,
      attempts: 0,
      nextAttemptAt: now,
      createdAt: now,
      status: 'pending',
      error: null,
      finishedAt: null,
    });
    return Promise.resolve(id);
  }

  due(now: number, limit: number): Promise<QueuedDelivery[]> {
    return Promise.resolve(
      this.rows
        .filter((r) => r.status === 'pending' && r.nextAttemptAt <= now)
        .slice(0, limit)
        .map((r) => ({
          id: r.id,
          channelId: r.channelId,
          notification: r.notification,
          attempts: r.attempts,
          nextAttemptAt: r.nextAttemptAt,
          createdAt: r.createdAt,
        })),
    );
  }

  markSent(id: number, attempts: number, now: number): Promise<void> {
    Object.assign(this.pending(id), { status: 'sent', attempts, finishedAt: now });
    return Promise.resolve();
  }

  markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    Object.assign(this.pending(id), { attempts, nextAttemptAt, error });
    return Promise.resolve();
  }

  markFailed(id: number, attempts: number, error: string, now: number): Promise<void> {
    Object.assign(this.pending(id), { status: 'failed', attempts, error, finishedAt: now });
    return Promise.resolve();
  }

  /** A delivery is only ever settled once: a second mark is a double send. */
  private pending(id: number): Row {
    const row = this.rows.find((r) => r.id === id);
    if (row?.status !== 'pending') throw new Error(`delivery ${id} is not pending`);
    return row;
  }

  byStatus(): Record<DeliveryStatus, number> {
    const counts = { pending: 0, sent: 0, failed: 0 };
    for (const row of this.rows) counts[row.status]++;
    return counts;
  }
}

// ---- A scripted Notifier (a mock): records every attempt, answers as the test says ----

type Script = (n: Notification, attempt: number, signal?: AbortSignal) => Promise<void>;

const deliver: Script = () => Promise.resolve();

class ScriptedNotifier implements Notifier {
  readonly kind = 'webhook' as const;
  readonly attempts: Notification[] = [];
  readonly delivered: Notification[] = [];
  closed = false;

  constructor(
    readonly channelId: number,
    private readonly script: Script,
  ) {}

  async send(n: Notification, signal?: AbortSignal): Promise<void> {
    this.attempts.push(n);
    await this.script(n, this.attempts.length, signal);
    this.delivered.push(n);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** Fails retryably `times` times, then delivers. */
function failingFirst(times: number): Script {
  return (_n, attempt) =>
    attempt <= times
      ? Promise.reject(new NotifyError('webhook POST http://127.0.0.1:9: HTTP 503', true))
      : Promise.resolve();
}

function channel(id: number, overrides: Partial<ChannelSpec> = {}): ChannelSpec {
  return {
    id,
    name: `channel-${id}`,
    kind: 'webhook',
    enabled: true,
    filter: { minSeverity: 'low', types: [], maxPerWindow: 10, windowMs: 10 * MINUTE },
    version: 1,
    ...overrides,
  };
}

function alert(id: string, severity: Severity = 'high', updates = 1): Alert {
  return {
    id,
    type: 'port_scan',
    severity,
    src: '10.0.0.5',
    dst: '10.0.0.9',
    start: T0 * 1000,
    end: T0 * 1000,
    counters: { ports: updates * 10 },
    summary: `port scan ${id}`,
    evidence: { thresholds: [], sampleFlows: [], topSources: [] },
    updates,
  };
}

interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

function setup(
  channels: ChannelSpec[] = [channel(1)],
  scripts: Record<number, Script> = {},
  options: Partial<DispatcherOptions> = {},
) {
  let clock = T0;
  const queue = new MemoryQueue();
  const notifiers: ScriptedNotifier[] = [];
  const logs: LogLine[] = [];
  const dispatcher = new NotificationDispatcher({
    queue: () => queue,
    notifierFor: (spec) => {
      const notifier = new ScriptedNotifier(spec.id, scripts[spec.id] ?? deliver);
      notifiers.push(notifier);
      return notifier;
    },
    now: () => clock,
    host: 'sensor-1',
    alertLink: (id) => `https://ft.example.net/alerts/${encodeURIComponent(id)}`,
    log: {
      info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
      warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
      error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
    },
    random: () => 0.5,
    ...options,
  });
  dispatcher.setChannels(channels);
  return {
    dispatcher,
    queue,
    notifiers,
    logs,
    /** The latest notifier built for the channel. */
    notifier(channelId: number): ScriptedNotifier {
      const found = notifiers.filter((n) => n.channelId === channelId).at(-1);
      if (!found) throw new Error(`no notifier was built for channel ${channelId}`);
      return found;
    },
    advance(ms: number): void {
      clock += ms;
    },
    setClock(ms: number): void {
      clock = ms;
    },
    now: () => clock,
  };
}

describe('NotificationDispatcher (scripted notifier, a mock)', () => {
  it('sends one notification when an alert is raised', async () => {
    const t = setup();
    t.dispatcher.onAlert({ ...alert('a'), status: 'active' });
    await t.dispatcher.flush();
    expect(t.queue.rows).toHaveLength(1);
    expect(t.queue.rows[0]).toMatchObject({ channelId: 1, status: 'sent', attempts: 1 });
    const [sent] = t.notifier(1).delivered;
    expect(sent).toMatchObject({
      kind: 'alert',
      title: '[HIGH] Port scan from 10.0.0.5 to 10.0.0.9',
      host: 'sensor-1',
      at: T0,
      link: 'https://ft.example.net/alerts/a',
    });
    expect(sent?.id).toMatch(/^alert-a-1-\d+$/);
    expect(sent?.alert?.status).toBe('active');
    expect(t.dispatcher.stats()).toEqual({ enqueued: 1, sent: 1, retried: 0, failed: 0, digests: 0 });
  });

  it('sends nothing more for 9,999 updates of the same alert, and a second notification when it escalates', async () => {
    const t = setup();
    t.dispatcher.onAlert(alert('a'));
    await t.dispatcher.flush();
    for (let update = 2; update <= 10_000; update++) {
      t.advance(5);
      t.dispatcher.onAlert(alert('a', 'high', update));
    }
    await t.dispatcher.flush();
    expect(t.queue.enqueueCalls).toBe(1);
    expect(t.notifier(1).attempts).toHaveLength(1);

    t.dispatcher.onAlert(alert('a', 'critical', 10_001));
    await t.dispatcher.flush();
    expect(t.notifier(1).delivered.map((n) => n.title)).toEqual([
      '[HIGH] Port scan from 10.0.0.5 to 10.0.0.9',
      '[CRITICAL] Port scan from 10.0.0.5 to 10.0.0.9 (escalated)',
    ]);
    expect(t.notifier(1).delivered[1]?.text).toContain('Escalated to critical.');
    expect(t.queue.byStatus()).toEqual({ pending: 0, sent: 2, failed: 0 });
  });

  it('turns a flood of 10,000 updates over 400 alerts in a minute into 10 notifications and a digest of the other 390, losing none', async () => {
    const t = setup();
    // 400 port scans, each updated 25 times, over one minute.
    for (let update = 1; update <= 25; update++) {
      for (let i = 0; i < 400; i++) {
        t.advance(6);
        t.dispatcher.onAlert(alert(`scan-${i}`, 'high', update));
      }
    }
    expect(t.now() - T0).toBe(MINUTE);
    await t.dispatcher.flush();
    // Only what is to be told reaches the queue: the updates cost no work there.
    expect(t.queue.enqueueCalls).toBe(10);
    expect(t.notifier(1).delivered.map((n) => n.kind)).toEqual(Array<string>(10).fill('alert'));

    // Nothing more until the window ends, then the digest.
    t.setClock(T0 + 10 * MINUTE - 1);
    await t.dispatcher.flush();
    expect(t.queue.rows).toHaveLength(10);
    t.setClock(T0 + 10 * MINUTE + 6);
    await t.dispatcher.flush();
    const digests = t.notifier(1).delivered.filter((n) => n.kind === 'digest');
    expect(digests.reduce((sum, n) => sum + (n.digest?.count ?? 0), 0)).toBe(390);
    expect(digests[0]?.title).toBe('390 more port_scan alerts in the last 10 min');
    // Nothing lost: every delivery ends sent, each under its own id.
    expect(t.queue.byStatus()).toEqual({ pending: 0, sent: 11, failed: 0 });
    const ids = t.queue.rows.map((r) => r.notification.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(t.dispatcher.stats()).toMatchObject({ enqueued: 11, sent: 11, digests: 1 });
  });

  it('retries a failing channel with backoff, pausing it meanwhile, while another channel goes on', async () => {
    const t = setup([channel(1), channel(2)], { 1: failingFirst(3) });
    t.dispatcher.onAlert(alert('a'));
    t.dispatcher.onAlert(alert('b'));
    await t.dispatcher.flush();
    const rowsOf = (channelId: number) => t.queue.rows.filter((r) => r.channelId === channelId);

    // Channel 1 tried 'a' once and holds 'b' back without trying it; channel 2 delivered both.
    expect(t.notifier(1).attempts.map((n) => n.alert?.id)).toEqual(['a']);
    expect(rowsOf(1).map((r) => [r.status, r.attempts, r.nextAttemptAt - T0])).toEqual([
      ['pending', 1, 5000],
      ['pending', 0, 5000],
    ]);
    expect(rowsOf(1)[0]?.error).toBe('webhook POST http://127.0.0.1:9: HTTP 503');
    expect(rowsOf(1)[1]?.error).toContain('paused');
    expect(t.notifier(2).delivered.map((n) => n.alert?.id)).toEqual(['a', 'b']);

    // While paused: not one attempt on channel 1, and channel 2 is told of 'c' at once.
    t.advance(4999);
    t.dispatcher.onAlert(alert('c'));
    await t.dispatcher.flush();
    expect(t.notifier(1).attempts).toHaveLength(1);
    expect(t.notifier(2).delivered.map((n) => n.alert?.id)).toEqual(['a', 'b', 'c']);

    // Backoff 5 s, 10 s, 20 s: the fourth attempt delivers, and the held ones follow in order.
    t.advance(1);
    await t.dispatcher.flush();
    expect(rowsOf(1)[0]).toMatchObject({ attempts: 2, nextAttemptAt: t.now() + 10_000 });
    t.advance(10_000);
    await t.dispatcher.flush();
    expect(rowsOf(1)[0]).toMatchObject({ attempts: 3, nextAttemptAt: t.now() + 20_000 });
    t.advance(19_999);
    await t.dispatcher.flush();
    expect(t.notifier(1).attempts).toHaveLength(3);
    t.advance(1);
    await t.dispatcher.flush();
    expect(t.notifier(1).delivered.map((n) => n.alert?.id)).toEqual(['a', 'b', 'c']);
    expect(rowsOf(1).map((r) => [r.status, r.attempts])).toEqual([
      ['sent', 4],
      ['sent', 1],
      ['sent', 1],
    ]);
    expect(t.dispatcher.stats()).toMatchObject({ retried: 3, sent: 6, failed: 0 });
    const retryLog = t.logs.find((l) => l.msg === 'notification failed; will retry');
    expect(retryLog?.obj).toEqual({
      channelId: 1,
      channel: 'channel-1',
      deliveryId: 1,
      notificationId: expect.stringMatching(/^alert-a-1-/) as unknown,
      attempts: 1,
      error: 'webhook POST http://127.0.0.1:9: HTTP 503',
      retryInMs: 5000,
    });
  });

  it('spreads retry delays by up to 10 % and keeps them under the cap', async () => {
    const t = setup(
      [channel(1)],
      { 1: failingFirst(100) },
      {
        random: () => 0,
        retry: { firstDelayMs: 1000, maxDelayMs: 3000 },
      },
    );
    t.dispatcher.onAlert(alert('a'));
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      await t.dispatcher.flush();
      const row = t.queue.rows[0];
      if (!row) throw new Error('no row');
      delays.push(row.nextAttemptAt - t.now());
      t.setClock(row.nextAttemptAt);
    }
    expect(delays).toEqual([900, 1800, 2700, 2700]);
  });

  it('does not let a slow channel hold up another within a round', async () => {
    let release = (): void => undefined;
    const slow: Script = () => new Promise((resolve) => (release = resolve));
    const t = setup([channel(1), channel(2)], { 1: slow });
    t.dispatcher.onAlert(alert('a'));
    const round = t.dispatcher.flush();
    await vi.waitFor(() => {
      expect(t.notifier(2).delivered).toHaveLength(1);
    });
    expect(t.notifier(1).delivered).toHaveLength(0);
    release();
    await round;
    expect(t.queue.byStatus()).toEqual({ pending: 0, sent: 2, failed: 0 });
  });

  it('fails a delivery at once when trying again cannot help, and goes on with the next', async () => {
    const t = setup([channel(1)], {
      1: (n) =>
        n.alert?.id === 'a'
          ? Promise.reject(new NotifyError('webhook POST https://hooks.example.net: HTTP 404', false))
          : Promise.resolve(),
    });
    t.dispatcher.onAlert(alert('a'));
    t.dispatcher.onAlert(alert('b'));
    await t.dispatcher.flush();
    expect(t.queue.rows.map((r) => [r.status, r.attempts, r.error])).toEqual([
      ['failed', 1, 'webhook POST https://hooks.example.net: HTTP 404'],
      ['sent', 1, null],
    ]);
    t.advance(MINUTE);
    await t.dispatcher.flush();
    expect(t.notifier(1).attempts).toHaveLength(2);
    expect(t.dispatcher.stats()).toMatchObject({ failed: 1, sent: 1, retried: 0 });
  });

  it('counts a plain error (not a NotifyError) as one that may pass', async () => {
    const t = setup([channel(1)], { 1: () => Promise.reject(new Error('socket hang up')) });
    t.dispatcher.onAlert(alert('a'));
    await t.dispatcher.flush();
    expect(t.queue.rows[0]).toMatchObject({ status: 'pending', attempts: 1, error: 'socket hang up' });
  });

  it('gives up a delivery that still fails after 24 h, and what waited behind it', async () => {
    const t = setup([channel(1)], {
      1: () => Promise.reject(new NotifyError('syslog tcp://127.0.0.1:514: connect failed', true)),
    });
    t.dispatcher.onAlert(alert('a'));
    t.dispatcher.onAlert(alert('b'));
    let rounds = 0;
    await t.dispatcher.flush();
    while (t.queue.rows[0]?.status === 'pending') {
      t.setClock(t.queue.rows[0].nextAttemptAt);
      await t.dispatcher.flush();
      if (++rounds > 1000) throw new Error('never gave up');
    }
    const [first, second] = t.queue.rows;
    const match =
      /^gave up after (\d+) attempts in 24 h: syslog tcp:\/\/127\.0\.0\.1:514: connect failed$/.exec(
        first?.error ?? '',
      );
    expect(match).not.toBeNull();
    expect(Number(match?.[1])).toBe(first?.attempts);
    // 5 + 10 + ... + 160 s, then every 5 min: the attempt at 24 h 15 s is the last.
    expect(first?.attempts).toBe(294);
    expect(first?.finishedAt).toBe(T0 + 86_415_000);
    expect(second).toMatchObject({ status: 'failed', attempts: 0 });
    expect(second?.error).toMatch(/^gave up after 0 attempts in 24 h: syslog/);
    expect(t.notifier(1).attempts.every((n) => n.alert?.id === 'a')).toBe(true);
  });

  it("fails a deleted channel's deliveries and closes its notifier", async () => {
    const t = setup([channel(1), channel(2)]);
    t.dispatcher.onAlert(alert('a'));
    await t.dispatcher.flush();
    t.dispatcher.onAlert(alert('b'));
    t.dispatcher.setChannels([channel(2)]);
    await t.dispatcher.flush();
    expect(t.notifier(1).closed).toBe(true);
    const rows = t.queue.rows.filter((r) => r.channelId === 1);
    expect(rows.map((r) => [r.notification.alert?.id, r.status, r.attempts, r.error])).toEqual([
      ['a', 'sent', 1, null],
      ['b', 'failed', 0, 'channel deleted'],
    ]);
    expect(t.notifier(1).attempts).toHaveLength(1);
    expect(t.notifier(2).delivered).toHaveLength(2);
  });

  it("keeps a disabled channel's queue until it is enabled again", async () => {
    const t = setup();
    t.dispatcher.onAlert(alert('a'));
    t.dispatcher.setChannels([channel(1, { enabled: false })]);
    t.dispatcher.onAlert(alert('b'));
    await t.dispatcher.flush();
    expect(t.queue.rows.map((r) => [r.notification.alert?.id, r.status, r.attempts])).toEqual([
      ['a', 'pending', 0],
    ]);
    expect(t.notifiers).toHaveLength(0);
    t.dispatcher.setChannels([channel(1)]);
    t.advance(MINUTE);
    await t.dispatcher.flush();
    expect(t.queue.byStatus()).toEqual({ pending: 0, sent: 1, failed: 0 });
  });

  it('keeps the throttle of a channel whose filter is unchanged, and starts afresh when it changes', async () => {
    const t = setup();
    t.dispatcher.onAlert(alert('a'));
    // Same filter in a new object, a new name: 'a' is no news.
    const same = channel(1, { name: 'renamed' });
    t.dispatcher.setChannels([{ ...same, filter: { ...same.filter, types: [] } }]);
    t.dispatcher.onAlert(alert('a'));
    await t.dispatcher.flush();
    expect(t.queue.rows).toHaveLength(1);
    // A new filter: the channel is told of 'a' afresh.
    t.dispatcher.setChannels([channel(1, { filter: { ...same.filter, maxPerWindow: 20 } })]);
    t.dispatcher.onAlert(alert('a'));
    await t.dispatcher.flush();
    expect(t.queue.rows).toHaveLength(2);
    // The notifier is the same one: the settings (version) did not change.
    expect(t.notifiers).toHaveLength(1);
  });

  it('sends what the old limit held back as a digest when the filter changes', async () => {
    const filter = { minSeverity: 'low' as const, types: [], maxPerWindow: 1, windowMs: 10 * MINUTE };
    const t = setup([channel(1, { filter })]);
    t.dispatcher.onAlert(alert('a'));
    t.dispatcher.onAlert(alert('b'));
    t.dispatcher.onAlert(alert('c'));
    t.dispatcher.setChannels([channel(1, { filter: { ...filter, minSeverity: 'medium' } })]);
    await t.dispatcher.flush();
    expect(t.notifier(1).delivered.map((n) => [n.kind, n.digest?.count])).toEqual([
      ['alert', undefined],
      ['digest', 2],
    ]);
  });

  it('builds a new notifier when the settings change, closing the old one', async () => {
    const t = setup();
    t.dispatcher.onAlert(alert('a'));
    await t.dispatcher.flush();
    t.dispatcher.setChannels([channel(1, { version: 2 })]);
    t.dispatcher.onAlert(alert('b'));
    await t.dispatcher.flush();
    expect(t.notifiers.map((n) => [n.closed, n.delivered.length])).toEqual([
      [true, 1],
      [false, 1],
    ]);
  });

  it('sends a test at once, to a disabled channel too, and records it', async () => {
    const t = setup([channel(1, { enabled: false })]);
    const result = await t.dispatcher.sendTest(1, 'admin');
    expect(result).toEqual({ deliveryId: 1, status: 'sent' });
    expect(t.queue.rows[0]).toMatchObject({ status: 'sent', attempts: 1 });
    const [sent] = t.notifier(1).delivered;
    expect(sent?.kind).toBe('test');
    expect(sent?.id).toMatch(/^test-1-\d+$/);
    expect(sent?.text).toContain('at the request of admin');
    await expect(t.dispatcher.sendTest(9, 'admin')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('fails a test that fails, without retrying it or pausing the channel', async () => {
    const t = setup([channel(1)], { 1: failingFirst(1) });
    const result = await t.dispatcher.sendTest(1, 'admin');
    expect(result).toEqual({
      deliveryId: 1,
      status: 'failed',
      error: 'webhook POST http://127.0.0.1:9: HTTP 503',
    });
    expect(t.queue.rows[0]).toMatchObject({ status: 'failed', attempts: 1 });
    t.dispatcher.onAlert(alert('a'));
    t.advance(MINUTE);
    await t.dispatcher.flush();
    expect(t.notifier(1).attempts.map((n) => n.kind)).toEqual(['test', 'alert']);
    expect(t.queue.byStatus()).toEqual({ pending: 0, sent: 1, failed: 1 });
  });

  it('fails a test left pending by a stop, rather than sending it late', async () => {
    const t = setup();
    await t.queue.enqueue(1, { id: 'test-1-1', kind: 'test', title: 't', text: 't', at: T0, host: 'h' }, T0);
    await t.dispatcher.flush();
    expect(t.queue.rows[0]).toMatchObject({ status: 'failed', error: 'test interrupted before it was sent' });
    expect(t.notifiers).toHaveLength(0);
  });

  it('on stop, waits for the round a while, aborts its sends and leaves the deliveries pending', async () => {
    const hang: Script = (_n, _attempt, signal) =>
      new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => {
          reject(new NotifyError('webhook POST http://127.0.0.1:9: aborted', true));
        });
      });
    const t = setup([channel(1)], { 1: hang }, { stopWaitMs: 20 });
    t.dispatcher.onAlert(alert('a'));
    t.dispatcher.onAlert(alert('b'));
    const round = t.dispatcher.flush();
    await vi.waitFor(() => {
      expect(t.notifiers[0]?.attempts).toHaveLength(1);
    });
    await t.dispatcher.stop();
    await round;
    expect(t.notifier(1).closed).toBe(true);
    expect(t.queue.rows.map((r) => [r.status, r.attempts])).toEqual([
      ['pending', 1],
      ['pending', 0],
    ]);
    // Alerts after the stop are queued for the next start.
    t.dispatcher.onAlert(alert('c'));
    await t.dispatcher.stop();
    expect(t.queue.byStatus()).toEqual({ pending: 3, sent: 0, failed: 0 });
  });

  it('sends on its own once started, and stops', async () => {
    const t = setup([channel(1)], {}, { tickMs: 5 });
    t.dispatcher.start();
    t.dispatcher.onAlert(alert('a'));
    await vi.waitFor(() => {
      expect(t.queue.byStatus().sent).toBe(1);
    });
    await t.dispatcher.stop();
    t.dispatcher.onAlert(alert('b'));
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(t.queue.byStatus()).toEqual({ pending: 1, sent: 1, failed: 0 });
  });

  it('runs one round at a time: a flush during a round waits for it', async () => {
    let release = (): void => undefined;
    const t = setup([channel(1)], { 1: () => new Promise((resolve) => (release = resolve)) });
    t.dispatcher.onAlert(alert('a'));
    const first = t.dispatcher.flush();
    await vi.waitFor(() => {
      expect(t.notifiers[0]?.attempts).toHaveLength(1);
    });
    const second = t.dispatcher.flush();
    let secondDone = false;
    void second.then(() => (secondDone = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(secondDone).toBe(false);
    release();
    await Promise.all([first, second]);
    // The second round found nothing left to send: 'a' went once.
    expect(t.notifier(1).attempts).toHaveLength(1);
  });

  it('ignores suppressed alerts', async () => {
    const t = setup();
    t.dispatcher.onAlert({ ...alert('a'), suppressedBy: 3 });
    t.dispatcher.onAlert({ ...alert('b'), suppressedBy: null });
    await t.dispatcher.flush();
    expect(t.queue.rows.map((r) => r.notification.alert?.id)).toEqual(['b']);
    expect(t.queue.rows[0]?.notification.alert).not.toHaveProperty('suppressedBy');
  });

  it('logs a queue that refuses an alert, and never throws to the caller', async () => {
    const t = setup();
    t.queue.failEnqueue = true;
    expect(() => {
      t.dispatcher.onAlert(alert('a'));
    }).not.toThrow();
    await t.dispatcher.flush();
    expect(t.logs.find((l) => l.level === 'error')).toMatchObject({
      msg: 'notification could not be queued',
      obj: { channelId: 1, error: 'database is locked' },
    });
    expect(t.dispatcher.stats().enqueued).toBe(0);
  });

  it('sends at most `batch` deliveries per channel per round, oldest first', async () => {
    const t = setup([channel(1, { filter: { ...channel(1).filter, maxPerWindow: 100 } })], {}, { batch: 3 });
    for (let i = 0; i < 7; i++) t.dispatcher.onAlert(alert(`a${i}`));
    await t.dispatcher.flush();
    expect(t.notifier(1).delivered.map((n) => n.alert?.id)).toEqual(['a0', 'a1', 'a2']);
    await t.dispatcher.flush();
    await t.dispatcher.flush();
    expect(t.notifier(1).delivered.map((n) => n.alert?.id)).toEqual([
      'a0',
      'a1',
      'a2',
      'a3',
      'a4',
      'a5',
      'a6',
    ]);
  });
});
