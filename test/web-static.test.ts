/**
 * The dashboard served by a real server (127.0.0.1, real sockets) from a real Vite build of web/:
 * index.html under the Content-Security-Policy it needs, hashed assets cached for good, the
 * dashboard's routes answered with index.html, the API's JSON 404 left alone under /api, and a
 * server without a build that still runs and says what to do.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './helpers/api-server.js';

const VITE_CONFIG = fileURLToPath(new URL('../web/vite.config.ts', import.meta.url));

let outDir: string;
let t: TestServer;
let bare: TestServer;

beforeAll(async () => {
  // A build of its own, so the test checks the web/ of this checkout, not an older dist/web.
  outDir = mkdtempSync(join(tmpdir(), 'flowtrack-web-'));
  await build({ configFile: VITE_CONFIG, logLevel: 'silent', build: { outDir, emptyOutDir: true } });
  t = await startTestServer({}, { webRoot: outDir });
  bare = await startTestServer({}, { webRoot: join(outDir, 'not-built') });
});

afterAll(async () => {
  await t.close();
  await bare.close();
  rmSync(outDir, { recursive: true, force: true });
});

async function get(server: TestServer, path: string, init: RequestInit = {}) {
  const res = await fetch(`${server.server.url}${path}`, init);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string | null): Map<string, string[]> {
  return new Map(
    (header ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0] !== '')
      .map(([name, ...values]) => [name!, values]),
  );
}

describe('the dashboard on the API port (real HTTP, real build)', () => {
  it("serves index.html at / under a CSP that allows the app's own files and nothing else", async () => {
    const res = await get(t, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.text).toContain('<div id="root"></div>');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    // Every script is a file of its own: the CSP allows no inline code.
    expect(res.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const csp = directives(res.headers.get('content-security-policy'));
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    const all = [...csp.values()].flat();
    expect(all).not.toContain("'unsafe-inline'");
    expect(all.filter((v) => /^https?:|^\*/.test(v))).toEqual([]);
    // Plain HTTP: upgrading the page's own files to https:// would break it.
    expect(csp.has('upgrade-insecure-requests')).toBe(false);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('serves the hashed assets with a year-long immutable cache, and a missing one as a 404', async () => {
    const index = (await get(t, '/')).text;
    const assets = [...index.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    expect(assets.some((a) => a.endsWith('.css'))).toBe(true);
    for (const asset of assets) {
      const res = await get(t, asset);
      expect(res.status, asset).toBe(200);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      expect(res.headers.get('content-type')).toMatch(asset.endsWith('.js') ? /javascript/ : /text\/css/);
    }
    const missing = await get(t, '/assets/index-gone.js');
    expect(missing.status).toBe(404);
    expect(missing.text).not.toContain('<div id="root">');
    // Files outside assets/ are not hashed: revalidated each time.
    expect((await get(t, '/favicon.svg')).headers.get('cache-control')).toBe('no-cache');
  });

  it("answers the dashboard's own routes with index.html, so a reload or a bookmark works", async () => {
    for (const path of [
      '/alerts',
      '/alerts/port_scan-1?tab=evidence',
      '/firewall/rules',
      '/hosts/10.0.0.5',
      '/hosts/2001:db8::1',
    ]) {
      const res = await get(t, path);
      expect(res.status, path).toBe(200);
      expect(res.text).toContain('<div id="root"></div>');
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
  });

  it("leaves /api alone: an unknown API route is still the API's JSON 404", async () => {
    for (const path of ['/api/unknown', '/api', '/api/assets/x.js']) {
      const res = await get(t, path);
      expect(res.status, path).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(res.text)).toMatchObject({ error: 'NOT_FOUND' });
    }
    const post = await get(t, '/alerts', { method: 'POST' });
    expect(post.status).toBe(404);
    expect(JSON.parse(post.text)).toMatchObject({ error: 'NOT_FOUND' });
    // The API itself still needs its token.
    expect((await get(t, '/api/capture')).status).toBe(401);
  });

  it('runs without a build and says at / what to do, with the API working as usual', async () => {
    const res = await get(bare, '/');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(res.text.trim().split('\n')).toHaveLength(1);
    expect(res.text).toContain('npm run build');
    expect((await get(bare, '/alerts')).text).toContain('npm run build');
    expect((await get(bare, '/api/health')).status).toBe(200);
    const unknown = await get(bare, '/api/unknown');
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: 'NOT_FOUND' });
  });
});
