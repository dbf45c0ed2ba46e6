/**
 * Issues and checks the tokens of FlowTrack's API: a short-lived access token (a JWT signed with
 * HS256) sent with every request, and an opaque refresh token that buys a new pair. Refresh tokens
 * rotate on every use; presenting one that was already used or revoked revokes its whole family,
 * because then two parties hold it and one of them is not the user (OAuth 2.0 Security BCP, RFC 9700
 * section 4.14.2).
 *
 * Access tokens are not individually revocable: they live `accessTtlSeconds` (15 minutes by default,
 * at most one hour) and nothing is looked up per request. Logout and a password change revoke the
 * refresh tokens, so no new access token follows; to cut the remaining minutes after a password
 * change the API compares the token's `iat` with the user's `passwordChangedAt` (see `issuedBefore`).
 *
 * This module must never log or put a token, a token hash or the key in an error message, must never
 * accept an algorithm other than HS256, and never stores a refresh token, only its SHA-256.
 */

import { createHash, randomBytes, randomUUID } from 'node:crypto';

import { SignJWT, errors, jwtVerify } from 'jose';

import type { RefreshTokenRepository } from '../../store/refresh-token-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { isRole } from './roles.js';
import type { Role } from './roles.js';
import { MIN_SIGNING_KEY_BYTES } from './signing-key.js';

/** Default access token lifetime: 15 minutes. */
export const DEFAULT_ACCESS_TTL_SECONDS = 15 * 60;
/** Default refresh token lifetime: 7 days, renewed by each rotation. */
export const DEFAULT_REFRESH_TTL_SECONDS = 7 * 24 * 60 * 60;
/** The `aud` claim of every access token: only FlowTrack's API accepts them. */
export const ACCESS_TOKEN_AUDIENCE = 'flowtrack-api';

// Not revocable, so not long: an hour is the most a stolen access token may be worth.
const MAX_ACCESS_TTL_SECONDS = 60 * 60;
const MAX_REFRESH_TTL_SECONDS = 90 * 24 * 60 * 60;
// Servers and browsers disagree by a second or two; more would lengthen every token's life.
const CLOCK_TOLERANCE_SECONDS = 5;
// A real access token is ~350 bytes; anything far longer is refused before it is parsed.
const MAX_ACCESS_TOKEN_LENGTH = 4096;
const REFRESH_TOKEN_BYTES = 32;
const REFRESH_TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const USER_ID_SHAPE = /^(?:0|[1-9][0-9]{0,15})$/;

/** Why an access token was refused. */
export type AccessTokenRejection =
  'expired' | 'invalid_signature' | 'malformed' | 'bad_algorithm' | 'bad_claims';

/**
 * Why a refresh token was refused. 'reused' means it had already been rotated or revoked (by logout
 * or a password change): its family has now been revoked.
 */
export type RefreshTokenRejection = 'unknown' | 'expired' | 'reused' | 'user_unavailable';

/**
 * UNAUTHORIZED with a machine-readable `reason` (and the user, when the token names one) so the API
 * can record a security event without the token. The message is safe to show.
 */
export class TokenRejectedError extends FlowTrackError {
  readonly reason: AccessTokenRejection | RefreshTokenRejection;
  /** The user the refused refresh token belonged to, when known. */
  readonly userId: number | null;

  constructor(
    reason: AccessTokenRejection | RefreshTokenRejection,
    message: string,
    options?: { cause?: unknown; userId?: number },
  ) {
    super(ErrorCode.UNAUTHORIZED, message, options);
    this.reason = reason;
    this.userId = options?.userId ?? null;
  }
}

/** The user a token pair is issued to. */
export interface TokenSubject {
  id: number;
  username: string;
  role: Role;
}

/** A user as `refresh` needs to see it now (role may have changed since the last login). */
export interface TokenUserState extends TokenSubject {
  disabled: boolean;
}

/** A new access and refresh token; times are epoch milliseconds. */
export interface IssuedTokens {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
  refreshExpiresAt: number;
}

/** What a valid access token says. `iat` and `exp` are epoch seconds, as in the token. */
export interface VerifiedAccessToken {
  userId: number;
  username: string;
  role: Role;
  jti: string;
  iat: number;
  exp: number;
}

export interface TokenServiceOptions {
  /** HS256 secret, at least 32 bytes (see `loadOrCreateSigningKey`). */
  key: Uint8Array;
  refreshTokens: RefreshTokenRepository;
  /** Default 900 (15 minutes); at most 3600. */
  accessTtlSeconds?: number;
  /** Default 7 days; at least the access lifetime, at most 90 days. */
  refreshTtlSeconds?: number;
  /** The `iss` claim; default 'flowtrack'. */
  issuer?: string;
  /** Wall-clock epoch milliseconds; injectable for tests. */
  now?: () => number;
}

/**
 * True when the access token was issued before `instantMs` (e.g. the user's passwordChangedAt), so
 * the API should refuse it. `iat` has one-second precision: a token from the same second as the
 * change is kept, or the pair issued right after a password change would be refused.
 */
export function issuedBefore(access: VerifiedAccessToken, instantMs: number): boolean {
  return access.iat < Math.floor(instantMs / 1000);
}

/** SHA-256 hex of a refresh token: the only form in which it is stored. */
export function hashRefreshToken(refreshToken: string): string {
  return createHash('sha256').update(refreshToken, 'utf8').digest('hex');
}

/** Issues, verifies, rotates and revokes FlowTrack's tokens. */
export class TokenService {
  readonly #key: Uint8Array;
  readonly #refreshTokens: RefreshTokenRepository;
  readonly #accessTtlSeconds: number;
  readonly #refreshTtlSeconds: number;
  readonly #issuer: string;
  readonly #now: () => number;

  constructor(options: TokenServiceOptions) {
    const accessTtl = options.accessTtlSeconds ?? DEFAULT_ACCESS_TTL_SECONDS;
    const refreshTtl = options.refreshTtlSeconds ?? DEFAULT_REFRESH_TTL_SECONDS;
    if (options.key.length < MIN_SIGNING_KEY_BYTES) {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        `The token signing key has ${options.key.length} bytes; it needs at least ${MIN_SIGNING_KEY_BYTES}.`,
      );
    }
    if (!Number.isInteger(accessTtl) || accessTtl < 1 || accessTtl > MAX_ACCESS_TTL_SECONDS) {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        `The access token lifetime is ${accessTtl} s; use a whole number of seconds from 1 to ${MAX_ACCESS_TTL_SECONDS} ` +
          `(access tokens cannot be revoked, so they must be short-lived).`,
      );
    }
    if (!Number.isInteger(refreshTtl) || refreshTtl < accessTtl || refreshTtl > MAX_REFRESH_TTL_SECONDS) {
      throw new FlowTrackError(
        ErrorCode.BAD_CONFIG,
        `The refresh token lifetime is ${refreshTtl} s; use a whole number of seconds from the access ` +
          `token lifetime (${accessTtl}) to ${MAX_REFRESH_TTL_SECONDS}.`,
      );
    }
    // A copy: the caller's buffer could be zeroed or reused after construction.
    this.#key = new Uint8Array(options.key);
    this.#refreshTokens = options.refreshTokens;
    this.#accessTtlSeconds = accessTtl;
    this.#refreshTtlSeconds = refreshTtl;
    this.#issuer = options.issuer ?? 'flowtrack';
    this.#now = options.now ?? Date.now;
  }

  /** A new token pair for a user who just signed in, starting a new refresh token family. */
  async issue(user: TokenSubject): Promise<IssuedTokens> {
    return this.#issueInFamily(user, randomUUID());
  }

  /**
   * Checks an access token and returns its claims. Throws TokenRejectedError (UNAUTHORIZED) with
   * reason 'expired', 'invalid_signature', 'malformed', 'bad_algorithm' (anything but HS256,
   * including `alg: none`) or 'bad_claims' (wrong issuer, audience or type, or missing claims).
   */
  async verifyAccess(token: string): Promise<VerifiedAccessToken> {
    if (token.length > MAX_ACCESS_TOKEN_LENGTH) {
      throw new TokenRejectedError('malformed', 'The access token is not valid; sign in again.');
    }
    let payload;
    try {
      ({ payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        issuer: this.#issuer,
        audience: ACCESS_TOKEN_AUDIENCE,
        requiredClaims: ['sub', 'jti', 'iat', 'exp'],
        // Also refuses a token whose iat is in the future or older than today's lifetime allows
        // (one minted under a longer configured lifetime before a restart).
        maxTokenAge: this.#accessTtlSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.#now()),
      }));
    } catch (err) {
      throw accessRejection(err);
    }
    const { sub, jti, iat, exp } = payload;
    const username: unknown = payload['username'];
    const role: unknown = payload['role'];
    if (
      payload['typ'] !== 'access' ||
      sub === undefined ||
      !USER_ID_SHAPE.test(sub) ||
      typeof username !== 'string' ||
      username === '' ||
      !isRole(role) ||
      jti === undefined ||
      iat === undefined ||
      exp === undefined
    ) {
      throw new TokenRejectedError('bad_claims', 'The access token is not valid; sign in again.');
    }
    return { userId: Number(sub), username, role, jti, iat, exp };
  }

  /**
   * Trades a refresh token for a new pair in the same family and revokes the old one (rotation).
   * Refuses with TokenRejectedError: 'unknown'; 'reused' when the token was already rotated or revoked
   * (the whole family is revoked, so the newest token of that login stops working too); 'expired';
   * 'user_unavailable' when the user was deleted or disabled (the family is revoked). The new access
   * token carries the user's current role and name from `loadUser`.
   */
  async refresh(
    refreshToken: string,
    loadUser: (id: number) => Promise<TokenUserState | null>,
  ): Promise<IssuedTokens> {
    const now = this.#now();
    const tokenHash = REFRESH_TOKEN_SHAPE.test(refreshToken) ? hashRefreshToken(refreshToken) : null;
    const record = tokenHash === null ? null : await this.#refreshTokens.find(tokenHash);
    if (tokenHash === null || record === null) {
      throw new TokenRejectedError('unknown', 'The refresh token is not valid; sign in again.');
    }
    const userId = record.userId;
    // Checked before expiry: an old rotated token turning up is the sign of theft, expired or not.
    if (record.revokedAt !== null) {
      await this.#refreshTokens.revokeFamily(record.family, now);
      throw new TokenRejectedError(
        'reused',
        'The refresh token was already used or revoked; sign in again.',
        {
          userId,
        },
      );
    }
    if (record.expiresAt <= now) {
      throw new TokenRejectedError('expired', 'The session has expired; sign in again.', { userId });
    }
    const user = await loadUser(userId);
    if (user === null || user.disabled) {
      await this.#refreshTokens.revokeFamily(record.family, now);
      throw new TokenRejectedError('user_unavailable', 'This account is disabled or no longer exists.', {
        userId,
      });
    }
    // Only one of two concurrent refreshes with the same token wins the revocation; the other is
    // treated as reuse. A client racing itself is signed out, which is the safe side to err on.
    if (!(await this.#refreshTokens.revoke(tokenHash, now))) {
      await this.#refreshTokens.revokeFamily(record.family, now);
      throw new TokenRejectedError(
        'reused',
        'The refresh token was already used or revoked; sign in again.',
        {
          userId,
        },
      );
    }
    return this.#issueInFamily({ id: user.id, username: user.username, role: user.role }, record.family);
  }

  /**
   * Signs out the login this refresh token belongs to: revokes the token and its family. Returns
   * false for an unknown token (logout stays idempotent and reveals nothing).
   */
  async logout(refreshToken: string): Promise<boolean> {
    if (!REFRESH_TOKEN_SHAPE.test(refreshToken)) return false;
    const tokenHash = hashRefreshToken(refreshToken);
    const record = await this.#refreshTokens.find(tokenHash);
    if (record === null) return false;
    const now = this.#now();
    await this.#refreshTokens.revoke(tokenHash, now);
    await this.#refreshTokens.revokeFamily(record.family, now);
    return true;
  }

  /** Revokes every refresh token of a user: on password change, role change, disabling or deletion. */
  async revokeAllForUser(userId: number): Promise<void> {
    await this.#refreshTokens.revokeAllForUser(userId, this.#now());
  }

  async #issueInFamily(user: TokenSubject, family: string): Promise<IssuedTokens> {
    const nowMs = this.#now();
    const iat = Math.floor(nowMs / 1000);
    const exp = iat + this.#accessTtlSeconds;
    const accessToken = await new SignJWT({ username: user.username, role: user.role, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(String(user.id))
      .setJti(randomUUID())
      .setIssuer(this.#issuer)
      .setAudience(ACCESS_TOKEN_AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(this.#key);
    const refreshToken = randomBytes(REFRESH_TOKEN_BYTES).toString('base64url');
    const refreshExpiresAt = nowMs + this.#refreshTtlSeconds * 1000;
    await this.#refreshTokens.insert({
      tokenHash: hashRefreshToken(refreshToken),
      userId: user.id,
      family,
      expiresAt: refreshExpiresAt,
    });
    return { accessToken, refreshToken, accessExpiresAt: exp * 1000, refreshExpiresAt };
  }
}

function accessRejection(err: unknown): TokenRejectedError {
  const message = 'The access token is not valid; sign in again.';
  if (err instanceof errors.JWTExpired) {
    // maxTokenAge also reports "too old" as JWTExpired: both mean the same to the user.
    return new TokenRejectedError('expired', 'The access token has expired; refresh it or sign in again.', {
      cause: err,
    });
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenRejectedError('invalid_signature', message, { cause: err });
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported) {
    return new TokenRejectedError('bad_algorithm', message, { cause: err });
  }
  if (err instanceof errors.JWTClaimValidationFailed) {
    return new TokenRejectedError('bad_claims', message, { cause: err });
  }
  // JWSInvalid, JWTInvalid and anything else a crafted token provokes: fail closed as malformed.
  return new TokenRejectedError('malformed', message, { cause: err });
}
