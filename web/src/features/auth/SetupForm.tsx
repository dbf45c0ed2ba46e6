/**
 * First start: no admin exists, and `flowtrack serve` printed a one-time setup token. This form
 * creates the first admin with it (POST /api/auth/setup) and signs in; the server's refusal (a
 * wrong or expired token, a weak password) is shown as it says it.
 */

import { useState, type SubmitEvent } from 'react';

export function SetupForm({
  onSubmit,
}: {
  onSubmit: (setupToken: string, username: string, password: string) => Promise<void>;
}) {
  const [setupToken, setSetupToken] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [repeat, setRepeat] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    if (password !== repeat) {
      setError('the two passwords differ: type the same one twice');
      return;
    }
    setBusy(true);
    setError(null);
    onSubmit(setupToken.trim(), username, password).then(
      () => undefined,
      (err: unknown) => {
        setError(err instanceof Error ? err.message : String(err));
        setBusy(false);
      },
    );
  };

  return (
    <main className="login">
      <form className="login-card" onSubmit={submit}>
        <h1>
          <img src="/favicon.svg" alt="" width="28" height="28" /> FlowTrack
        </h1>
        <p className="notice">
          No admin exists yet. Paste the one-time setup token that <code>flowtrack serve</code> printed when
          it started (valid for an hour), and choose the first admin&apos;s name and password.
        </p>
        {error && (
          <p className="form-error" role="alert">
            {error}
          </p>
        )}
        <label>
          Setup token
          <input
            name="setupToken"
            autoComplete="off"
            required
            autoFocus
            value={setupToken}
            onChange={(e) => setSetupToken(e.target.value)}
          />
        </label>
        <label>
          User name
          <input
            name="username"
            autoComplete="username"
            required
            value={username}
            onChange={(e) => setUsername(e.target.value)}
          />
        </label>
        <label>
          Password
          <input
            name="password"
            type="password"
            autoComplete="new-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        <label>
          Repeat the password
          <input
            name="repeat"
            type="password"
            autoComplete="new-password"
            required
            value={repeat}
            onChange={(e) => setRepeat(e.target.value)}
          />
        </label>
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create the admin and sign in'}
        </button>
      </form>
    </main>
  );
}
