/**
 * The Users and Account pages' reads and changes through the API. Every change to a user ends that
 * user's sessions on the server; the list is fetched again after each one.
 */

import { useApiMutation, useApiQuery } from '../../api/queries';
import type { NewUserBody, PasswordChangeBody, UserChange, UserList, UserView } from './user-types';

const USERS = '/api/users';

/** Every user, kept fresh every half minute (another admin may be changing them too). */
export function useUsers() {
  return useApiQuery<UserList>(USERS, 30_000);
}

/** POST /api/users: 400 with the password policy's or the schema's words, 409 for a taken name. */
export function useCreateUser() {
  return useApiMutation<NewUserBody, UserView>({
    method: 'POST',
    path: () => USERS,
    body: (user) => user,
    invalidates: [USERS],
  });
}

/** PATCH /api/users/:id: 409 when it would leave no enabled admin, 400 for a refused password. */
export function useChangeUser() {
  return useApiMutation<{ id: number; change: UserChange }, UserView>({
    method: 'PATCH',
    path: ({ id }) => `${USERS}/${id}`,
    body: ({ change }) => change,
    invalidates: [USERS],
  });
}

/** DELETE /api/users/:id: 409 for the last enabled admin. */
export function useDeleteUser() {
  return useApiMutation<number, null>({
    method: 'DELETE',
    path: (id) => `${USERS}/${id}`,
    invalidates: [USERS],
  });
}

/**
 * POST /api/auth/password: one's own password. On success (204) the server has ended every session
 * of the user, this one included, so nothing cached is worth fetching again with it.
 */
export function useChangeOwnPassword() {
  return useApiMutation<PasswordChangeBody, null>({
    method: 'POST',
    path: () => '/api/auth/password',
    body: (change) => change,
    invalidates: [],
  });
}
