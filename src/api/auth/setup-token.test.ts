import { describe, expect, it } from 'vitest';

import { createSetupToken } from './setup-token.js';

describe('createSetupToken', () => {
  it('makes a random 32-byte token that verifies once only', () => {
    const setup = createSetupToken();
    expect(Buffer.from(setup.token, 'base64url')).toHaveLength(32);
    expect(createSetupToken().token).not.toBe(setup.token);
    expect(setup.verify(setup.token)).toBe(true);
    expect(setup.verify(setup.token)).toBe(false);
  });

  it('refuses wrong candidates without using the token up', () => {
    const setup = createSetupToken();
    const almost = `${setup.token.slice(0, -1)}${setup.token.endsWith('A') ? 'B' : 'A'}`;
    for (const wrong of [
      '',
      'x',
      almost,
      setup.token.slice(0, 20),
      `${setup.token}x`,
      setup.token.toUpperCase(),
    ]) {
      expect(setup.verify(wrong)).toBe(false);
    }
    expect(setup.verify(setup.token)).toBe(true);
  });

  it('expires after its lifetime (one hour by default)', () => {
    const clock = { now: 1_700_000_000_000 };
    const setup = createSetupToken({ now: () => clock.now });
    expect(setup.expiresAt).toBe(clock.now + 3_600_000);
    clock.now += 3_600_000;
    expect(setup.verify(setup.token)).toBe(false);

    const short = createSetupToken({ ttlSeconds: 60, now: () => clock.now });
    clock.now += 59_999;
    expect(short.verify(short.token)).toBe(true);
  });

  it('refuses a nonsense lifetime', () => {
    expect(() => createSetupToken({ ttlSeconds: 0 })).toThrow(RangeError);
  });
});
