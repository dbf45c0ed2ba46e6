/**
 * The one-time setup token that lets the first admin be created from the web page when no admin
 * exists yet, instead of a default password: the server prints it once to its console (so only
 * whoever can read the host's console or journal can use it), it works once and expires.
 * This module must never log the token itself (the server prints it, once) and never compares it
 * in a way whose time depends on how much of a guess is right.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a setup token is valid by default: one hour. */
export const DEFAULT_SETUP_TOKEN_TTL_SECONDS = 60 * 60;

/** A one-time setup token. */
export interface SetupToken {
  /** The secret to print once: 32 random bytes, base64url (43 characters). */
  readonly token: string;
  /** Epoch milliseconds after which `verify` always answers false. */
  readonly expiresAt: number;
  /**
   * True when `candidate` is the token, it has not expired and it was not used before; a true
   * answer uses it up, so a second call with the same token answers false.
   */
  verify(candidate: string): boolean;
}

export interface SetupTokenOptions {
  /** Default one hour. */
  ttlSeconds?: number;
  /** Wall-clock epoch milliseconds; injectable for tests. */
  now?: () => number;
}

// Both sides are hashed first so the comparison always runs on 32 equal-length bytes: timingSafeEqual
// needs equal lengths, and comparing raw lengths first would tell a guesser the token's length.
function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Creates a fresh one-time setup token valid for `ttlSeconds` (one hour by default). */
export function createSetupToken(options: SetupTokenOptions = {}): SetupToken {
  const now = options.now ?? Date.now;
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_SETUP_TOKEN_TTL_SECONDS;
  if (!Number.isFinite(ttlSeconds) || ttlSeconds <= 0) {
    throw new RangeError(`The setup token lifetime must be a positive number of seconds, not ${ttlSeconds}.`);
  }
  const token = randomBytes(32).toString('base64url');
  const expected = digest(token);
  const expiresAt = now() + ttlSeconds * 1000;
  let used = false;
  return {
    token,
    expiresAt,
    verify(candidate: string): boolean {
      // 256 random bits cannot be guessed, so failures need no counting here; the API still
      // rate-limits the route like any other.
      if (used || now() >= expiresAt) return false;
      if (!timingSafeEqual(digest(candidate), expected)) return false;
      used = true;
      return true;
    },
  };
}
