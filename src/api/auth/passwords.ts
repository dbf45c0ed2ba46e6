/**
 * Password hashing, checking and policy for FlowTrack's users. Hashes are argon2id with the
 * OWASP Password Storage Cheat Sheet's first configuration (m=19456 KiB, t=2, p=1): about 20 ms
 * and 19 MiB per hash on a current x86 core, slow enough to make offline guessing expensive and
 * cheap enough for a login form.
 * This module must never log, return or put a password in an error message, and must never tell
 * a caller (or a stopwatch) whether a user name exists.
 */

import { hash, parseOptions, verify } from '@node-rs/argon2';
import type { Algorithm, Options } from '@node-rs/argon2';

/** Fewer characters than this is refused (NIST SP 800-63B allows 8; an admin console deserves more). */
export const MIN_PASSWORD_LENGTH = 12;
/** More characters than this is refused: long enough for any passphrase, short enough to bound the work. */
export const MAX_PASSWORD_LENGTH = 1024;

// The binding declares `Algorithm` as a `const enum` and does not export its values at run time,
// so the number is written out: 2 is Argon2id in @node-rs/argon2's enum (a test checks the hashes
// it makes start with $argon2id$).
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum has no run-time value to use
const ARGON2ID = 2 as Algorithm;

/** OWASP's argon2id parameters (Password Storage Cheat Sheet, first of its equivalent choices). */
const HASH_OPTIONS: Readonly<Options> = Object.freeze({
  algorithm: ARGON2ID,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

// A stored hash chooses its own parameters; one with m=4 TiB would take the process down (measured:
// the kernel kills it). FlowTrack only ever writes the parameters above, so anything far beyond
// them is corrupt or planted and is treated as a wrong password instead of being computed.
const MAX_MEMORY_COST_KIB = 262_144;
const MAX_TIME_COST = 10;
const MAX_PARALLELISM = 8;

/**
 * Hash of a random password nobody knows, made with HASH_OPTIONS. Verifying against it spends the
 * same time as verifying a real user's hash, so "no such user" and "wrong password" cannot be told
 * apart by timing. A test checks its parameters still equal HASH_OPTIONS.
 */
export const DUMMY_HASH =
  '$argon2id$v=19$m=19456,t=2,p=1$s33eKlkq97FEWVcg+H1giQ$CnzCLKVTrHEmQfWAAzZ0V4f1pyuH674RnFd4myg4ms0';

// NIST SP 800-63B 5.1.1.2: normalise Unicode before hashing so the same passphrase typed on two
// keyboards (composed or decomposed accents, full-width digits) is the same password.
function normalise(password: string): string {
  return password.normalize('NFKC');
}

// NIST counts characters as code points: an emoji is one, not the two UTF-16 units of `length`.
function codePointLength(text: string): number {
  return text.replace(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g, '_').length;
}

/** Hashes `password` with argon2id (m=19456 KiB, t=2, p=1, random 16-byte salt) in PHC string form. */
export async function hashPassword(password: string): Promise<string> {
  return hash(normalise(password), HASH_OPTIONS);
}

/**
 * True when `storedHash` is an argon2id hash this module could have written: right algorithm,
 * parameters within bounds. Anything else is never computed.
 */
export function isUsableHash(storedHash: string): boolean {
  let options;
  try {
    options = parseOptions(storedHash);
  } catch {
    return false;
  }
  return (
    options.algorithm === ARGON2ID &&
    options.memoryCost <= MAX_MEMORY_COST_KIB &&
    options.timeCost <= MAX_TIME_COST &&
    options.parallelism <= MAX_PARALLELISM
  );
}

/** True when `storedHash` was made with other parameters than today's: rehash at the next login. */
export function needsRehash(storedHash: string): boolean {
  try {
    const options = parseOptions(storedHash);
    return (
      options.algorithm !== HASH_OPTIONS.algorithm ||
      options.memoryCost !== HASH_OPTIONS.memoryCost ||
      options.timeCost !== HASH_OPTIONS.timeCost ||
      options.parallelism !== HASH_OPTIONS.parallelism
    );
  } catch {
    return true;
  }
}

/**
 * True when `password` matches `storedHash`. A hash that is not usable (see `isUsableHash`) counts
 * as a mismatch rather than an error: a login must fail closed, never crash or exhaust memory.
 */
export async function verifyPassword(storedHash: string, password: string): Promise<boolean> {
  if (codePointLength(password) > MAX_PASSWORD_LENGTH) return false;
  if (!isUsableHash(storedHash)) return false;
  try {
    return await verify(storedHash, normalise(password));
  } catch {
    return false;
  }
}

/**
 * Login's check: verifies against `storedHash`, or, when the user does not exist (`null`) or the
 * stored hash is unusable, against DUMMY_HASH and returns false. Both paths run one argon2id
 * verification with the same parameters, so response time does not reveal which user names exist.
 */
export async function verifyPasswordOrDummy(storedHash: string | null, password: string): Promise<boolean> {
  // Too long is refused before hashing for every user alike, so it reveals nothing about the user.
  if (codePointLength(password) > MAX_PASSWORD_LENGTH) return false;
  if (storedHash !== null && isUsableHash(storedHash)) {
    return verifyPassword(storedHash, password);
  }
  try {
    await verify(DUMMY_HASH, normalise(password));
  } catch {
    // Nothing to learn from the dummy: the answer is false either way.
  }
  return false;
}

// Passwords that meet the length rule yet are among the first tried by every guessing tool
// (from public breach corpora such as SecLists' top lists), compared case-insensitively.
const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012',
  '1234567890123',
  '12345678901234',
  '123456123456',
  '123123123123',
  '111111111111',
  '000000000000',
  '123451234512345',
  'qwertyuiop123',
  'qwerty123456',
  'qwertyuiopasdfgh',
  '1q2w3e4r5t6y',
  '1qaz2wsx3edc',
  '1qaz2wsx3edc4rfv',
  'zaq12wsxcde3',
  'passwordpassword',
  'password1234',
  'password12345',
  'password123456',
  'iloveyou1234',
  'letmeinletmein',
  'welcome12345',
  'administrator',
  'administrator1',
  'changemeplease',
  'correcthorsebatterystaple',
  'trustno1trustno1',
]);

// Words that, padded with digits and punctuation to reach the length, still fall to the first
// minutes of a dictionary attack ("Password123!", "!!admin123456").
const COMMON_WORDS: readonly string[] = [
  'password',
  'passw0rd',
  'p@ssw0rd',
  'qwerty',
  'letmein',
  'welcome',
  'admin',
  'administrator',
  'changeme',
  'iloveyou',
  'secret',
  'monkey',
  'dragon',
  'master',
  'football',
  'baseball',
  'sunshine',
  'princess',
  'flowtrack',
];

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

// Runs of these in order ("abcdefghijkl", "987654321098") are as weak as a dictionary word.
const SEQUENCES: readonly string[] = [
  '01234567890123456789',
  'abcdefghijklmnopqrstuvwxyz',
  'qwertyuiopasdfghjklzxcvbnm',
];

const PADDED_COMMON_WORD = new RegExp(
  `^[\\d\\W_]*(?:${COMMON_WORDS.map(escapeRegExp).join('|')})[\\d\\W_]*$`,
  'u',
);

function isCommon(lower: string): boolean {
  if (COMMON_PASSWORDS.has(lower) || PADDED_COMMON_WORD.test(lower)) return true;
  const reversed = Array.from(lower).reverse().join('');
  for (const sequence of SEQUENCES) {
    const doubled = sequence + sequence;
    if (doubled.includes(lower) || doubled.includes(reversed)) return true;
  }
  // One character repeated, or a short block repeated ("abcabcabcabc"): no more than its block.
  return /^(.{1,4})\1+$/su.test(lower);
}

/**
 * The problems that keep `password` from being accepted for user `username`, as sentences a user
 * can act on; an empty list means it is acceptable. Rules: 12 to 1024 characters (Unicode code
 * points, after NFKC normalisation), not containing the user name, not a well-known or trivially
 * patterned password. No composition rules (NIST SP 800-63B: they make passwords worse, not better).
 */
export function checkPasswordPolicy(password: string, username: string): string[] {
  const problems: string[] = [];
  const normalised = normalise(password);
  const length = codePointLength(normalised);
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push(
      `The password has ${length} characters; use at least ${MIN_PASSWORD_LENGTH} (a few unrelated words make a good one).`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push(`The password has ${length} characters; use at most ${MAX_PASSWORD_LENGTH}.`);
  }
  const lower = normalised.toLowerCase();
  const name = normalise(username).trim().toLowerCase();
  // A one- or two-letter name would forbid half the alphabet; three letters is where it means something.
  if (name.length >= 3 && lower.includes(name)) {
    problems.push('The password contains the user name; choose one that does not.');
  }
  if (length >= MIN_PASSWORD_LENGTH && length <= MAX_PASSWORD_LENGTH && isCommon(lower)) {
    problems.push('The password is too common or too simple a pattern to resist guessing; choose another.');
  }
  return problems;
}
