/**
 * Every user with their role, state and dates, and per row the changes an admin makes: role,
 * password reset, disable or enable, delete. Changes that end sessions or cannot be undone go
 * through the page's dialog; this table only asks for them. The server's refusal of a change
 * (the last admin) is shown under the row it concerns.
 */

import { useId, useState } from 'react';
import type { Role } from '../../api/api-types';
import { Link } from '../../lib/router';
import { RoleTag } from './RoleTag';
import { formatTimestamp } from '../../lib/format';
import { ROLES } from './user-rules';
import type { UserView } from './user-types';

const COLUMNS = 6;

export interface UserRowActions {
  onChangeRole: (user: UserView, role: Role) => void;
  onAskReset: (user: UserView) => void;
  onAskDisable: (user: UserView) => void;
  onEnable: (user: UserView) => void;
  onAskDelete: (user: UserView) => void;
}

export function UsersTable({
  users,
  myId,
  busyId,
  rowError,
  actions,
}: {
  users: readonly UserView[];
  /** The signed-in admin, whose own row says so and links to the Account page for the password. */
  myId: number;
  /** The user a change is being sent for: that row's buttons wait. */
  busyId: number | null;
  rowError: { userId: number; message: string } | null;
  actions: UserRowActions;
}) {
  return (
    <div className="table-scroll">
      <table className="table users-table" aria-label="Users">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Role</th>
            <th scope="col">State</th>
            <th scope="col">Created</th>
            <th scope="col">Password changed</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <UserRow
              // The role draft is per user: a new list keeps each row's own.
              key={user.id}
              user={user}
              isMe={user.id === myId}
              busy={busyId === user.id}
              error={rowError?.userId === user.id ? rowError.message : null}
              actions={actions}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function UserRow({
  user,
  isMe,
  busy,
  error,
  actions,
}: {
  user: UserView;
  isMe: boolean;
  busy: boolean;
  error: string | null;
  actions: UserRowActions;
}) {
  const [role, setRole] = useState<Role>(user.role);
  const roleId = useId();
  const errorId = useId();
  // After a change (here or by another admin) the draft starts again from the stored role.
  const [storedRole, setStoredRole] = useState<Role>(user.role);
  if (storedRole !== user.role) {
    setStoredRole(user.role);
    setRole(user.role);
  }
  return (
    <>
      <tr className={user.disabled ? 'user-disabled' : undefined}>
        <th scope="row" className="user-name-cell">
          {user.username}
          {isMe && <span className="tag tag-muted you">you</span>}
        </th>
        <td>
          <RoleTag role={user.role} />
        </td>
        <td>
          {user.disabled ? (
            <span className="tag tag-high">disabled</span>
          ) : (
            <span className="tag tag-ok">active</span>
          )}
        </td>
        <td>
          <time dateTime={new Date(user.createdAt).toISOString()}>
            {formatTimestamp(user.createdAt, 'minute')}
          </time>
        </td>
        <td>
          <time dateTime={new Date(user.passwordChangedAt).toISOString()}>
            {formatTimestamp(user.passwordChangedAt, 'minute')}
          </time>
        </td>
        <td>
          <div className="user-actions" {...(error !== null && { 'aria-describedby': errorId })}>
            <span className="role-change">
              <label className="visually-hidden" htmlFor={roleId}>
                New role for {user.username}
              </label>
              <select
                id={roleId}
                value={role}
                disabled={busy}
                onChange={(event) => {
                  setRole(event.target.value as Role);
                }}
              >
                {ROLES.map((r) => (
                  <option key={r} value={r}>
                    {r}
                  </option>
                ))}
              </select>
              {/* A separate button: a select that applied on change would act on every arrow key. */}
              <button
                type="button"
                className="button-quiet"
                disabled={busy || role === user.role}
                onClick={() => {
                  actions.onChangeRole(user, role);
                }}
              >
                Change role
              </button>
            </span>
            {isMe ? (
              <Link className="button-quiet" to="/account">
                Your password
              </Link>
            ) : (
              <button
                type="button"
                className="button-quiet"
                disabled={busy}
                onClick={() => {
                  actions.onAskReset(user);
                }}
              >
                Reset password
              </button>
            )}
            {user.disabled ? (
              <button
                type="button"
                className="button-quiet"
                disabled={busy}
                onClick={() => {
                  actions.onEnable(user);
                }}
              >
                Enable
              </button>
            ) : (
              <button
                type="button"
                className="button-quiet"
                disabled={busy}
                onClick={() => {
                  actions.onAskDisable(user);
                }}
              >
                Disable
              </button>
            )}
            <button
              type="button"
              className="button-quiet button-delete"
              disabled={busy}
              onClick={() => {
                actions.onAskDelete(user);
              }}
            >
              Delete
            </button>
          </div>
        </td>
      </tr>
      {error !== null && (
        <tr className="row-error">
          <td colSpan={COLUMNS}>
            <p className="form-error" role="alert" id={errorId}>
              {user.username}: {error}
            </p>
          </td>
        </tr>
      )}
    </>
  );
}
