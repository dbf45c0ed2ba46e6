/** The password rules as the server applies them, beside every form that sets a password. */

import { PASSWORD_RULES } from './user-rules';

export function PasswordRules({ id }: { id: string }) {
  return (
    <div className="password-rules" id={id}>
      <p>What the server accepts as a password:</p>
      <ul>
        {PASSWORD_RULES.map((rule) => (
          <li key={rule}>{rule}</li>
        ))}
      </ul>
    </div>
  );
}
