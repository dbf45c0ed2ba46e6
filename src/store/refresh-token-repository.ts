/**
 * Where refresh tokens are kept: only their SHA-256 hashes, never the tokens. The auth layer
 * (api/auth/) issues and rotates them through this interface; store/ implements it per dialect.
 * Times are epoch milliseconds (wall-clock, unlike packet time).
 */

export interface RefreshTokenRecord {
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  userId: number;
  /** Tokens rotated from one login share a family: reuse of a rotated token revokes the family. */
  family: string;
  expiresAt: number;
  revokedAt: number | null;
}

export interface RefreshTokenRepository {
  insert(record: Omit<RefreshTokenRecord, 'revokedAt'>): Promise<void>;
  find(tokenHash: string): Promise<RefreshTokenRecord | null>;
  /** Marks the token revoked; true when this call revoked it (false when already revoked or unknown). */
  revoke(tokenHash: string, at: number): Promise<boolean>;
  revokeFamily(family: string, at: number): Promise<void>;
  revokeAllForUser(userId: number, at: number): Promise<void>;
}
