/**
 * Users of the dashboard and API: name, password hash (argon2id, made by api/auth/), role and
 * whether the account is disabled. Stores hashes only and never sees a password. Deciding who
 * may do what (e.g. not removing the last admin) is the caller's job; this file reports the facts
 * it needs (`countAdmins`).
 */

import type { Kysely, Selectable } from 'kysely';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import type { Database, UsersTable } from './schema.js';

export type UserRole = UsersTable['role'];
export const USER_ROLES: readonly UserRole[] = ['admin', 'analyst', 'viewer'];

export interface UserRecord {
  id: number;
  username: string;
  passwordHash: string;
  role: UserRole;
  disabled: boolean;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number;
}

export interface NewUser {
  username: string;
  passwordHash: string;
  role: UserRole;
}

export class UserRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly isUniqueViolation: (err: unknown) => boolean,
  ) {}

  /** Creates the user; CONFLICT when the name is taken. */
  async create(user: NewUser, now: number): Promise<UserRecord> {
    const role = checkRole(user.role);
    if (user.username.trim() === '')
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'a user name cannot be empty');
    try {
      const row = await this.db
        .insertInto('users')
        .values({
          username: user.username,
          password_hash: user.passwordHash,
          role,
          disabled: 0,
          created_at: now,
          updated_at: now,
          password_changed_at: now,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      return userRecordOf(row);
    } catch (err) {
      if (this.isUniqueViolation(err)) {
        throw new FlowTrackError(
          ErrorCode.CONFLICT,
          `the user name "${user.username}" is taken: choose another`,
          {
            cause: err,
          },
        );
      }
      throw err;
    }
  }

  async findByUsername(username: string): Promise<UserRecord | null> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    return row ? userRecordOf(row) : null;
  }

  async findById(id: number): Promise<UserRecord | null> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? userRecordOf(row) : null;
  }

  /** Every user, by name. (A site has tens of users, not thousands: no paging.) */
  async list(): Promise<UserRecord[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('username').execute();
    return rows.map(userRecordOf);
  }

  async setPassword(id: number, passwordHash: string, now: number): Promise<UserRecord> {
    return this.update(id, { password_hash: passwordHash, password_changed_at: now, updated_at: now });
  }

  async setRole(id: number, role: UserRole, now: number): Promise<UserRecord> {
    return this.update(id, { role: checkRole(role), updated_at: now });
  }

  /** A disabled user cannot log in; their refresh tokens are the auth layer's to revoke. */
  async disable(id: number, now: number): Promise<UserRecord> {
    return this.update(id, { disabled: 1, updated_at: now });
  }

  async enable(id: number, now: number): Promise<UserRecord> {
    return this.update(id, { disabled: 0, updated_at: now });
  }

  /** Deletes the user and (by the foreign key) their refresh tokens; NOT_FOUND when absent. */
  async delete(id: number): Promise<void> {
    const result = await this.db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    if (result.numDeletedRows === 0n) throw notFound(id);
  }

  /** Admins who are not disabled: the ones who can still manage the site. */
  async countAdmins(): Promise<number> {
    const row = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .where('role', '=', 'admin')
      .where('disabled', '=', 0)
      .executeTakeFirstOrThrow();
    return row.count;
  }

  private async update(
    id: number,
    values: Partial<
      Pick<
        Selectable<UsersTable>,
        'password_hash' | 'password_changed_at' | 'updated_at' | 'role' | 'disabled'
      >
    >,
  ): Promise<UserRecord> {
    const row = await this.db
      .updateTable('users')
      .set(values)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound(id);
    return userRecordOf(row);
  }
}

function checkRole(role: string): UserRole {
  const known = USER_ROLES.find((r) => r === role);
  if (known === undefined) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `role must be one of ${USER_ROLES.join(', ')}, not "${role}"`,
    );
  }
  return known;
}

function notFound(id: number): FlowTrackError {
  return new FlowTrackError(ErrorCode.NOT_FOUND, `no user with id ${id}`);
}

function userRecordOf(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    username: row.username,
    passwordHash: row.password_hash,
    role: row.role,
    disabled: row.disabled !== 0,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    passwordChangedAt: row.password_changed_at,
  };
}
