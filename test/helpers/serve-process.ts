/**
 * The real `flowtrack` command as a child process (the built dist/cli/main.js, as an admin runs
 * it): `startServe` starts `flowtrack serve` and waits for its start-up line, `runCli` runs a
 * command to its end. Every process started here is ended by `stopAllServes` (call it in
 * afterAll), so a failed test leaves no server behind.
 */

import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from './corpus.js';

export const CLI = join(repoRoot, 'dist', 'cli', 'main.js');

export interface ServeProcess {
  readonly child: ChildProcess;
  /** Where the API answers, e.g. https://127.0.0.1:41234 (no /api). */
  readonly url: string;
  /** Everything the server printed on standard error so far. */
  stderr(): string;
  /** Resolves with the match once standard error matches `pattern` (fails after `timeoutMs`). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** SIGTERM, then the exit code (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const running = new Set<ChildProcess>();

/**
 * This process's environment without any FLOWTRACK_ setting of the developer's own (a test says
 * every setting it depends on), plus `settings`.
 */
export function cliEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('FLOWTRACK_')) env[name] = value;
  return { ...env, ...settings };
}

/** Starts `flowtrack serve ARGS` with exactly `env` and resolves once it serves the API. */
export async function startServe(args: readonly string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  const child = spawn(process.execPath, [CLI, 'serve', ...args], {
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
    for (const w of waiters) w();
  });
  const waitFor = (pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const m = pattern.exec(stderr);
        if (m) finish(() => resolve(m));
        else if (child.exitCode !== null || child.signalCode !== null)
          finish(() =>
            reject(new Error(`flowtrack serve exited (${child.exitCode}) before ${pattern}: ${stderr}`)),
          );
      };
      const timer = setTimeout(() => {
        finish(() =>
          reject(new Error(`flowtrack serve printed no ${pattern} in ${timeoutMs} ms: ${stderr}`)),
        );
      }, timeoutMs);
      const finish = (settle: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', check);
        settle();
      };
      waiters.add(check);
      child.once('exit', check);
      check();
    });
  let url: string;
  try {
    url = (await waitFor(/serving the API at (https?:\/\/\S+)\/api /))[1]!;
  } catch (err) {
    await stop(child);
    throw err;
  }
  return { child, url, stderr: () => stderr, waitFor, stop: () => stop(child) };
}

async function stop(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  try {
    return await exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Ends every process this helper started that is still running. */
export async function stopAllServes(): Promise<void> {
  await Promise.all([...running].map((c) => stop(c)));
}

/**
 * Runs `flowtrack ARGS` to its end with exactly `env`, `input` on standard input; a command still
 * running after `timeoutMs` is killed (code null).
 */
export function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  input = '',
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

export interface ApiAnswer {
  status: number;
  body: unknown;
}

/** A JSON client for the API at `baseUrl` (as `startServe` gives it). */
export function apiClient(
  baseUrl: string,
): (method: string, path: string, options?: { token?: string; body?: unknown }) => Promise<ApiAnswer> {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = {};
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? null : (JSON.parse(text) as unknown) };
  };
}
