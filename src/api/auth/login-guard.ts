/**
 * Slows down password guessing: counts failed logins per user name and per client address, and
 * locks a key out for a while once it fails too often, doubling the lock with each further lockout
 * (exponential backoff). Pure and synchronous: the clock is injected, nothing is stored; the API
 * asks `check` before verifying a password and records the outcome afterwards.
 * Anyone who knows a user name can keep it locked; `maxLockSeconds` bounds that denial of service, and
 * a lock only delays logins, it never disables the account.
 * It must never grow without bound: a spray from millions of addresses or user names costs at most
 * `maxKeys` entries, the least recently failed forgotten first (and counted).
 */

import { isIPv4, isIPv6 } from 'node:net';

/** Which key is locked. */
export type LockReason = 'user_locked' | 'ip_locked';

/** The answer of `check`. */
export type LoginCheck =
  { allowed: true } | { allowed: false; retryAfterSeconds: number; reason: LockReason };

/** A lockout that a failure caused, for the security event log. */
export interface Lockout {
  reason: LockReason;
  /** How long this lockout lasts. */
  lockSeconds: number;
  /** 1 for the first lockout of this key, 2 for the next (twice as long), and so on. */
  lockoutCount: number;
}

/** What recording a failure did: `lockedOut` is true when this failure locked the user, the address or both. */
export interface LoginFailureOutcome {
  lockedOut: boolean;
  locks: Lockout[];
}

export interface LoginGuardOptions {
  /** Failures of one user name within the window that lock it; default 5. */
  maxFailures?: number;
  /**
   * Failures from one address within the window that lock it; default 20. Higher than per user
   * because one address may be a whole office behind NAT, and lower than a spray needs.
   */
  maxFailuresPerIp?: number;
  /** The sliding window failures are counted in; default 900 (15 minutes). */
  windowSeconds?: number;
  /** The first lockout's length; default 60. */
  baseLockSeconds?: number;
  /** The longest lockout; default 3600. */
  maxLockSeconds?: number;
  /** A key with no failure for this long is forgotten, lockout history included; default 86400. */
  forgetAfterSeconds?: number;
  /** The most keys (user names plus addresses) kept; default 100,000. */
  maxKeys?: number;
  /** Wall-clock epoch milliseconds. */
  now?: () => number;
}

interface KeyState {
  /** Times of the failures inside the window, oldest first; never more than the key's limit. */
  failures: number[];
  lockedUntil: number;
  lockouts: number;
  lastFailure: number;
}

// User names longer than this are cut: the key only needs to tell real names apart.
const MAX_USERNAME_KEY_LENGTH = 256;

/** Per-user and per-address failed-login counting with lockout and backoff, in bounded memory. */
export class LoginGuard {
  readonly #maxFailures: number;
  readonly #maxFailuresPerIp: number;
  readonly #windowMs: number;
  readonly #baseLockSeconds: number;
  readonly #maxLockSeconds: number;
  readonly #forgetAfterMs: number;
  readonly #maxKeys: number;
  readonly #now: () => number;
  // Insertion order is kept as "least recently failed first": every failure moves its key to the end,
  // so eviction and expiry both take from the front in O(1).
  readonly #keys = new Map<string, KeyState>();
  #evicted = 0;

  constructor(options: LoginGuardOptions = {}) {
    this.#maxFailures = positiveInteger('maxFailures', options.maxFailures ?? 5);
    this.#maxFailuresPerIp = positiveInteger('maxFailuresPerIp', options.maxFailuresPerIp ?? 20);
    this.#windowMs = positiveInteger('windowSeconds', options.windowSeconds ?? 900) * 1000;
    this.#baseLockSeconds = positiveInteger('baseLockSeconds', options.baseLockSeconds ?? 60);
    this.#maxLockSeconds = Math.max(
      this.#baseLockSeconds,
      positiveInteger('maxLockSeconds', options.maxLockSeconds ?? 3600),
    );
    this.#forgetAfterMs = positiveInteger('forgetAfterSeconds', options.forgetAfterSeconds ?? 86_400) * 1000;
    this.#maxKeys = positiveInteger('maxKeys', options.maxKeys ?? 100_000);
    this.#now = options.now ?? Date.now;
  }

  /** Whether a login attempt for `username` from `ip` may be tried now. Changes nothing. */
  check(username: string, ip: string): LoginCheck {
    const now = this.#now();
    const user = this.#remainingMs(userKey(username), now);
    const address = this.#remainingMs(ipKey(ip), now);
    if (user === 0 && address === 0) return { allowed: true };
    // Both may be locked: report the one that lasts longer, since that is when a retry can succeed.
    return user >= address
      ? { allowed: false, retryAfterSeconds: Math.ceil(user / 1000), reason: 'user_locked' }
      : { allowed: false, retryAfterSeconds: Math.ceil(address / 1000), reason: 'ip_locked' };
  }

  /**
   * Counts a failed login for `username` and for `ip`. Failures while a key is locked are not
   * counted again (the API should not have tried the password), so a lock is not extended by them.
   */
  recordFailure(username: string, ip: string): LoginFailureOutcome {
    const now = this.#now();
    this.#expireIdle(now);
    const locks: Lockout[] = [];
    const userLock = this.#fail(userKey(username), this.#maxFailures, now);
    if (userLock) locks.push({ reason: 'user_locked', ...userLock });
    const ipLock = this.#fail(ipKey(ip), this.#maxFailuresPerIp, now);
    if (ipLock) locks.push({ reason: 'ip_locked', ...ipLock });
    while (this.#keys.size > this.#maxKeys) {
      const oldest = this.#keys.keys().next();
      if (oldest.done === true) break;
      this.#keys.delete(oldest.value);
      this.#evicted++;
    }
    return { lockedOut: locks.length > 0, locks };
  }

  /**
   * Clears the user name's failures and lockout history after a successful login. The address's
   * count is kept on purpose: an attacker with one valid account must not reset the counter of the
   * address they spray other accounts from.
   */
  recordSuccess(username: string): void {
    this.#keys.delete(userKey(username));
  }

  /** How many keys are tracked and how many were forgotten early to stay within `maxKeys`. */
  stats(): { trackedKeys: number; evictedKeys: number } {
    return { trackedKeys: this.#keys.size, evictedKeys: this.#evicted };
  }

  #remainingMs(key: string, now: number): number {
    const state = this.#keys.get(key);
    return state === undefined ? 0 : Math.max(0, state.lockedUntil - now);
  }

  #fail(key: string, limit: number, now: number): Omit<Lockout, 'reason'> | null {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { failures: [], lockedUntil: 0, lockouts: 0, lastFailure: now };
    } else {
      this.#keys.delete(key);
    }
    this.#keys.set(key, state);
    state.lastFailure = now;
    if (state.lockedUntil > now) return null;
    const windowStart = now - this.#windowMs;
    let stale = 0;
    while (stale < state.failures.length && state.failures[stale]! <= windowStart) stale++;
    if (stale > 0) state.failures.splice(0, stale);
    state.failures.push(now);
    if (state.failures.length < limit) return null;
    // 2^lockouts, capped before it can overflow: 2^30 times any base is past every sane maximum.
    const lockSeconds = Math.min(
      this.#baseLockSeconds * 2 ** Math.min(state.lockouts, 30),
      this.#maxLockSeconds,
    );
    state.lockouts++;
    state.lockedUntil = now + lockSeconds * 1000;
    state.failures = [];
    return { lockSeconds, lockoutCount: state.lockouts };
  }

  /** Drops keys idle past `forgetAfterSeconds` from the front (least recently failed) of the map. */
  #expireIdle(now: number): void {
    for (const [key, state] of this.#keys) {
      if (state.lastFailure + this.#forgetAfterMs > now || state.lockedUntil > now) break;
      this.#keys.delete(key);
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) {
    throw new RangeError(`LoginGuard option ${name} must be a positive whole number, not ${value}.`);
  }
  return value;
}

function userKey(username: string): string {
  // "Admin" and "admin " are the same target: count them together rather than let case split the count.
  return `u:${username.normalize('NFKC').trim().toLowerCase().slice(0, MAX_USERNAME_KEY_LENGTH)}`;
}

/**
 * The address key: IPv4 as is (IPv4-mapped IPv6 unwrapped), IPv6 by its /64, since one host or
 * customer usually holds a whole /64 and could otherwise rotate through 2^64 addresses.
 */
function ipKey(ip: string): string {
  const address = ip.trim().toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (mapped) return `i:${mapped[1]!}`;
  if (isIPv4(address)) return `i:${address}`;
  const withoutZone = address.split('%', 1)[0] ?? '';
  if (isIPv6(withoutZone)) {
    const groups = expandIpv6(withoutZone);
    return `i:${groups.slice(0, 4).join(':')}::/64`;
  }
  // Not an address (a proxy that sent garbage): still a key, but a short one.
  return `i:?${address.slice(0, 64)}`;
}

/** The eight 16-bit groups of a valid IPv6 address, as hex without leading zeros. */
function expandIpv6(address: string): string[] {
  let text = address;
  // A dotted IPv4 tail ("64:ff9b::192.0.2.1") stands for the last two groups.
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (tail) {
    const [a, b, c, d] = tail.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, tail.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = Array.from({ length: 8 - left.length - right.length }, () => '0');
  return [...left, ...zeros, ...right].map((group) => parseInt(group, 16).toString(16));
}
