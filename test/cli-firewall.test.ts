/**
 * `flowtrack firewall` as an admin uses it, on a temporary SQLite database in dry-run mode (the
 * default: no kernel rule is touched). Most cases run the command in-process through commander,
 * each invocation a fresh service as a fresh process would build; the last runs the built CLI
 * (`npm run build` first) to check the exit status and the one-line error of a refusal.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { firewallCommand } from '../src/cli/firewall-command.js';
import type { FirewallRule } from '../src/store/firewall-rule-repository.js';
import { openStore } from '../src/store/store.js';
import { describeError } from '../src/util/errors.js';
import { repoRoot } from './helpers/corpus.js';

const actor = `cli:${userInfo().username}`;

interface Result {
  stdout: string;
  stderr: string;
  exitCode: number;
}

let dir = '';
let configFile = '';
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'flowtrack-cli-firewall-'));
  configFile = join(dir, 'flowtrack.yaml');
  writeFileSync(configFile, `dataDir: ${join(dir, 'data')}\nfirewall:\n  mode: dry-run\n`);
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Commander's own errors thrown instead of exiting, in every subcommand. */
function throwInsteadOfExit(command: Command, out: Result): void {
  command.exitOverride().configureOutput({
    writeOut: (t) => (out.stdout += t),
    writeErr: (t) => (out.stderr += t),
  });
  for (const sub of command.commands) throwInsteadOfExit(sub, out);
}

/** `flowtrack firewall ARGS` with main.ts's error handling: one line on stderr, exit status 1. */
async function firewall(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const out: Result = { stdout: '', stderr: '', exitCode: 0 };
  const program = new Command('flowtrack').addCommand(
    firewallCommand({
      env: { FLOWTRACK_CONFIG: configFile, ...env },
      cwd: dir,
      stdout: (t) => (out.stdout += t),
      stderr: (t) => (out.stderr += t),
    }),
  );
  throwInsteadOfExit(program, out);
  try {
    await program.parseAsync(['firewall', ...args], { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      out.exitCode = err.exitCode;
    } else {
      out.stderr += `flowtrack: ${describeError(err)}\n`;
      out.exitCode = 1;
    }
  }
  return out;
}

async function ok(args: string[]): Promise<string> {
  const r = await firewall(args);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

async function rulesInForce(): Promise<FirewallRule[]> {
  return JSON.parse(await ok(['list', '--json'])) as FirewallRule[];
}

function ruleIdOf(output: string): number {
  const m = /^added rule (\d+): /.exec(output);
  expect(m, output).not.toBeNull();
  return Number(m![1]);
}

async function withStore<T>(work: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore(join(dir, 'data', 'flowtrack.db'));
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

describe('flowtrack firewall', () => {
  it('blocks a source, lists it in a table and lifts it again', async () => {
    const added = await ok(['block', '203.0.113.7', '--comment', 'scanning us']);
    expect(added).toMatch(
      new RegExp(
        `^added rule \\d+: block 203\\.0\\.113\\.7, until lifted, by ${actor}, comment "scanning us"\\n$`,
      ),
    );
    const id = ruleIdOf(added);

    const table = (await ok(['list'])).trimEnd().split('\n');
    expect(table[0]).toMatch(/^ID\s+KIND\s+WHAT\s+INTERFACE\s+EXPIRES\s+AUTHOR\s+ALERT\s+COMMENT$/);
    expect(table).toHaveLength(2);
    expect(table[1]!.split(/\s{2,}/)).toEqual([
      String(id),
      'block',
      '203.0.113.7',
      'any',
      'never',
      actor,
      '-',
      'scanning us',
    ]);
    expect(await rulesInForce()).toMatchObject([
      { id, kind: 'block', source: '203.0.113.7', createdBy: actor, expiresAt: null, removedAt: null },
    ]);

    expect(await ok(['lift', String(id)])).toBe(`lifted rule ${id}: block 203.0.113.7\n`);
    expect(await ok(['list'])).toBe('no firewall rules in force\n');
    const history = await ok(['list', '--all']);
    expect(history).toMatch(/^ID\s+KIND\s+STATE\s+WHAT/);
    expect(history).toContain(`lifted by ${actor}`);

    const again = await firewall(['delete', String(id)]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr).toBe(`flowtrack: firewall rule ${id} is no longer in force (lifted by ${actor})\n`);
  });

  it('refuses to block loopback, says why, exits non-zero and audits the refusal', async () => {
    const r = await firewall(['block', '127.0.0.1']);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      "flowtrack: cannot block: 127.0.0.1 is loopback: the host's own services talk over it\n",
    );
    expect(await rulesInForce()).toEqual([]);
    const denied = await withStore((store) => store.audit.list({ actor, outcome: 'denied' }));
    expect(denied.items).toMatchObject([
      { action: 'firewall.rule.add', actorIp: null, after: { kind: 'block', source: '127.0.0.1' } },
    ]);
  });

  it('closes and opens ports; an open rule replaces the close; protected ports stay open', async () => {
    const closed = ruleIdOf(await ok(['close', '23/tcp', '--interface', 'eth0']));
    expect(await rulesInForce()).toMatchObject([
      { id: closed, kind: 'close', port: 23, protocol: 'tcp', interface: 'eth0' },
    ]);
    expect((await ok(['list'])).split('\n')[1]).toMatch(
      new RegExp(`^${closed}\\s+close\\s+23/tcp\\s+eth0\\s+never`),
    );

    const opened = ruleIdOf(await ok(['open', '23/TCP']));
    expect(await rulesInForce()).toMatchObject([{ id: opened, kind: 'open', port: 23, protocol: 'tcp' }]);

    const ssh = await firewall(['close', '22/tcp']);
    expect(ssh.exitCode).toBe(1);
    expect(ssh.stderr).toMatch(/^flowtrack: cannot close: 22\/tcp is how admins reach this host/);
    const api = await firewall(['close', '8080/tcp']);
    expect(api.stderr).toMatch(/^flowtrack: cannot close: 8080\/tcp is how admins reach this host/);
  });

  it('gives a rule an expiry with --for', async () => {
    const before = Date.now();
    const added = await ok(['block', '198.51.100.0/24', '--for', '10m']);
    expect(added).toMatch(
      /^added rule \d+: block 198\.51\.100\.0\/24, expires in (9|10)m \(\d{4}-.*Z\), by /,
    );
    const [rule] = await rulesInForce();
    expect(rule!.expiresAt).toBeGreaterThanOrEqual(before + 600_000);
    expect(rule!.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    expect((await ok(['list'])).split('\n')[1]).toMatch(/\s+in (9|10)m\s+/);
  });

  it('flushes only with --yes', async () => {
    await ok(['block', '203.0.113.8']);
    await ok(['allow', '192.0.2.10']);
    const refused = await firewall(['flush']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(
      /^flowtrack: flush lifts every firewall rule in force .*run again with --yes\n$/,
    );
    expect(await rulesInForce()).toHaveLength(2);

    expect(await ok(['flush', '--yes'])).toMatch(
      /^lifted 2 rules and removed FlowTrack's rules from the kernel \(dry-run\)/,
    );
    expect(await rulesInForce()).toEqual([]);
  });

  it('keeps the kill switch across invocations and shows it in status', async () => {
    expect(await ok(['status'])).toMatch(/^automatic blocking: +on; at most 60 new blocks a minute$/m);
    expect(await ok(['auto-block', 'off'])).toMatch(/^automatic blocking is off; /);

    const status = await ok(['status']);
    expect(status).toMatch(/^mode: +dry-run /m);
    expect(status).toMatch(/^backend: +dry-run$/m);
    expect(status).toMatch(new RegExp(`^automatic blocking: +off \\(switched by ${actor} at `, 'm'));
    await ok(['close', '23/tcp']);
    const json = JSON.parse(await ok(['status', '--json'])) as {
      autoBlock: { enabled: boolean };
      rulesInForce: Record<string, number>;
    };
    expect(json.autoBlock.enabled).toBe(false);
    expect(json.rulesInForce).toEqual({ total: 1, block: 0, allow: 0, close: 1, open: 0 });

    const audit = await withStore((store) => store.audit.list({ actor, action: 'firewall.autoblock' }));
    expect(audit.items).toMatchObject([
      { before: { enabled: true }, after: { enabled: false }, outcome: 'ok' },
    ]);
    expect(await ok(['auto-block', 'off'])).toMatch(/^automatic blocking is off \(it already was\)/);
  });

  it('says clearly what is wrong with bad input and changes nothing', async () => {
    const cases: [string[], RegExp][] = [
      [
        ['block', 'example.com'],
        /^flowtrack: "example\.com" is not an IP address or prefix: write it like 203\.0\.113\.7/,
      ],
      [['close', '99999/tcp'], /^flowtrack: port 99999 is not a port number from 1 to 65535\n$/],
      [['close', '23'], /^flowtrack: "23" is not a port and protocol: write it like 23\/tcp/],
      [
        ['block', '203.0.113.9', '--for', 'soon'],
        /^flowtrack: --for "soon": give a duration such as 30s, 10m, 1h or 7d/,
      ],
      [['lift', 'x'], /^flowtrack: rule id "x": give a whole number/],
      [['lift', '42'], /^flowtrack: no firewall rule 42\n$/],
    ];
    for (const [args, message] of cases) {
      const r = await firewall(args);
      expect(r.exitCode, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    const badChoice = await firewall(['auto-block', 'maybe']);
    expect(badChoice.exitCode).toBe(1);
    expect(badChoice.stderr).toMatch(/Allowed choices are on, off/);
    expect(await rulesInForce()).toEqual([]);
  });

  it("records every change in the audit log under the CLI's actor", async () => {
    const id = ruleIdOf(await ok(['block', '203.0.113.7']));
    await ok(['lift', String(id)]);
    await ok(['reconcile']);
    const events = await withStore((store) => store.audit.list({ actor }));
    expect(events.items.map((e) => [e.action, e.target, e.actorIp, e.outcome]).reverse()).toEqual([
      ['firewall.rule.add', String(id), null, 'ok'],
      ['firewall.rule.remove', String(id), null, 'ok'],
    ]);
  });

  it('has nothing to reconcile in a dry run', async () => {
    await ok(['block', '203.0.113.7']);
    const r = await firewall(['reconcile']);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(
      /dry-run: the kernel holds nothing of FlowTrack's, so there is nothing to reconcile/,
    );
  });

  it('takes the configuration from --config as well as FLOWTRACK_CONFIG', async () => {
    await ok(['block', '203.0.113.7']);
    const other = join(dir, 'other.yaml');
    writeFileSync(other, `dataDir: ${join(dir, 'other-data')}\n`);
    const r = await firewall(['list', '--config', other]);
    expect(r.stdout).toBe('no firewall rules in force\n');
    const bad = await firewall(['list'], { FLOWTRACK_FIREWALL_MODE: 'off' });
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/firewall\.mode/);
  });
});

describe('the built flowtrack firewall', () => {
  const cliPath = join(repoRoot, 'dist/cli/main.js');

  function flowtrack(args: string[]): { status: number | null; stdout: string; stderr: string } {
    if (!existsSync(cliPath)) {
      throw new Error(`${cliPath} is missing: run \`npm run build\` first (\`npm test\` does it)`);
    }
    const r = spawnSync(process.execPath, [cliPath, ...args], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, FLOWTRACK_CONFIG: configFile, NO_COLOR: '1' },
    });
    if (r.error) throw r.error;
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it('exits 1 with one line saying why a block is refused, and 0 for a block it makes', () => {
    const refused = flowtrack(['firewall', 'block', '::1']);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toBe(
      "flowtrack: cannot block: ::1 is loopback: the host's own services talk over it\n",
    );

    const made = flowtrack(['firewall', 'block', '203.0.113.7', '--for', '1h']);
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^added rule \d+: block 203\.0\.113\.7, expires in (1h|59m) \(/);
    expect(made.stderr).toMatch(/firewall\.mode is dry-run/);

    const help = flowtrack(['firewall', '--help']);
    expect(help.stdout).toMatch(/block \[options\] <source>/);
    expect(help.stdout).toContain('flowtrack firewall block 203.0.113.7 --for 1h');
  });
});
