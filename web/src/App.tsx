/**
 * The dashboard's shell: the sign-in page until there is a session (a reload of the tab resumes
 * it), then the header and the page of the current path. Pages beyond the overview come later.
 */

import { useEffect, useMemo, useState } from 'react';
import { ApiClient } from './api/api-client';
import type { SessionUser } from './api/api-types';
import { ApiContext } from './api/use-api';
import { AppHeader } from './components/AppHeader';
import { LoginPage } from './features/auth/LoginPage';
import { OverviewPage } from './features/overview/OverviewPage';

type Session =
  | { state: 'resuming' }
  | { state: 'signed-out'; reason?: string }
  | { state: 'signed-in'; user: SessionUser };

export function App() {
  const [session, setSession] = useState<Session>({ state: 'resuming' });
  const client = useMemo(
    () =>
      new ApiClient({
        fetch: (input, init) => window.fetch(input, init),
        storage: window.sessionStorage,
        onSessionChange: (user, reason) => {
          setSession(
            user ? { state: 'signed-in', user } : { state: 'signed-out', ...(reason && { reason }) },
          );
        },
      }),
    [],
  );

  useEffect(() => {
    let current = true;
    client.resume().then(
      (user) => {
        if (current && user === null) setSession({ state: 'signed-out' });
      },
      () => {
        if (current) setSession({ state: 'signed-out', reason: 'the server could not be reached' });
      },
    );
    return () => {
      current = false;
    };
  }, [client]);

  if (session.state === 'resuming') {
    return <div className="boot" role="status" aria-label="Loading" />;
  }
  if (session.state === 'signed-out') {
    return (
      <LoginPage
        {...(session.reason === undefined ? {} : { notice: session.reason })}
        onSubmit={(username, password) => client.login(username, password).then(() => undefined)}
      />
    );
  }
  return (
    <ApiContext value={client}>
      <AppHeader
        user={session.user}
        onSignOut={() => {
          void client.logout();
        }}
      />
      <main className="page">
        {window.location.pathname === '/' ? <OverviewPage /> : <NotYetPage path={window.location.pathname} />}
      </main>
    </ApiContext>
  );
}

function NotYetPage({ path }: { path: string }) {
  return (
    <section className="panel state state-empty">
      <h1>Not in the dashboard yet</h1>
      <p>
        <code>{path}</code> is not a page of this version. <a href="/">Back to the overview</a>
      </p>
    </section>
  );
}
