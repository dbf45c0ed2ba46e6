/**
 * Adds a user: name, role and an initial password that the admin passes on. The form checks what
 * it can before sending; the server's refusal (a taken name, a common password) is shown as it
 * says it. The new user can change the password on their Account page.
 */

import { useId, useState, type SubmitEvent } from 'react';
import type { Role } from '../../api/api-types';
import { FormField } from './FormField';
import { PasswordRules } from './PasswordRules';
import { useCreateUser } from './user-api';
import { hasErrors, ROLES, validateNewUser, type FieldErrors, type NewUserDraft } from './user-rules';

const EMPTY: NewUserDraft = { username: '', role: 'viewer', password: '', repeat: '' };

export function AddUserForm() {
  const create = useCreateUser();
  const [draft, setDraft] = useState<NewUserDraft>(EMPTY);
  const [errors, setErrors] = useState<FieldErrors<'username' | 'password' | 'repeat'>>({});
  const [added, setAdded] = useState<string | null>(null);
  const rulesId = useId();
  const roleId = useId();

  const edit = (changes: Partial<NewUserDraft>): void => {
    setDraft((d) => ({ ...d, ...changes }));
    setAdded(null);
    // The server's last refusal is about what was sent, not what is being typed now.
    if (create.isError) create.reset();
  };

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const found = validateNewUser(draft);
    setErrors(found);
    if (hasErrors(found)) return;
    const { username, role, password } = draft;
    create.mutate(
      { username, role, password },
      {
        onSuccess: (user) => {
          setDraft(EMPTY);
          setAdded(`${user.username} was added as ${user.role}.`);
        },
      },
    );
  };

  return (
    <form className="add-user" onSubmit={submit} noValidate>
      <div className="toolbar">
        <FormField
          label="User name"
          value={draft.username}
          autoComplete="off"
          error={errors.username}
          onChange={(username) => {
            edit({ username });
          }}
        />
        <label className="field" htmlFor={roleId}>
          Role
          <select
            id={roleId}
            value={draft.role}
            onChange={(event) => {
              edit({ role: event.target.value as Role });
            }}
          >
            {ROLES.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </label>
        <FormField
          label="Initial password"
          type="password"
          value={draft.password}
          autoComplete="new-password"
          describedBy={rulesId}
          error={errors.password}
          onChange={(password) => {
            edit({ password });
          }}
        />
        <FormField
          label="Repeat password"
          type="password"
          value={draft.repeat}
          autoComplete="new-password"
          error={errors.repeat}
          onChange={(repeat) => {
            edit({ repeat });
          }}
        />
        <button type="submit" className="button-primary" disabled={create.isPending}>
          Add user
        </button>
      </div>
      {create.isError && (
        <p className="form-error" role="alert">
          {create.error.message}
        </p>
      )}
      {/* Present from the start: a live region that appears with its text may not be announced. */}
      <div role="status">
        {added !== null && (
          <p className="notice">
            {added} Give them the initial password in person or by another channel; they can change it on
            their Account page.
          </p>
        )}
      </div>
      <PasswordRules id={rulesId} />
    </form>
  );
}
