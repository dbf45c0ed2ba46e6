/**
 * The three roles of FlowTrack's users and the one rule that orders them: viewers read, analysts
 * also acknowledge alerts and write reports, admins also change rules, users and backups.
 * Every API route declares the lowest role it needs and asks `roleAllows`; this module must never
 * grow per-route exceptions: a route that needs something else declares another role.
 */

import { ErrorCode, FlowTrackError } from '../../util/errors.js';

/** All roles, lowest first: each role may do everything the roles before it may. */
export const ROLES = ['viewer', 'analyst', 'admin'] as const;

/** A user's role. */
export type Role = (typeof ROLES)[number];

const RANK: Readonly<Record<Role, number>> = { viewer: 0, analyst: 1, admin: 2 };

/** True when `value` is one of the role names (e.g. a claim read from a token or a database row). */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && Object.hasOwn(RANK, value);
}

/** True when a user with `userRole` may use a route that requires `required`. */
export function roleAllows(userRole: Role, required: Role): boolean {
  return RANK[userRole] >= RANK[required];
}

/**
 * Throws FORBIDDEN unless `userRole` allows `required`. The message names both roles (never the
 * user or token) so it can be shown and logged as is.
 */
export function assertRoleAllows(userRole: Role, required: Role): void {
  if (!roleAllows(userRole, required)) {
    throw new FlowTrackError(
      ErrorCode.FORBIDDEN,
      `This needs the ${required} role; your role is ${userRole}. Ask an admin to change your role.`,
    );
  }
}
