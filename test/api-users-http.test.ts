/**
 * User management and one's own password through real HTTP (a real server on 127.0.0.1, SQLite
 * store): what the dashboard's Users and Account pages rely on. The server's messages are asserted
 * because the pages show them as they are; the last enabled admin can never be removed; every
 * change that ends sessions ends them; a refused change changes nothing.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GOOD_PASSWORD, startTestServer, type TestServer } from './helpers/api-server.js';

interface PublicUser {
  id: number;
  username: string;
  role: string;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
  passwordChangedAt: number;
}

const NEW_PASSWORD = 'heron-basalt-lantern-58';

let t: TestServer;
let root: { accessToken: string; refreshToken: string; id: number };

async function users(): Promise<PublicUser[]> {
  const res = await t.request('GET', '/api/users', { token: root.accessToken });
  expect(res.status).toBe(200);
  return (res.body as { items: PublicUser[] }).items;
}

async function userNamed(username: string): Promise<PublicUser | undefined> {
  return (await users()).find((u) => u.username === username);
}

async function refreshStatus(refreshToken: string): Promise<number> {
  return (await t.request('POST', '/api/auth/refresh', { body: { refreshToken } })).status;
}

async function loginStatus(username: string, password: string): Promise<number> {
  return (await t.request('POST', '/api/auth/login', { body: { username, password } })).status;
}

function messageOf(body: unknown): string {
  return (body as { message: string }).message;
}

beforeAll(async () => {
  t = await startTestServer({ FLOWTRACK_RATE_LIMIT_LOGIN_PER_MINUTE: '1000' });
  // The only admin until a test adds another.
  root = await t.signIn('root', 'admin');
}, 60_000);

afterAll(async () => {
  await t.close();
});

describe('API users (real HTTP)', () => {
  it('lists users with what the page shows and never a password hash', async () => {
    const list = await users();
    const me = list.find((u) => u.username === 'root');
    expect(me).toMatchObject({ id: root.id, role: 'admin', disabled: false });
    expect(typeof me?.createdAt).toBe('number');
    expect(typeof me?.passwordChangedAt).toBe('number');
    expect(JSON.stringify(list)).not.toMatch(/hash|argon2/i);
  });

  it('creates a user, and refuses a weak password, a taken name and a bad name with a message', async () => {
    const created = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'carol', password: GOOD_PASSWORD, role: 'analyst' },
    });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ username: 'carol', role: 'analyst', disabled: false });
    expect(created.body).not.toHaveProperty('passwordHash');
    expect(await loginStatus('carol', GOOD_PASSWORD)).toBe(200);

    const short = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'dave', password: 'short', role: 'viewer' },
    });
    expect(short.status).toBe(400);
    expect(messageOf(short.body)).toMatch(
      /^password refused: The password has 5 characters; use at least 12/,
    );

    const withName = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'dave', password: 'dave-likes-long-walks', role: 'viewer' },
    });
    expect(withName.status).toBe(400);
    expect(messageOf(withName.body)).toContain('contains the user name');

    const common = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'dave', password: 'Password123!', role: 'viewer' },
    });
    expect(common.status).toBe(400);
    expect(messageOf(common.body)).toContain('too common');

    const taken = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'carol', password: GOOD_PASSWORD, role: 'viewer' },
    });
    expect(taken.status).toBe(409);
    expect(messageOf(taken.body)).toBe('the user name "carol" is taken: choose another');

    const badName = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'dave smith', password: GOOD_PASSWORD, role: 'viewer' },
    });
    expect(badName.status).toBe(400);
    expect(messageOf(badName.body)).toContain('letters, digits and . _ @ - only');

    expect(await userNamed('dave')).toBeUndefined();
  });

  it('never demotes, disables or deletes the last enabled admin, and says why', async () => {
    // A disabled admin is no admin for this rule: it cannot manage the site.
    const dormant = await t.request('POST', '/api/users', {
      token: root.accessToken,
      body: { username: 'dormant', password: GOOD_PASSWORD, role: 'admin' },
    });
    const dormantId = (dormant.body as PublicUser).id;
    expect(
      (
        await t.request('PATCH', `/api/users/${dormantId}`, {
          token: root.accessToken,
          body: { disabled: true },
        })
      ).status,
    ).toBe(200);

    for (const [method, body] of [
      ['PATCH', { role: 'analyst' }],
      ['PATCH', { disabled: true }],
      ['DELETE', undefined],
    ] as const) {
      const res = await t.request(method, `/api/users/${root.id}`, {
        token: root.accessToken,
        ...(body === undefined ? {} : { body }),
      });
      expect(res.status).toBe(409);
      expect(messageOf(res.body)).toBe('root is the last admin: make another admin first');
    }
    expect(await userNamed('root')).toMatchObject({ role: 'admin', disabled: false });
    // Nothing ended: root's session goes on.
    expect((await t.request('GET', '/api/auth/me', { token: root.accessToken })).status).toBe(200);
  });

  it("a role change takes effect at once and ends that user's sessions", async () => {
    const rita = await t.signIn('rita', 'viewer');
    const res = await t.request('PATCH', `/api/users/${rita.id}`, {
      token: root.accessToken,
      body: { role: 'analyst' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ username: 'rita', role: 'analyst' });
    expect(await refreshStatus(rita.refreshToken)).toBe(401);
    const again = await t.request('POST', '/api/auth/login', {
      body: { username: 'rita', password: GOOD_PASSWORD },
    });
    expect((again.body as { user: { role: string } }).user.role).toBe('analyst');
  });

  it('an admin may demote themselves while another admin remains, which ends their session', async () => {
    const amy = await t.signIn('amy', 'admin');
    const res = await t.request('PATCH', `/api/users/${amy.id}`, {
      token: amy.accessToken,
      body: { role: 'viewer' },
    });
    expect(res.status).toBe(200);
    expect(await refreshStatus(amy.refreshToken)).toBe(401);
    // The access token has not expired, but the role is read from the store: no admin pages.
    expect((await t.request('GET', '/api/users', { token: amy.accessToken })).status).toBe(403);
  });

  it('resets a password: the old one stops working, the new one works, sessions end', async () => {
    const rob = await t.signIn('rob', 'viewer');
    const weak = await t.request('PATCH', `/api/users/${rob.id}`, {
      token: root.accessToken,
      body: { password: 'short' },
    });
    expect(weak.status).toBe(400);
    expect(messageOf(weak.body)).toMatch(/^password refused: /);
    expect(await refreshStatus(rob.refreshToken)).toBe(200);

    const reset = await t.request('PATCH', `/api/users/${rob.id}`, {
      token: root.accessToken,
      body: { password: NEW_PASSWORD },
    });
    expect(reset.status).toBe(200);
    expect(reset.body).not.toHaveProperty('passwordHash');
    expect(await loginStatus('rob', GOOD_PASSWORD)).toBe(401);
    expect(await loginStatus('rob', NEW_PASSWORD)).toBe(200);
  });

  it('regression: a change with a refused password changes nothing else (no half-applied role)', async () => {
    const pia = await t.signIn('pia', 'viewer');
    const res = await t.request('PATCH', `/api/users/${pia.id}`, {
      token: root.accessToken,
      body: { role: 'admin', disabled: true, password: 'short' },
    });
    expect(res.status).toBe(400);
    expect(await userNamed('pia')).toMatchObject({ role: 'viewer', disabled: false });
    expect(await refreshStatus(pia.refreshToken)).toBe(200);
  });

  it('disables and enables a user', async () => {
    const eve = await t.signIn('eve', 'viewer');
    const off = await t.request('PATCH', `/api/users/${eve.id}`, {
      token: root.accessToken,
      body: { disabled: true },
    });
    expect(off.body).toMatchObject({ disabled: true });
    expect(await loginStatus('eve', GOOD_PASSWORD)).toBe(401);
    const on = await t.request('PATCH', `/api/users/${eve.id}`, {
      token: root.accessToken,
      body: { disabled: false },
    });
    expect(on.body).toMatchObject({ disabled: false });
    expect(await loginStatus('eve', GOOD_PASSWORD)).toBe(200);
  });

  it('deletes a user, which ends their sessions at once; a second delete is 404', async () => {
    const del = await t.signIn('del', 'analyst');
    const res = await t.request('DELETE', `/api/users/${del.id}`, { token: root.accessToken });
    expect(res.status).toBe(204);
    expect(await userNamed('del')).toBeUndefined();
    expect((await t.request('GET', '/api/auth/me', { token: del.accessToken })).status).toBe(401);
    expect(await refreshStatus(del.refreshToken)).toBe(401);
    const again = await t.request('DELETE', `/api/users/${del.id}`, { token: root.accessToken });
    expect(again.status).toBe(404);
  });
});

describe('API own password (real HTTP)', () => {
  it('refuses a wrong current password and a weak new one, each with a message, changing nothing', async () => {
    const owen = await t.signIn('owen', 'viewer');
    const wrong = await t.request('POST', '/api/auth/password', {
      token: owen.accessToken,
      body: { currentPassword: 'not-my-password-at-all', newPassword: NEW_PASSWORD },
    });
    // 403, not 401: the session is good, the proof for this change is not. The dashboard takes a
    // 401 for an ended session (web/src/api/api-client.ts) and would sign the user out.
    expect(wrong.status).toBe(403);
    expect(messageOf(wrong.body)).toBe('the current password is wrong');

    const weak = await t.request('POST', '/api/auth/password', {
      token: owen.accessToken,
      body: { currentPassword: GOOD_PASSWORD, newPassword: 'owen-owen-owen-owen' },
    });
    expect(weak.status).toBe(400);
    expect(messageOf(weak.body)).toContain('contains the user name');

    expect(await refreshStatus(owen.refreshToken)).toBe(200);
    expect(await loginStatus('owen', GOOD_PASSWORD)).toBe(200);
  });

  it('a change ends every session, this one too; signing in with the new password works at once', async () => {
    const paula = await t.signIn('paula', 'analyst');
    const res = await t.request('POST', '/api/auth/password', {
      token: paula.accessToken,
      body: { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD },
    });
    expect(res.status).toBe(204);
    expect(await refreshStatus(paula.refreshToken)).toBe(401);
    expect(await loginStatus('paula', GOOD_PASSWORD)).toBe(401);
    const again = await t.request('POST', '/api/auth/login', {
      body: { username: 'paula', password: NEW_PASSWORD },
    });
    expect(again.status).toBe(200);
    const fresh = again.body as { accessToken: string };
    expect((await t.request('GET', '/api/auth/me', { token: fresh.accessToken })).status).toBe(200);
  });
});
