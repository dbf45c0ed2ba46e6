import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';

import type { RefreshTokenRecord, RefreshTokenRepository } from '../../store/refresh-token-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { TokenRejectedError, TokenService, hashRefreshToken, issuedBefore } from './token-service.js';
import type { TokenServiceOptions, TokenUserState } from './token-service.js';

/**
 * In-memory RefreshTokenRepository for these unit tests only: the real one is in src/store and has
 * its own tests against SQLite and PostgreSQL.
 */
function inMemoryRefreshTokens(): RefreshTokenRepository & { records: Map<string, RefreshTokenRecord> } {
  const records = new Map<string, RefreshTokenRecord>();
  return {
    records,
    insert(record) {
      records.set(record.tokenHash, { ...record, revokedAt: null });
      return Promise.resolve();
    },
    find(tokenHash) {
      const record = records.get(tokenHash);
      return Promise.resolve(record ? { ...record } : null);
    },
    revoke(tokenHash, at) {
      const record = records.get(tokenHash);
      if (!record || record.revokedAt !== null) return Promise.resolve(false);
      record.revokedAt = at;
      return Promise.resolve(true);
    },
    revokeFamily(family, at) {
      for (const record of records.values()) {
        if (record.family === family && record.revokedAt === null) record.revokedAt = at;
      }
      return Promise.resolve();
    },
    revokeAllForUser(userId, at) {
      for (const record of records.values()) {
        if (record.userId === userId && record.revokedAt === null) record.revokedAt = at;
      }
      return Promise.resolve();
    },
  };
}

const KEY = new Uint8Array(32).fill(0x5a);
const OTHER_KEY = new Uint8Array(32).fill(0xa5);
const START = Date.UTC(2025, 0, 15, 12, 0, 0);
const ALICE: TokenUserState = { id: 7, username: 'alice', role: 'analyst', disabled: false };

function setup(overrides: Partial<TokenServiceOptions> = {}) {
  const clock = { now: START };
  const refreshTokens = inMemoryRefreshTokens();
  const users = new Map<number, TokenUserState>([[ALICE.id, { ...ALICE }]]);
  const service = new TokenService({
    key: KEY,
    refreshTokens,
    accessTtlSeconds: 900,
    refreshTtlSeconds: 86_400,
    issuer: 'flowtrack',
    now: () => clock.now,
    ...overrides,
  });
  const loadUser = (id: number): Promise<TokenUserState | null> => Promise.resolve(users.get(id) ?? null);
  return { clock, refreshTokens, users, service, loadUser };
}

async function rejection(promise: Promise<unknown>): Promise<TokenRejectedError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TokenRejectedError) return err;
    throw err;
  }
  throw new Error('expected the token to be refused');
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function validClaims(nowMs: number): Record<string, unknown> {
  const iat = Math.floor(nowMs / 1000);
  return {
    sub: '7',
    username: 'alice',
    role: 'admin',
    typ: 'access',
    jti: 'f4b0c1de-0000-4000-8000-000000000000',
    iss: 'flowtrack',
    aud: 'flowtrack-api',
    iat,
    exp: iat + 900,
  };
}

describe('TokenService access tokens', () => {
  it('issues an HS256 JWT with the expected claims that verifies', async () => {
    const { service } = setup();
    const issued = await service.issue(ALICE);
    const [header, payload] = issued.accessToken.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    expect(JSON.parse(Buffer.from(payload!, 'base64url').toString())).toMatchObject({
      sub: '7',
      username: 'alice',
      role: 'analyst',
      typ: 'access',
      iss: 'flowtrack',
      aud: 'flowtrack-api',
      iat: START / 1000,
      exp: START / 1000 + 900,
    });
    expect(issued.accessExpiresAt).toBe(START + 900_000);
    expect(issued.refreshExpiresAt).toBe(START + 86_400_000);

    const verified = await service.verifyAccess(issued.accessToken);
    expect(verified).toMatchObject({ userId: 7, username: 'alice', role: 'analyst', iat: START / 1000 });
    expect(verified.jti).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('gives each token its own jti', async () => {
    const { service } = setup();
    const a = await service.verifyAccess((await service.issue(ALICE)).accessToken);
    const b = await service.verifyAccess((await service.issue(ALICE)).accessToken);
    expect(a.jti).not.toBe(b.jti);
  });

  it('refuses an expired token (after the 5 s clock tolerance) as expired', async () => {
    const { service, clock } = setup();
    const { accessToken } = await service.issue(ALICE);
    clock.now = START + 900_000 + 4_000;
    await expect(service.verifyAccess(accessToken)).resolves.toMatchObject({ userId: 7 });
    clock.now = START + 900_000 + 6_000;
    const err = await rejection(service.verifyAccess(accessToken));
    expect(err.reason).toBe('expired');
    expect(err.code).toBe(ErrorCode.UNAUTHORIZED);
    expect(err).toBeInstanceOf(FlowTrackError);
  });

  it('refuses a token issued in the future or older than the configured lifetime', async () => {
    const { service, clock } = setup();
    const { accessToken } = await service.issue(ALICE);
    clock.now = START - 60_000;
    expect((await rejection(service.verifyAccess(accessToken))).reason).toBe('bad_claims');

    // Minted under a 1 h lifetime, checked by a server restarted with 15 min.
    const longLived = setup({ accessTtlSeconds: 3600 });
    const token = (await longLived.service.issue(ALICE)).accessToken;
    clock.now = START + 20 * 60_000;
    expect((await rejection(service.verifyAccess(token))).reason).toBe('expired');
  });

  it('refuses a tampered payload that keeps the original signature', async () => {
    const { service } = setup();
    const { accessToken } = await service.issue(ALICE);
    const [header, payload, signature] = accessToken.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
    claims['role'] = 'admin';
    const forged = `${header!}.${b64url(claims)}.${signature!}`;
    expect((await rejection(service.verifyAccess(forged))).reason).toBe('invalid_signature');
  });

  it('refuses a tampered signature', async () => {
    const { service } = setup();
    const { accessToken } = await service.issue(ALICE);
    const [header, payload, signature] = accessToken.split('.');
    const bytes = Buffer.from(signature!, 'base64url');
    bytes[0] = bytes[0]! ^ 0x01;
    const forged = `${header!}.${payload!}.${bytes.toString('base64url')}`;
    expect((await rejection(service.verifyAccess(forged))).reason).toBe('invalid_signature');
  });

  it('refuses an alg:none token built by hand', async () => {
    const { service, clock } = setup();
    const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(validClaims(clock.now))}.`;
    expect(['bad_algorithm', 'malformed']).toContain(
      (await rejection(service.verifyAccess(unsigned))).reason,
    );
    expect((await rejection(service.verifyAccess(unsigned))).reason).toBe('bad_algorithm');
    // Without the trailing dot it is not even a compact JWS.
    const twoParts = `${b64url({ alg: 'none' })}.${b64url(validClaims(clock.now))}`;
    expect((await rejection(service.verifyAccess(twoParts))).reason).toBe('malformed');
  });

  it('refuses other HMAC algorithms, even with the right key', async () => {
    const { service, clock } = setup();
    const hs512 = await new SignJWT(validClaims(clock.now)).setProtectedHeader({ alg: 'HS512' }).sign(KEY);
    expect((await rejection(service.verifyAccess(hs512))).reason).toBe('bad_algorithm');
  });

  it('refuses an HS256 token signed with another key', async () => {
    const { service, clock } = setup();
    const foreign = await new SignJWT(validClaims(clock.now))
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(OTHER_KEY);
    expect((await rejection(service.verifyAccess(foreign))).reason).toBe('invalid_signature');
  });

  it.each([
    ['another issuer', { iss: 'someone-else' }],
    ['another audience', { aud: 'other-api' }],
    ['a refresh-typed token', { typ: 'refresh' }],
    ['no typ', { typ: undefined }],
    ['an unknown role', { role: 'root' }],
    ['a non-numeric subject', { sub: 'alice' }],
    ['no jti', { jti: undefined }],
    ['no exp', { exp: undefined }],
    ['an empty user name', { username: '' }],
  ])('refuses a correctly signed token with %s as bad_claims', async (_label, change) => {
    const { service, clock } = setup();
    const token = await new SignJWT({ ...validClaims(clock.now), ...change })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(KEY);
    expect((await rejection(service.verifyAccess(token))).reason).toBe('bad_claims');
  });

  it.each(['', 'abc', 'a.b.c', '....', 'x'.repeat(10_000)])(
    'refuses garbage %# as malformed',
    async (token) => {
      const { service } = setup();
      expect((await rejection(service.verifyAccess(token))).reason).toBe('malformed');
    },
  );

  it('never puts the token in the error message', async () => {
    const { service, clock } = setup();
    const { accessToken } = await service.issue(ALICE);
    clock.now += 3_600_000;
    const err = await rejection(service.verifyAccess(accessToken));
    expect(err.message).not.toContain(accessToken);
    expect(err.message).not.toContain(accessToken.split('.')[1]);
  });

  it('lets the API refuse access tokens issued before a password change', async () => {
    const { service, clock } = setup();
    const before = await service.verifyAccess((await service.issue(ALICE)).accessToken);
    clock.now += 2_500;
    const changedAt = clock.now;
    expect(issuedBefore(before, changedAt)).toBe(true);
    const after = await service.verifyAccess((await service.issue(ALICE)).accessToken);
    expect(issuedBefore(after, changedAt)).toBe(false);
  });

  it('refuses a short key and overlong lifetimes at construction', () => {
    const refreshTokens = inMemoryRefreshTokens();
    expect(() => new TokenService({ key: new Uint8Array(16), refreshTokens })).toThrow(/at least 32/);
    expect(() => new TokenService({ key: KEY, refreshTokens, accessTtlSeconds: 86_400 })).toThrow(
      FlowTrackError,
    );
    expect(
      () => new TokenService({ key: KEY, refreshTokens, accessTtlSeconds: 900, refreshTtlSeconds: 60 }),
    ).toThrow(FlowTrackError);
  });
});

describe('TokenService refresh tokens', () => {
  it('stores only the SHA-256 of an opaque 32-byte refresh token', async () => {
    const { service, refreshTokens } = setup();
    const { refreshToken } = await service.issue(ALICE);
    expect(Buffer.from(refreshToken, 'base64url')).toHaveLength(32);
    const [stored] = [...refreshTokens.records.values()];
    expect(stored).toMatchObject({ tokenHash: hashRefreshToken(refreshToken), userId: 7, revokedAt: null });
    expect(stored!.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify([...refreshTokens.records.values()])).not.toContain(refreshToken);
  });

  it('rotates: a refresh gives a new pair in the same family and revokes the old token', async () => {
    const { service, refreshTokens, loadUser, clock } = setup();
    const first = await service.issue(ALICE);
    clock.now += 60_000;
    const second = await service.refresh(first.refreshToken, loadUser);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.refreshExpiresAt).toBe(clock.now + 86_400_000);
    const oldRecord = refreshTokens.records.get(hashRefreshToken(first.refreshToken))!;
    const newRecord = refreshTokens.records.get(hashRefreshToken(second.refreshToken))!;
    expect(oldRecord.revokedAt).toBe(clock.now);
    expect(newRecord.revokedAt).toBeNull();
    expect(newRecord.family).toBe(oldRecord.family);
    await expect(service.verifyAccess(second.accessToken)).resolves.toMatchObject({ userId: 7 });
    const third = await service.refresh(second.refreshToken, loadUser);
    expect(third.refreshToken).not.toBe(second.refreshToken);
  });

  it('puts the current role in the refreshed access token', async () => {
    const { service, users, loadUser } = setup();
    const first = await service.issue(ALICE);
    users.set(7, { ...ALICE, role: 'viewer' });
    const second = await service.refresh(first.refreshToken, loadUser);
    expect((await service.verifyAccess(second.accessToken)).role).toBe('viewer');
  });

  it('detects reuse of a rotated token and revokes the whole family, newest token included', async () => {
    const { service, loadUser } = setup();
    const first = await service.issue(ALICE);
    const second = await service.refresh(first.refreshToken, loadUser);
    const reuse = await rejection(service.refresh(first.refreshToken, loadUser));
    expect(reuse.reason).toBe('reused');
    expect(reuse.userId).toBe(7);
    expect((await rejection(service.refresh(second.refreshToken, loadUser))).reason).toBe('reused');
  });

  it('leaves other logins (families) of the same user alone on reuse', async () => {
    const { service, loadUser } = setup();
    const laptop = await service.issue(ALICE);
    const phone = await service.issue(ALICE);
    await service.refresh(laptop.refreshToken, loadUser);
    await rejection(service.refresh(laptop.refreshToken, loadUser));
    await expect(service.refresh(phone.refreshToken, loadUser)).resolves.toHaveProperty('accessToken');
  });

  it('lets only one of two concurrent refreshes with the same token through', async () => {
    const { service, loadUser } = setup();
    const { refreshToken } = await service.issue(ALICE);
    const results = await Promise.allSettled([
      service.refresh(refreshToken, loadUser),
      service.refresh(refreshToken, loadUser),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('refuses a refresh token after logout', async () => {
    const { service, loadUser } = setup();
    const { refreshToken } = await service.issue(ALICE);
    expect(await service.logout(refreshToken)).toBe(true);
    const err = await rejection(service.refresh(refreshToken, loadUser));
    expect(err.reason).toBe('reused');
    expect(await service.logout(refreshToken)).toBe(true);
    expect(await service.logout('never-issued')).toBe(false);
  });

  it('logout with any token of a login ends that login', async () => {
    const { service, loadUser } = setup();
    const first = await service.issue(ALICE);
    const second = await service.refresh(first.refreshToken, loadUser);
    await service.logout(first.refreshToken);
    expect((await rejection(service.refresh(second.refreshToken, loadUser))).reason).toBe('reused');
  });

  it('revokes every login of a user on password change', async () => {
    const { service, loadUser, users } = setup();
    users.set(8, { id: 8, username: 'bob', role: 'viewer', disabled: false });
    const laptop = await service.issue(ALICE);
    const phone = await service.issue(ALICE);
    const bob = await service.issue({ id: 8, username: 'bob', role: 'viewer' });
    await service.revokeAllForUser(7);
    expect((await rejection(service.refresh(laptop.refreshToken, loadUser))).reason).toBe('reused');
    expect((await rejection(service.refresh(phone.refreshToken, loadUser))).reason).toBe('reused');
    await expect(service.refresh(bob.refreshToken, loadUser)).resolves.toHaveProperty('refreshToken');
  });

  it('refuses unknown and expired refresh tokens', async () => {
    const { service, loadUser, clock } = setup();
    expect((await rejection(service.refresh('A'.repeat(43), loadUser))).reason).toBe('unknown');
    expect((await rejection(service.refresh('not a token', loadUser))).reason).toBe('unknown');
    const { refreshToken, accessToken } = await service.issue(ALICE);
    clock.now += 86_400_000;
    const err = await rejection(service.refresh(refreshToken, loadUser));
    expect(err.reason).toBe('expired');
    expect(err.message).not.toContain(refreshToken);
    expect(err.message).not.toContain(accessToken);
  });

  it('refuses a disabled or deleted user and revokes the login', async () => {
    const { service, loadUser, users } = setup();
    const first = await service.issue(ALICE);
    users.set(7, { ...ALICE, disabled: true });
    expect((await rejection(service.refresh(first.refreshToken, loadUser))).reason).toBe('user_unavailable');
    users.set(7, { ...ALICE });
    expect((await rejection(service.refresh(first.refreshToken, loadUser))).reason).toBe('reused');

    const second = await service.issue(ALICE);
    users.delete(7);
    expect((await rejection(service.refresh(second.refreshToken, loadUser))).reason).toBe('user_unavailable');
  });
});
