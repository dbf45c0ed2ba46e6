/**
 * The store's RefreshTokenRepository (refresh-token-repository.ts), one class for both
 * databases. It keeps token hashes only; it never sees a token. Revocation is one conditional
 * UPDATE so that two requests rotating the same token cannot both see it as live.
 */

import type { Kysely } from 'kysely';
import type { RefreshTokenRecord, RefreshTokenRepository } from './refresh-token-repository.js';
import type { Database } from './schema.js';

export class StoreRefreshTokenRepository implements RefreshTokenRepository {
  /** `now` stamps created_at, which the interface leaves to the store. */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  async insert(record: Omit<RefreshTokenRecord, 'revokedAt'>): Promise<void> {
    await this.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: record.tokenHash,
        user_id: record.userId,
        family: record.family,
        expires_at: record.expiresAt,
        revoked_at: null,
        created_at: this.now(),
      })
      .execute();
  }

  async find(tokenHash: string): Promise<RefreshTokenRecord | null> {
    const row = await this.db
      .selectFrom('refresh_tokens')
      .select(['token_hash', 'user_id', 'family', 'expires_at', 'revoked_at'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return null;
    return {
      tokenHash: row.token_hash,
      userId: row.user_id,
      family: row.family,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
    };
  }

  async revoke(tokenHash: string, at: number): Promise<boolean> {
    const result = await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('token_hash', '=', tokenHash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeFamily(family: string, at: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('family', '=', family)
      .where('revoked_at', 'is', null)
      .execute();
  }

  async revokeAllForUser(userId: number, at: number): Promise<void> {
    await this.db
      .updateTable('refresh_tokens')
      .set({ revoked_at: at })
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .execute();
  }

  /** Deletes tokens that expired before `before` (epoch ms); they can never be used again. */
  async deleteExpired(before: number): Promise<number> {
    const result = await this.db
      .deleteFrom('refresh_tokens')
      .where('expires_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
