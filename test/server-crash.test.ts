/**
 * Kill -9 while the server writes: the real `flowtrack serve` process replays a spoofed SYN flood
 * (200,000 one-packet flows and a ddos alert that keeps growing) into its SQLite store and is
 * killed with SIGKILL in the middle. The database must then open clean (integrity_check ok) and
 * hold every flow and alert the server had acknowledged (committed) before the kill; a restarted
 * server serves them.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { GOOD_PASSWORD } from './helpers/api-server.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');

interface Health {
  ingest: { queued: number; acknowledged: { flows: number; alerts: number } };
}

let dir: string;
let capture: string;
let env: NodeJS.ProcessEnv;

/** Starts `flowtrack serve` and resolves with the process, its API address and its messages. */
async function serve(args: string[]): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      fail(new Error(`server did not start: ${stderr}`));
    }, 20_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const m = /serving the API at (http:\/\/\S+)\/api/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        ok(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`server exited (${code}): ${stderr}`));
    });
  });
  return { child, url, stderr: () => stderr };
}

async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'vic', password: GOOD_PASSWORD }),
  });
  return ((await res.json()) as { accessToken: string }).accessToken;
}

async function health(url: string, token: string): Promise<Health> {
  const res = await fetch(`${url}/api/system_health`, { headers: { authorization: `Bearer ${token}` } });
  return (await res.json()) as Health;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-crash-'));
  capture = join(dir, 'flood.pcap');
  execFileSync(process.execPath, [join(ROOT, 'bench', 'make-flood.mjs'), capture, '--packets', '200000']);
  useDataDir('data');
});

/** Points the servers at a new data folder under `dir` with the user vic in its store. */
function useDataDir(name: string): void {
  env = {
    ...process.env,
    FLOWTRACK_DATA_DIR: join(dir, name),
    FLOWTRACK_SERVER_PORT: '0',
    FLOWTRACK_RATE_LIMIT_PER_MINUTE: '100000',
    FLOWTRACK_CAPTURE_ENABLED: 'false',
  };
  execFileSync(process.execPath, [CLI, 'user', 'add', 'vic', '--password-stdin'], {
    env,
    input: `${GOOD_PASSWORD}\n`,
  });
}

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Waits until the writer has committed `flows` flows and is still busy; the ingest figures then. */
async function writing(url: string, token: string, flows: number): Promise<Health['ingest']> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const h = await health(url, token);
    if (h.ingest.acknowledged.flows >= flows && h.ingest.acknowledged.alerts >= 1) return h.ingest;
    if (Date.now() > deadline) throw new Error(`nothing written in 60 s: ${JSON.stringify(h)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('kill -9 of flowtrack serve while it writes (real process, SQLite)', () => {
  it('loses nothing it acknowledged and opens clean', async () => {
    const { child, url } = await serve(['--replay', capture]);
    let acknowledged: Health['ingest']['acknowledged'];
    let queuedAtKill: number;
    try {
      // Kill once a good part is written but the writer is still busy.
      const ingest = await writing(url, await signIn(url), 20_000);
      acknowledged = ingest.acknowledged;
      queuedAtKill = ingest.queued;
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    // The kill came while flows were still coming: the test would prove nothing otherwise.
    expect(acknowledged.flows).toBeLessThan(200_000);
    expect(queuedAtKill + acknowledged.flows).toBeGreaterThan(0);

    const db = new Database(join(dir, 'data', 'flowtrack.db'));
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      const flows = (db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n;
      const alerts = (
        db.prepare("SELECT count(*) AS n FROM alerts WHERE type = 'ddos'").get() as { n: number }
      ).n;
      expect(flows).toBeGreaterThanOrEqual(acknowledged.flows);
      expect(alerts).toBeGreaterThanOrEqual(1);
    } finally {
      db.close();
    }

    const restarted = await serve([]);
    try {
      const token = await signIn(restarted.url);
      const res = await fetch(`${restarted.url}/api/flows?limit=5`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { items: unknown[] }).items).toHaveLength(5);
      const anomalies = await fetch(`${restarted.url}/api/anomalies?type=ddos`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(((await anomalies.json()) as { items: unknown[] }).items.length).toBeGreaterThanOrEqual(1);
    } finally {
      restarted.child.kill('SIGTERM');
      await new Promise((r) => restarted.child.once('exit', r));
    }
  }, 120_000);

  it('stores every flow it was handed when SIGTERM and SIGINT come together mid-replay', async () => {
    // `timeout`, systemd and a terminal's Ctrl-C may signal twice at once; the second signal
    // used to kill the process while it stored what the pipeline handed over.
    useDataDir('signals');
    const { child, url, stderr } = await serve(['--replay', capture]);
    await writing(url, await signIn(url), 20_000);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stderr()).toContain('still stopping');
    const summary = /"msg":"pipeline stopped"/;
    const line = readFileSync(join(dir, 'signals', 'logs', 'server.log'), 'utf8')
      .split('\n')
      .filter((l) => summary.test(l))
      .pop();
    const handedOver = (JSON.parse(line ?? '{}') as { flows?: number }).flows;
    expect(handedOver).toBeGreaterThan(20_000);
    const db = new Database(join(dir, 'signals', 'flowtrack.db'), { readonly: true });
    try {
      expect((db.prepare('SELECT count(*) AS n FROM flows').get() as { n: number }).n).toBe(handedOver);
    } finally {
      db.close();
    }
  }, 120_000);
});
