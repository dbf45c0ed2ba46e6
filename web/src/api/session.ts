/**
 * Who is signed in, for every component: pages show an action only to a role the API lets do it
 * (the API checks again; hiding a button is for clarity, not security).
 */

import { createContext, useContext } from 'react';
import type { Role, SessionUser } from './api-types';

export const SessionContext = createContext<SessionUser | null>(null);

export function useSession(): SessionUser {
  const user = useContext(SessionContext);
  if (user === null) throw new Error('useSession outside a signed-in <SessionContext>');
  return user;
}

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

/** Whether `user` holds `role` or a higher one, as the API's access control decides. */
export function hasRole(user: SessionUser, role: Role): boolean {
  return RANK[user.role] >= RANK[role];
}

/** Whether the signed-in user may do what needs `role`. */
export function useCan(role: Role): boolean {
  return hasRole(useSession(), role);
}
