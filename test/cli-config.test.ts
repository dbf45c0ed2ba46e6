/**
 * `flowtrack config check` through commander, in-process: a program like main.ts's with the
 * config command registered, run with real argv, a real file and a private environment.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { configCommand } from '../src/cli/config-command.js';

let dir = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-cli-config-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const out = { stdout: '', stderr: '', exitCode: 0 };
  const program = new Command('flowtrack').exitOverride().addCommand(
    configCommand({
      env,
      cwd: dir,
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
      setExitCode: (code) => (out.exitCode = code),
    }),
  );
  await program.parseAsync(args, { from: 'user' });
  return out;
}

describe('flowtrack config check', () => {
  it('prints "config OK" and the effective configuration with the database password masked', async () => {
    const file = join(dir, 'flowtrack.yaml');
    writeFileSync(file, 'server:\n  port: 9443\nstore:\n  url: postgres://ft:pg-secret-9@db/flowtrack\n');
    const result = await run(['config', 'check', '--config', file], { FLOWTRACK_LOGS_LEVEL: 'warn' });
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toBe(`config OK (${file})`);
    expect(result.stdout).toContain('port: 9443');
    expect(result.stdout).toContain('level: warn');
    expect(result.stdout).toContain('url: postgres://ft:***@db/flowtrack');
    expect(result.stdout).not.toContain('pg-secret-9');
  });

  it('checks defaults and the environment when there is no file', async () => {
    const result = await run(['config', 'check']);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^config OK \(defaults and environment; no file\)\n/);
    expect(result.stdout).toContain('host: 127.0.0.1');
  });

  it('prints every problem and exits 1', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ server: { port: -1, colour: 'blue' }, backup: { keep: 0 } }));
    const result = await run(['config', 'check', '-c', file], { FLOWTRACK_SERVER_HOTS: 'x' });
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe(`invalid configuration (${file}), 4 problems:`);
    expect(lines.slice(1).map((l) => l.trim().replace(/ \(.*$/, ''))).toEqual([
      'FLOWTRACK_SERVER_HOTS: unknown environment variable',
      'server.port: too small: expected number to be >=0',
      'server.colour: unknown key',
      'backup.keep: too small: expected number to be >=1',
    ]);
  });

  it('says which file it could not read', async () => {
    const result = await run(['config', 'check'], { FLOWTRACK_CONFIG: 'nowhere.yaml' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      `cannot read the configuration file ${join(dir, 'nowhere.yaml')}: ENOENT`,
    );
  });
});
