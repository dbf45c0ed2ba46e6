import { describe, expect, it } from 'vitest';

import { LoginGuard } from './login-guard.js';
import type { LoginGuardOptions } from './login-guard.js';

function guardWithClock(options: Omit<LoginGuardOptions, 'now'> = {}) {
  const clock = { now: Date.UTC(2025, 0, 15, 12, 0, 0) };
  const guard = new LoginGuard({
    maxFailures: 3,
    maxFailuresPerIp: 10,
    windowSeconds: 300,
    baseLockSeconds: 60,
    maxLockSeconds: 600,
    ...options,
    now: () => clock.now,
  });
  const advance = (seconds: number): void => {
    clock.now += seconds * 1000;
  };
  return { guard, clock, advance };
}

function failTimes(guard: LoginGuard, n: number, username: string, ip: string): boolean[] {
  return Array.from({ length: n }, () => guard.recordFailure(username, ip).lockedOut);
}

describe('LoginGuard lockout per user', () => {
  it('locks a user after maxFailures within the window and lets them retry when the lock ends', () => {
    const { guard, advance } = guardWithClock();
    expect(guard.check('alice', '192.0.2.1')).toEqual({ allowed: true });
    expect(failTimes(guard, 2, 'alice', '192.0.2.1')).toEqual([false, false]);
    expect(guard.check('alice', '192.0.2.1')).toEqual({ allowed: true });
    const third = guard.recordFailure('alice', '192.0.2.1');
    expect(third).toEqual({
      lockedOut: true,
      locks: [{ reason: 'user_locked', lockSeconds: 60, lockoutCount: 1 }],
    });
    // Locked for the user from any address.
    expect(guard.check('alice', '198.51.100.9')).toEqual({
      allowed: false,
      retryAfterSeconds: 60,
      reason: 'user_locked',
    });
    advance(59.5);
    expect(guard.check('alice', '192.0.2.1')).toEqual({
      allowed: false,
      retryAfterSeconds: 1,
      reason: 'user_locked',
    });
    advance(0.5);
    expect(guard.check('alice', '192.0.2.1')).toEqual({ allowed: true });
    // Other users are untouched.
    expect(guard.check('bob', '198.51.100.9')).toEqual({ allowed: true });
  });

  it('counts only failures inside the sliding window', () => {
    const { guard, advance } = guardWithClock();
    failTimes(guard, 2, 'alice', '192.0.2.1');
    advance(301);
    expect(guard.recordFailure('alice', '192.0.2.1').lockedOut).toBe(false);
    expect(guard.recordFailure('alice', '192.0.2.1').lockedOut).toBe(false);
    expect(guard.recordFailure('alice', '192.0.2.1').lockedOut).toBe(true);
  });

  it('doubles the lock with each further lockout, up to maxLockSeconds', () => {
    const { guard, advance } = guardWithClock();
    const locks: number[] = [];
    for (let round = 0; round < 6; round++) {
      failTimes(guard, 2, 'alice', `192.0.2.${round}`);
      const outcome = guard.recordFailure('alice', `192.0.2.${round}`);
      expect(outcome.lockedOut).toBe(true);
      locks.push(outcome.locks[0]!.lockSeconds);
      const check = guard.check('alice', '203.0.113.1');
      expect(check).toMatchObject({ allowed: false, retryAfterSeconds: locks.at(-1) });
      advance(locks.at(-1)!);
      expect(guard.check('alice', '203.0.113.1')).toEqual({ allowed: true });
    }
    expect(locks).toEqual([60, 120, 240, 480, 600, 600]);
  });

  it('does not extend or escalate a lock with failures recorded while locked', () => {
    const { guard, advance } = guardWithClock();
    failTimes(guard, 3, 'alice', '192.0.2.1');
    advance(10);
    expect(failTimes(guard, 5, 'alice', '192.0.2.1')).toEqual([false, false, false, false, false]);
    expect(guard.check('alice', '192.0.2.1')).toMatchObject({ allowed: false, retryAfterSeconds: 50 });
  });

  it('clears the user on success, lockout history included', () => {
    const { guard, advance } = guardWithClock();
    failTimes(guard, 3, 'alice', '192.0.2.1');
    advance(60);
    guard.recordSuccess('alice');
    expect(failTimes(guard, 2, 'alice', '192.0.2.1')).toEqual([false, false]);
    // Back to the base lock, not the doubled one.
    expect(guard.recordFailure('alice', '192.0.2.1').locks[0]!.lockSeconds).toBe(60);
  });

  it('forgets the lockout history of a key idle for forgetAfterSeconds', () => {
    const { guard, advance } = guardWithClock({ forgetAfterSeconds: 3600 });
    failTimes(guard, 3, 'alice', '192.0.2.1');
    advance(3601);
    expect(guard.recordFailure('bob', '198.51.100.1').lockedOut).toBe(false);
    failTimes(guard, 2, 'alice', '192.0.2.1');
    expect(guard.recordFailure('alice', '192.0.2.1').locks[0]!.lockSeconds).toBe(60);
  });

  it('treats user names case- and space-insensitively', () => {
    const { guard } = guardWithClock();
    guard.recordFailure('Alice', '192.0.2.1');
    guard.recordFailure(' alice', '192.0.2.1');
    expect(guard.recordFailure('ALICE', '192.0.2.1').lockedOut).toBe(true);
    expect(guard.check('alice', '192.0.2.1')).toMatchObject({ allowed: false, reason: 'user_locked' });
  });
});

describe('LoginGuard lockout per address', () => {
  it('locks an address that sprays many user names, and keeps its count after a success', () => {
    const { guard } = guardWithClock();
    for (let i = 0; i < 9; i++) expect(guard.recordFailure(`user${i}`, '192.0.2.66').lockedOut).toBe(false);
    // A valid login from the sprayer does not reset the address's count.
    guard.recordSuccess('mallory');
    const tenth = guard.recordFailure('user9', '192.0.2.66');
    expect(tenth.locks).toEqual([{ reason: 'ip_locked', lockSeconds: 60, lockoutCount: 1 }]);
    expect(guard.check('somebody', '192.0.2.66')).toEqual({
      allowed: false,
      retryAfterSeconds: 60,
      reason: 'ip_locked',
    });
    expect(guard.check('somebody', '192.0.2.67')).toEqual({ allowed: true });
  });

  it('reports the longer of a user lock and an address lock', () => {
    const { guard, advance } = guardWithClock({ maxFailures: 3, maxFailuresPerIp: 3 });
    const both = guard.recordFailure('x', '192.0.2.1');
    expect(both.lockedOut).toBe(false);
    failTimes(guard, 2, 'x', '192.0.2.1');
    expect(guard.check('x', '192.0.2.1')).toMatchObject({ allowed: false, retryAfterSeconds: 60 });
    advance(60);
    // Second lockout for the address (120 s), first for a fresh user name (60 s).
    failTimes(guard, 3, 'y', '192.0.2.1');
    expect(guard.check('y', '192.0.2.1')).toEqual({
      allowed: false,
      retryAfterSeconds: 120,
      reason: 'ip_locked',
    });
  });

  it('counts an IPv6 /64 as one address and unwraps IPv4-mapped addresses', () => {
    const { guard } = guardWithClock({ maxFailuresPerIp: 3, maxFailures: 100 });
    guard.recordFailure('a', '2001:db8:1:2::1');
    guard.recordFailure('b', '2001:db8:1:2:ffff:ffff:ffff:fffe');
    expect(guard.recordFailure('c', '2001:0db8:0001:0002:0:0:0:abcd').lockedOut).toBe(true);
    expect(guard.check('d', '2001:db8:1:2::99')).toMatchObject({ allowed: false, reason: 'ip_locked' });
    expect(guard.check('d', '2001:db8:1:3::1')).toEqual({ allowed: true });

    guard.recordFailure('a', '::ffff:192.0.2.5');
    guard.recordFailure('b', '192.0.2.5');
    expect(guard.recordFailure('c', '::FFFF:192.0.2.5').lockedOut).toBe(true);
  });
});

describe('LoginGuard memory bound', () => {
  it('never holds more than maxKeys keys under a spray, forgetting the least recently failed first', () => {
    const { guard } = guardWithClock({ maxKeys: 1000, maxFailures: 2 });
    // The victim's user name is locked first...
    failTimes(guard, 2, 'admin', '192.0.2.1');
    expect(guard.check('admin', '192.0.2.1')).toMatchObject({ allowed: false });
    // ...then a spray from 20,000 addresses and user names.
    let mostTracked = 0;
    for (let i = 0; i < 20_000; i++) {
      guard.recordFailure(`spray-${i}`, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      mostTracked = Math.max(mostTracked, guard.stats().trackedKeys);
    }
    expect(mostTracked).toBe(1000);
    const stats = guard.stats();
    expect(stats.trackedKeys).toBe(1000);
    expect(stats.evictedKeys).toBe(2 + 40_000 - 1000);
    // The oldest keys went first; the most recent sprayers are still counted.
    expect(guard.check('admin', '192.0.2.1')).toEqual({ allowed: true });
    expect(guard.recordFailure('spray-19999', '198.51.100.1').lockedOut).toBe(true);
  });

  it('does not grow on check', () => {
    const { guard } = guardWithClock();
    for (let i = 0; i < 1000; i++) guard.check(`user${i}`, `10.0.${i >> 8}.${i & 255}`);
    expect(guard.stats().trackedKeys).toBe(0);
  });

  it('keeps one huge user name to a bounded key', () => {
    const { guard } = guardWithClock();
    guard.recordFailure('a'.repeat(1_000_000), 'not an address at all'.repeat(1000));
    guard.recordFailure(`${'a'.repeat(256)}b`, '192.0.2.1');
    expect(guard.recordFailure(`${'a'.repeat(256)}c`, '192.0.2.1').lockedOut).toBe(true);
  });

  it('refuses nonsense options', () => {
    expect(() => new LoginGuard({ maxFailures: 0 })).toThrow(RangeError);
    expect(() => new LoginGuard({ maxKeys: 1.5 })).toThrow(RangeError);
  });
});
