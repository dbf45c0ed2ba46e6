/**
 * The users API's shapes as the server sends and takes them (src/api/routes/user-routes.ts and
 * POST /api/auth/password in src/api/routes/auth-routes.ts). Kept by hand: web cannot import server
 * code. Never a password hash: the server leaves it out, and nothing here may ask for it.
 */

import type { Role } from '../../api/api-types';

/** A user as GET /api/users lists it. Times are epoch milliseconds. */
export interface UserView {
  id: number;
  username: string;
  role: Role;
  /** A disabled user cannot sign in, and their sessions have ended. */
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number;
}

/** GET /api/users: every user, by name (tens, not thousands: no paging). */
export interface UserList {
  items: UserView[];
}

/** POST /api/users. */
export interface NewUserBody {
  username: string;
  password: string;
  role: Role;
}

/** PATCH /api/users/:id: any of these; a change to any ends the user's sessions. */
export interface UserChange {
  role?: Role;
  disabled?: boolean;
  /** A new password set by an admin (a reset), checked by the same rules as any other. */
  password?: string;
}

/** POST /api/auth/password: one's own password; success ends every session of the user. */
export interface PasswordChangeBody {
  currentPassword: string;
  newPassword: string;
}
