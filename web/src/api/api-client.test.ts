import { describe, expect, it } from 'vitest';
import { ApiClient, ApiError, REFRESH_TOKEN_KEY } from './api-client';
import type { SessionUser } from './api-types';

const USER: SessionUser = { id: 1, username: 'ada', role: 'viewer' };

/** A fake API: access tokens `a<n>`, refresh tokens `r<n>` that rotate, as the server's do. */
function fakeApi(options: { refreshFails?: boolean } = {}) {
  let generation = 1;
  const calls: string[] = [];
  const store = new Map<string, string>();
  const sessions: (SessionUser | null)[] = [];
  const tokens = () => ({
    accessToken: `a${generation}`,
    refreshToken: `r${generation}`,
    accessExpiresAt: 0,
    refreshExpiresAt: 0,
    tokenType: 'Bearer',
    user: USER,
  });
  const json = (status: number, body: unknown) =>
    new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  const fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const path = input as string;
    const auth = (init?.headers as Record<string, string> | undefined)?.authorization ?? '';
    calls.push(`${path} ${auth}`.trim());
    if (path === '/api/auth/login') return Promise.resolve(json(200, tokens()));
    if (path === '/api/auth/setup') {
      if (init?.method !== 'POST') return Promise.resolve(json(200, { needed: true }));
      const { setupToken } = JSON.parse(init.body as string) as { setupToken: string };
      return Promise.resolve(
        setupToken === 'the-token'
          ? json(201, tokens())
          : json(401, { error: 'UNAUTHORIZED', message: 'wrong or expired setup token' }),
      );
    }
    if (path === '/api/auth/refresh') {
      const { refreshToken } = JSON.parse(init?.body as string) as { refreshToken: string };
      if (options.refreshFails || refreshToken !== `r${generation}`)
        return Promise.resolve(
          json(401, { error: 'UNAUTHORIZED', message: 'the session has ended: sign in again' }),
        );
      generation++;
      return Promise.resolve(json(200, tokens()));
    }
    if (auth !== `Bearer a${generation}`)
      return Promise.resolve(
        json(401, { error: 'UNAUTHORIZED', message: 'the access token has expired: refresh it' }),
      );
    return Promise.resolve(json(200, { ok: true }));
  };
  const client = new ApiClient({
    fetch,
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => store.set(k, v),
      removeItem: (k) => store.delete(k),
    },
    onSessionChange: (user) => sessions.push(user),
  });
  return {
    client,
    calls,
    store,
    sessions,
    expireAccess: () => generation++,
  };
}

describe('ApiClient', () => {
  it('signs in, keeps the refresh token for this tab and sends the access token', async () => {
    const api = fakeApi();
    expect(await api.client.login('ada', 'pw')).toEqual(USER);
    expect(api.store.get(REFRESH_TOKEN_KEY)).toBe('r1');
    expect(await api.client.getJson('/api/capture')).toEqual({ ok: true });
    expect(api.calls.at(-1)).toBe('/api/capture Bearer a1');
  });

  it('refreshes once on a 401 and retries, and concurrent 401s share that one refresh', async () => {
    const api = fakeApi();
    await api.client.login('ada', 'pw');
    api.calls.length = 0;
    // The access token expires (the server refuses it); the refresh token r1 is still good.
    (api.client as unknown as { accessToken: string }).accessToken = 'a0';
    const results = await Promise.all([
      api.client.getJson('/api/capture'),
      api.client.getJson('/api/anomalies'),
    ]);
    expect(results).toEqual([{ ok: true }, { ok: true }]);
    expect(api.calls.filter((c) => c.startsWith('/api/auth/refresh'))).toHaveLength(1);
    expect(api.store.get(REFRESH_TOKEN_KEY)).toBe('r2');
  });

  it('ends the session when the refresh is refused, and says so', async () => {
    const api = fakeApi({ refreshFails: true });
    await api.client.login('ada', 'pw');
    api.expireAccess();
    await expect(api.client.getJson('/api/capture')).rejects.toMatchObject({ status: 401 });
    expect(api.sessions.at(-1)).toBeNull();
    expect(api.store.has(REFRESH_TOKEN_KEY)).toBe(false);
  });

  it('resumes a session from the tab after a reload, or finds none', async () => {
    const api = fakeApi();
    expect(await api.client.resume()).toBeNull();
    api.store.set(REFRESH_TOKEN_KEY, 'r1');
    expect(await api.client.resume()).toEqual(USER);
    expect(await api.client.getJson('/api/capture')).toEqual({ ok: true });
  });

  it("gives the server's message for a refused login", async () => {
    const client = new ApiClient({
      fetch: () =>
        Promise.resolve(
          new Response(JSON.stringify({ error: 'UNAUTHORIZED', message: 'wrong user name or password' }), {
            status: 401,
          }),
        ),
      storage: { getItem: () => null, setItem: () => undefined, removeItem: () => undefined },
      onSessionChange: () => undefined,
    });
    const err = await client.login('ada', 'bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toBe('wrong user name or password');
  });
});

describe('ApiClient first start', () => {
  it('asks whether the first admin is still to be made, and makes it with the setup token', async () => {
    const api = fakeApi();
    await expect(api.client.setupNeeded()).resolves.toBe(true);
    await expect(api.client.setup('not-it', 'ada', 'pw')).rejects.toMatchObject({
      status: 401,
      message: 'wrong or expired setup token',
    });
    expect(api.sessions).toEqual([]);
    await expect(api.client.setup('the-token', 'ada', 'pw')).resolves.toEqual(USER);
    expect(api.store.get(REFRESH_TOKEN_KEY)).toBe('r1');
    expect(api.sessions).toEqual([USER]);
  });
});
