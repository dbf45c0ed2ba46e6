/**
 * Users, for admins: who may use FlowTrack and with which role. Adds users, changes roles, resets
 * passwords, disables and deletes. The server refuses anything that would leave no enabled admin
 * and says so; the page shows that message where the change was asked for. Changing one's own role
 * or account ends one's own session, so the page asks first and signs out after.
 */

import './users.css';
import { useId, useState, type KeyboardEvent } from 'react';
import type { Role } from '../../api/api-types';
import { useSession } from '../../api/session';
import { useApiClient } from '../../api/use-api';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { AddUserForm } from './AddUserForm';
import { FormField } from './FormField';
import { PasswordRules } from './PasswordRules';
import { RoleLegend } from './RoleLegend';
import { RoleTag } from './RoleTag';
import { useChangeUser, useDeleteUser, useUsers } from './user-api';
import { hasErrors, ROLE_ABILITIES, validatePasswordReset, type FieldErrors } from './user-rules';
import type { UserChange, UserView } from './user-types';
import { UsersTable } from './UsersTable';

/** A change the dialog asks about before it is sent. */
type Ask =
  | { kind: 'delete'; user: UserView }
  | { kind: 'disable'; user: UserView }
  | { kind: 'reset'; user: UserView }
  /** Only one's own role: other users' roles change at once. */
  | { kind: 'role'; user: UserView; role: Role };

export function UsersPage() {
  const me = useSession();
  const client = useApiClient();
  const users = useUsers();
  const change = useChangeUser();
  const remove = useDeleteUser();
  const [ask, setAsk] = useState<Ask | null>(null);
  const [dialogError, setDialogError] = useState<string | null>(null);
  const [rowError, setRowError] = useState<{ userId: number; message: string } | null>(null);
  const [reset, setReset] = useState({ password: '', repeat: '' });
  const [resetErrors, setResetErrors] = useState<FieldErrors<'password' | 'repeat'>>({});

  const busyId = change.isPending ? change.variables.id : remove.isPending ? remove.variables : null;

  const close = (): void => {
    setAsk(null);
    setDialogError(null);
    setReset({ password: '', repeat: '' });
    setResetErrors({});
  };

  /** After a change to oneself the server has ended this session too: sign out rather than fail. */
  const done = (user: UserView): void => {
    close();
    if (user.id === me.id) void client.logout();
  };

  const send = (user: UserView, body: UserChange, viaDialog: boolean): void => {
    setRowError(null);
    setDialogError(null);
    change.mutate(
      { id: user.id, change: body },
      {
        onSuccess: () => {
          done(user);
        },
        onError: (err) => {
          if (viaDialog) setDialogError(err.message);
          else setRowError({ userId: user.id, message: err.message });
        },
      },
    );
  };

  const confirm = (): void => {
    // Enter in the reset fields reaches here even while the dialog's button waits.
    if (ask === null || change.isPending || remove.isPending) return;
    const { user } = ask;
    switch (ask.kind) {
      case 'delete':
        setDialogError(null);
        remove.mutate(user.id, {
          onSuccess: () => {
            done(user);
          },
          onError: (err) => {
            setDialogError(err.message);
          },
        });
        return;
      case 'disable':
        send(user, { disabled: true }, true);
        return;
      case 'role':
        send(user, { role: ask.role }, true);
        return;
      case 'reset': {
        const found = validatePasswordReset(reset.password, reset.repeat, user.username);
        setResetErrors(found);
        if (!hasErrors(found)) send(user, { password: reset.password }, true);
        return;
      }
    }
  };

  return (
    <div className="stack users-page">
      <header className="page-header">
        <h1>Users</h1>
      </header>

      <Panel title="Add a user">
        <AddUserForm />
      </Panel>

      <Panel title="All users">
        <QueryView query={users} loadingLines={4}>
          {(list) => (
            <>
              <UsersTable
                users={list.items}
                myId={me.id}
                busyId={busyId}
                rowError={rowError}
                actions={{
                  onChangeRole: (user, role) => {
                    if (user.id === me.id) setAsk({ kind: 'role', user, role });
                    else send(user, { role }, false);
                  },
                  onAskReset: (user) => {
                    setAsk({ kind: 'reset', user });
                  },
                  onAskDisable: (user) => {
                    setAsk({ kind: 'disable', user });
                  },
                  onEnable: (user) => {
                    send(user, { disabled: false }, false);
                  },
                  onAskDelete: (user) => {
                    setAsk({ kind: 'delete', user });
                  },
                }}
              />
              <p className="panel-note">
                A change of role, a reset password or a disabled account ends that user&apos;s sessions: they
                sign in again. The last enabled admin can be neither demoted, disabled nor deleted. The server
                does not record last sign-ins; temporary lock-outs after failed sign-ins are in the security
                log.
              </p>
            </>
          )}
        </QueryView>
      </Panel>

      <Panel title="What each role may do">
        <RoleLegend />
        <p className="panel-note">Every role may change its own password on the Account page.</p>
      </Panel>

      <ConfirmDialog
        open={ask !== null}
        title={ask === null ? '' : dialogTitle(ask, me.id)}
        confirmLabel={ask === null ? '' : CONFIRM_LABEL[ask.kind]}
        danger={ask?.kind === 'delete'}
        busy={change.isPending || remove.isPending}
        error={dialogError}
        onConfirm={confirm}
        onCancel={close}
      >
        {ask?.kind === 'reset' ? (
          <ResetPasswordFields
            username={ask.user.username}
            value={reset}
            errors={resetErrors}
            onChange={setReset}
            onSubmit={confirm}
          />
        ) : (
          ask !== null && <AskText ask={ask} isMe={ask.user.id === me.id} />
        )}
      </ConfirmDialog>
    </div>
  );
}

const CONFIRM_LABEL: Record<Ask['kind'], string> = {
  delete: 'Delete',
  disable: 'Disable',
  reset: 'Reset password',
  role: 'Change role',
};

function dialogTitle(ask: Ask, myId: number): string {
  const name = ask.user.username;
  const mine = ask.user.id === myId;
  switch (ask.kind) {
    case 'delete':
      return mine ? 'Delete your own account?' : `Delete ${name}?`;
    case 'disable':
      return mine ? 'Disable your own account?' : `Disable ${name}?`;
    case 'reset':
      return `Reset the password of ${name}`;
    case 'role':
      return `Make yourself ${ask.role}?`;
  }
}

function AskText({ ask, isMe }: { ask: Exclude<Ask, { kind: 'reset' }>; isMe: boolean }) {
  const name = ask.user.username;
  switch (ask.kind) {
    case 'delete':
      return isMe ? (
        <p>
          Your account is removed and every session of yours ends, this one too: you are signed out and cannot
          sign in again. This cannot be undone.
        </p>
      ) : (
        <p>
          <strong>{name}</strong> is removed and every session of theirs ends at once: any browser signed in
          as {name} is signed out. This cannot be undone; the audit log keeps what they did.
        </p>
      );
    case 'disable':
      return isMe ? (
        <p>
          Every session of yours ends, this one too: you are signed out and cannot sign in until another admin
          enables your account.
        </p>
      ) : (
        <p>
          <strong>{name}</strong> can no longer sign in, and every session of theirs ends at once. Enable the
          account to let them back in; their role and password are kept.
        </p>
      );
    case 'role':
      return (
        <>
          <p>
            <RoleTag role={ask.role} /> {ROLE_ABILITIES[ask.role]}
          </p>
          <p>
            Every session of yours ends, this one too: you are signed out, and sign in again as {ask.role}.
            Only another admin can make you admin again.
          </p>
        </>
      );
  }
}

function ResetPasswordFields({
  username,
  value,
  errors,
  onChange,
  onSubmit,
}: {
  username: string;
  value: { password: string; repeat: string };
  errors: FieldErrors<'password' | 'repeat'>;
  onChange: (value: { password: string; repeat: string }) => void;
  onSubmit: () => void;
}) {
  const rulesId = useId();
  // Two fields and no submit button inside the form (the dialog's own button is outside it), so
  // the browser would not submit on Enter: Enter in a field confirms, as the dialog's button does.
  const enter = (event: KeyboardEvent<HTMLFormElement>): void => {
    if (event.key !== 'Enter' || !(event.target instanceof HTMLInputElement)) return;
    event.preventDefault();
    onSubmit();
  };
  return (
    <form
      className="reset-password"
      noValidate
      onKeyDown={enter}
      onSubmit={(event) => {
        event.preventDefault();
        onSubmit();
      }}
    >
      <p>
        Every session of <strong>{username}</strong> ends. Give them the new password; they can change it on
        their Account page.
      </p>
      <FormField
        label="New password"
        type="password"
        value={value.password}
        autoComplete="new-password"
        describedBy={rulesId}
        error={errors.password}
        autoFocus
        onChange={(password) => {
          onChange({ ...value, password });
        }}
      />
      <FormField
        label="Repeat new password"
        type="password"
        value={value.repeat}
        autoComplete="new-password"
        error={errors.repeat}
        onChange={(repeat) => {
          onChange({ ...value, repeat });
        }}
      />
      <PasswordRules id={rulesId} />
    </form>
  );
}
