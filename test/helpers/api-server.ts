/**
 * A real FlowTrack server for API tests: `startServer` on a free port of 127.0.0.1 with its own
 * data folder (SQLite store, log files, signing key) under the system's temp folder, and a small
 * HTTP client that speaks to it through real sockets.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadServiceConfig } from '../../src/config/service-config.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { hashPassword } from '../../src/api/auth/passwords.js';
import type { Role } from '../../src/api/auth/roles.js';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  request(method: string, path: string, options?: { token?: string; body?: unknown }): Promise<TestResponse>;
  /** Creates a user straight in the store and signs in through the API; returns its tokens. */
  signIn(username: string, role: Role): Promise<{ accessToken: string; refreshToken: string; id: number }>;
  close(): Promise<void>;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A password the policy accepts. */
export const GOOD_PASSWORD = 'plover-quartz-umbrella-71';

export async function startTestServer(
  env: Record<string, string> = {},
  options: { webRoot?: string } = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'flowtrack-api-'));
  const config = loadServiceConfig({
    // No live capture unless a test asks for it: the API tests must not listen on the host's interfaces.
    env: {
      FLOWTRACK_DATA_DIR: dataDir,
      FLOWTRACK_SERVER_PORT: '0',
      FLOWTRACK_LOGS_LEVEL: 'warn',
      FLOWTRACK_CAPTURE_ENABLED: 'false',
      // Nor the host monitor: its resource alerts would follow the test machine's load.
      FLOWTRACK_SYSTEM_ENABLED: 'false',
      ...env,
    },
  });
  const server = await startServer(config, { print: () => undefined, ...options });
  const request: TestServer['request'] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    }
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed };
  };
  return {
    server,
    dataDir,
    request,
    async signIn(username, role) {
      const user = await server.store.users.create(
        { username, passwordHash: await hashPassword(GOOD_PASSWORD), role },
        Date.now(),
      );
      const res = await request('POST', '/api/auth/login', { body: { username, password: GOOD_PASSWORD } });
      if (res.status !== 200)
        throw new Error(`login of ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
      const tokens = res.body as { accessToken: string; refreshToken: string };
      return { ...tokens, id: user.id };
    },
    async close() {
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
