import { parseOptions } from '@node-rs/argon2';
import { describe, expect, it } from 'vitest';

import {
  DUMMY_HASH,
  MAX_PASSWORD_LENGTH,
  checkPasswordPolicy,
  hashPassword,
  isUsableHash,
  needsRehash,
  verifyPassword,
  verifyPasswordOrDummy,
} from './passwords.js';

// argon2id is slow on purpose (~20 ms a hash): each test makes only a few.

describe('hashPassword / verifyPassword', () => {
  it('makes argon2id hashes with the OWASP parameters that verify the right password only', async () => {
    const stored = await hashPassword('river gravel lantern 42');
    expect(stored.startsWith('$argon2id$')).toBe(true);
    expect(stored).toContain('m=19456,t=2,p=1');
    expect(needsRehash(stored)).toBe(false);
    expect(await verifyPassword(stored, 'river gravel lantern 42')).toBe(true);
    expect(await verifyPassword(stored, 'river gravel lantern 43')).toBe(false);
    expect(await verifyPassword(stored, '')).toBe(false);
  });

  it('salts each hash', async () => {
    const a = await hashPassword('same passphrase here');
    const b = await hashPassword('same passphrase here');
    expect(a).not.toBe(b);
  });

  it('treats composed and decomposed accents as the same password (NFKC)', async () => {
    const stored = await hashPassword('caf\u00e9 au lait forever');
    expect(await verifyPassword(stored, 'cafe\u0301 au lait forever')).toBe(true);
  });

  it('refuses corrupt, foreign and memory-bomb hashes without computing them', async () => {
    expect(await verifyPassword('not a hash', 'whatever password')).toBe(false);
    expect(await verifyPassword('', 'whatever password')).toBe(false);
    // Would ask for 4 TiB of memory if computed.
    const bomb =
      '$argon2id$v=19$m=4000000000,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$YWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWJjZGVmYWI';
    expect(isUsableHash(bomb)).toBe(false);
    expect(await verifyPassword(bomb, 'whatever password')).toBe(false);
    expect(isUsableHash(DUMMY_HASH.replace('$argon2id$', '$argon2i$'))).toBe(false);
    expect(needsRehash('not a hash')).toBe(true);
  });

  it('refuses passwords over the maximum length before hashing', async () => {
    const stored = await hashPassword('x'.repeat(MAX_PASSWORD_LENGTH + 1));
    expect(await verifyPassword(stored, 'x'.repeat(MAX_PASSWORD_LENGTH + 1))).toBe(false);
  });
});

describe('verifyPasswordOrDummy', () => {
  it('keeps the dummy hash on the same parameters as real hashes', () => {
    const dummy = parseOptions(DUMMY_HASH);
    expect(dummy).toMatchObject({ memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 2 });
    expect(isUsableHash(DUMMY_HASH)).toBe(true);
  });

  it('verifies a real user and refuses an unknown or corrupt one', async () => {
    const stored = await hashPassword('orchard compass violet');
    expect(await verifyPasswordOrDummy(stored, 'orchard compass violet')).toBe(true);
    expect(await verifyPasswordOrDummy(stored, 'orchard compass violets')).toBe(false);
    expect(await verifyPasswordOrDummy(null, 'orchard compass violet')).toBe(false);
    expect(await verifyPasswordOrDummy('corrupt', 'orchard compass violet')).toBe(false);
  });

  it('spends an argon2 verification on an unknown user too (no timing shortcut)', async () => {
    const stored = await hashPassword('timing check passphrase');
    const time = async (f: () => Promise<boolean>): Promise<number> => {
      const start = performance.now();
      await f();
      return performance.now() - start;
    };
    // Warm up both paths, then compare the faster of three runs each.
    await verifyPasswordOrDummy(stored, 'wrong guess one');
    await verifyPasswordOrDummy(null, 'wrong guess one');
    const known: number[] = [];
    const unknown: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time(() => verifyPasswordOrDummy(stored, 'wrong guess two')));
      unknown.push(await time(() => verifyPasswordOrDummy(null, 'wrong guess two')));
    }
    // A shortcut would be ~1000x faster; a loose ratio keeps a busy machine from failing the test.
    expect(Math.min(...unknown)).toBeGreaterThan(Math.min(...known) * 0.3);
  });
});

describe('checkPasswordPolicy', () => {
  it('accepts a long passphrase', () => {
    expect(checkPasswordPolicy('tangerine kettle drizzle 7', 'alice')).toEqual([]);
    expect(checkPasswordPolicy('Zq7#mW2!vL9@pR4$', 'bob')).toEqual([]);
  });

  it('refuses short passwords, counting code points (not UTF-16 units)', () => {
    expect(checkPasswordPolicy('short', 'alice')).toEqual([expect.stringContaining('at least 12')]);
    // Six emoji are twelve UTF-16 units but six characters.
    expect(checkPasswordPolicy('\u{1F600}'.repeat(6), 'alice')).toEqual([
      expect.stringContaining('has 6 characters'),
    ]);
  });

  it('refuses overlong passwords', () => {
    expect(checkPasswordPolicy('ab1-'.repeat(300), 'alice')).toEqual([
      expect.stringContaining('at most 1024'),
    ]);
  });

  it('refuses passwords that contain the user name, in any case', () => {
    expect(checkPasswordPolicy('my name is Alice-Smith ok', 'alice-smith')).toEqual([
      expect.stringContaining('user name'),
    ]);
    // Too short a name to mean anything is not checked.
    expect(checkPasswordPolicy('tangerine kettle drizzle 7', 'al')).toEqual([]);
  });

  it.each([
    'password1234',
    'Password123!',
    '!!admin123456',
    'QWERTYUIOP123',
    '123456789012',
    'abcdefghijklmn',
    '098765432109',
    'aaaaaaaaaaaa',
    'abcabcabcabc',
    'flowtrack2024!',
  ])('refuses the common or patterned password %s', (password) => {
    expect(checkPasswordPolicy(password, 'carol')).toEqual([expect.stringContaining('too common')]);
  });

  it('can report several problems at once', () => {
    expect(checkPasswordPolicy('dave-password', 'dave')).toHaveLength(1);
    expect(checkPasswordPolicy('eve', 'eve')).toHaveLength(2);
  });
});
