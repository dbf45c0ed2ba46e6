/**
 * The dashboard's shell: the sign-in page until there is a session (a reload of the tab resumes
 * it; on a server without an admin yet, the first admin's setup instead), then the header with
 * the pages this role may see, and the page of the current path.
 */

import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Suspense, useEffect, useMemo, useState } from 'react';
import { ApiClient } from './api/api-client';
import type { SessionUser } from './api/api-types';
import { hasRole, SessionContext } from './api/session';
import { ApiContext } from './api/use-api';
import { AppHeader } from './components/AppHeader';
import { PanelLoading } from './components/Panel';
import { LoginPage } from './features/auth/LoginPage';
import { SetupForm } from './features/auth/SetupForm';
import { Link, matchPath, useLocation } from './lib/router';
import { ROUTES } from './routes';

type Session =
  | { state: 'resuming' }
  | { state: 'signed-out'; reason?: string }
  /** No admin exists yet: the first one is made with the server's setup token. */
  | { state: 'setup' }
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
  // A new cache per session: nothing one user read is shown to the next.
  const queryClient = useMemo(
    () =>
      new QueryClient({
        defaultOptions: { queries: { retry: 1, staleTime: 2_000, refetchOnWindowFocus: true } },
      }),
    // eslint-disable-next-line react-hooks/exhaustive-deps -- on purpose: one cache per sign-in
    [session.state === 'signed-in' ? session.user.id : null],
  );

  useEffect(() => {
    let current = true;
    client.resume().then(
      async (user) => {
        if (user !== null) return;
        const setup = await client.setupNeeded().catch(() => false);
        if (current) setSession(setup ? { state: 'setup' } : { state: 'signed-out' });
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
  if (session.state === 'setup') {
    return (
      <SetupForm
        onSubmit={(setupToken, username, password) =>
          client.setup(setupToken, username, password).then(() => undefined)
        }
      />
    );
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
      <SessionContext value={session.user}>
        <QueryClientProvider client={queryClient}>
          <AppHeader
            user={session.user}
            onSignOut={() => {
              void client.logout();
            }}
          />
          <main className="page">
            <CurrentPage user={session.user} />
          </main>
        </QueryClientProvider>
      </SessionContext>
    </ApiContext>
  );
}

function CurrentPage({ user }: { user: SessionUser }) {
  const { path } = useLocation();
  for (const route of ROUTES) {
    const params = matchPath(route.path, path);
    if (params === null) continue;
    if (!hasRole(user, route.role)) {
      return (
        <Missing title="Not for your role" path={path} why={`This page is for the ${route.role} role.`} />
      );
    }
    const Page = route.page;
    return (
      <Suspense fallback={<PanelLoading lines={6} />}>
        <Page {...params} />
      </Suspense>
    );
  }
  return <Missing title="No such page" path={path} why="It is not a page of this version." />;
}

function Missing({ title, path, why }: { title: string; path: string; why: string }) {
  return (
    <section className="panel state state-empty">
      <h1>{title}</h1>
      <p>
        <code>{path}</code>: {why} <Link to="/">Back to the overview</Link>
      </p>
    </section>
  );
}
