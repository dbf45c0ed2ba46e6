/**
 * One's own account, for every role: who you are signed in as, what your role may do, and a
 * password change. The server ends every session of yours on a change (other browsers, devices and
 * this tab), so this tab signs in again at once with the password just typed; nothing else keeps it.
 */

import './users.css';
import { useId, useState, type SubmitEvent } from 'react';
import { useSession } from '../../api/session';
import { useApiClient } from '../../api/use-api';
import { Panel } from '../../components/Panel';
import { FormField } from './FormField';
import { PasswordRules } from './PasswordRules';
import { RoleTag } from './RoleTag';
import { useChangeOwnPassword } from './user-api';
import {
  hasErrors,
  ROLE_ABILITIES,
  validatePasswordChange,
  type FieldErrors,
  type PasswordChangeDraft,
} from './user-rules';

const EMPTY: PasswordChangeDraft = { currentPassword: '', newPassword: '', repeat: '' };

/** What happened after the server accepted the change. */
type Outcome = { signedInAgain: true } | { signedInAgain: false; why: string };

export function AccountPage() {
  const me = useSession();
  return (
    <div className="stack account-page">
      <header className="page-header">
        <h1>Your account</h1>
      </header>
      <Panel title="Who you are">
        <dl className="account-facts">
          <div>
            <dt>User name</dt>
            <dd>{me.username}</dd>
          </div>
          <div>
            <dt>Role</dt>
            <dd>
              <RoleTag role={me.role} /> {ROLE_ABILITIES[me.role]}
            </dd>
          </div>
        </dl>
        {me.role !== 'admin' && <p className="panel-note">Only an admin can change your role.</p>}
      </Panel>
      <Panel title="Password">
        <ChangePasswordForm username={me.username} />
      </Panel>
    </div>
  );
}

function ChangePasswordForm({ username }: { username: string }) {
  const client = useApiClient();
  const changePassword = useChangeOwnPassword();
  const [draft, setDraft] = useState<PasswordChangeDraft>(EMPTY);
  const [errors, setErrors] = useState<FieldErrors<keyof PasswordChangeDraft>>({});
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [signingIn, setSigningIn] = useState(false);
  const rulesId = useId();

  const edit = (changes: Partial<PasswordChangeDraft>): void => {
    setDraft((d) => ({ ...d, ...changes }));
    setOutcome(null);
    if (changePassword.isError) changePassword.reset();
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const found = validatePasswordChange(draft, username);
    setErrors(found);
    if (hasErrors(found)) return;
    const { currentPassword, newPassword } = draft;
    changePassword.mutate(
      { currentPassword, newPassword },
      {
        onSuccess: () => {
          setDraft(EMPTY);
          setSigningIn(true);
          // The server has revoked this tab's refresh token and refuses its access token from the
          // next second on: a new sign-in is the only way to stay signed in.
          client.login(username, newPassword).then(
            () => {
              setOutcome({ signedInAgain: true });
              setSigningIn(false);
            },
            (err: unknown) => {
              setOutcome({ signedInAgain: false, why: err instanceof Error ? err.message : String(err) });
              setSigningIn(false);
            },
          );
        },
      },
    );
  };

  const busy = changePassword.isPending || signingIn;
  return (
    <form className="change-password" onSubmit={submit} noValidate>
      <FormField
        label="Current password"
        type="password"
        value={draft.currentPassword}
        autoComplete="current-password"
        error={errors.currentPassword}
        onChange={(currentPassword) => {
          edit({ currentPassword });
        }}
      />
      <FormField
        label="New password"
        type="password"
        value={draft.newPassword}
        autoComplete="new-password"
        describedBy={rulesId}
        error={errors.newPassword}
        onChange={(newPassword) => {
          edit({ newPassword });
        }}
      />
      <FormField
        label="Repeat new password"
        type="password"
        value={draft.repeat}
        autoComplete="new-password"
        error={errors.repeat}
        onChange={(repeat) => {
          edit({ repeat });
        }}
      />
      <PasswordRules id={rulesId} />
      <p className="panel-note">
        Changing it signs you out everywhere else: other tabs, browsers and devices. This tab stays signed in.
      </p>
      {changePassword.isError && (
        <p className="form-error" role="alert">
          {changePassword.error.message}
        </p>
      )}
      {/* Present from the start: a live region that appears with its text may not be announced. */}
      <div role="status">
        {outcome?.signedInAgain === true && (
          <p className="notice">
            Your password has been changed. Every other session of yours has ended; this tab signed in again
            with the new password.
          </p>
        )}
        {outcome?.signedInAgain === false && (
          <p className="form-error">
            Your password has been changed and every session of yours has ended, but signing this tab in again
            failed ({outcome.why}).{' '}
            <button
              type="button"
              className="button-quiet"
              onClick={() => {
                void client.logout();
              }}
            >
              Sign in again
            </button>
          </p>
        )}
      </div>
      <div>
        <button type="submit" className="button-primary" disabled={busy}>
          Change password
        </button>
      </div>
    </form>
  );
}
