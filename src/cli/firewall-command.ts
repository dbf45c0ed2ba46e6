/**
 * `flowtrack firewall`: the host firewall from the shell, on the database and kernel the server
 * uses (the server reconciles with the database every minute, so it follows what is done here).
 * Every change goes through FirewallService, as the API's do: checked for safety (loopback, the
 * host's own addresses, gateways, DNS servers, the allow-list, protected ports) and audited under
 * `cli:<login name>`. It must never write the rules table itself.
 */

import { Argument, Command } from 'commander';
import { userInfo } from 'node:os';
import {
  CONFIG_FILE_VARIABLE,
  durationMs,
  loadServiceConfig,
  type ServiceConfig,
} from '../config/service-config.js';
import { AdminSessions } from '../respond/admin-sessions.js';
import {
  AUTO_BLOCK_SETTING,
  FirewallService,
  type Actor,
  type RuleInput,
} from '../respond/firewall-service.js';
import { leftovers, openFirewall } from '../respond/open-firewall.js';
import { RULE_KINDS, type FirewallRule, type RuleKind } from '../store/firewall-rule-repository.js';
import { openStore, type Store } from '../store/store.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** Where the command reads and writes; the process's own by default (tests pass their own). */
export interface FirewallCommandIo {
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

interface ConfigFlags {
  config?: string;
}

interface RuleFlags extends ConfigFlags {
  for?: string;
  interface?: string;
  comment?: string;
}

interface ListFlags extends ConfigFlags {
  all?: boolean;
  json?: boolean;
  limit: string;
}

/** What a subcommand works with: the service, built as `flowtrack serve` builds it. */
interface FirewallContext {
  config: ServiceConfig;
  store: Store;
  service: FirewallService;
  actor: Actor;
}

const DURATION = /^[1-9]\d{0,5}[smhd]$/;
const LONGEST_MS = 100 * 365 * 86_400_000;
const PORT_AND_PROTOCOL = /^(\d{1,10})\/(tcp|udp)$/i;
const CONFIG_HELP = `service configuration, YAML or JSON (default: $${CONFIG_FILE_VARIABLE}); FLOWTRACK_* variables override it`;

/** The `firewall` command and its subcommands. */
export function firewallCommand(io: FirewallCommandIo = {}): Command {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));

  /** Loads the configuration, opens the store and the backend, runs `work`, closes them. */
  const withService = async (
    flags: ConfigFlags,
    work: (context: FirewallContext) => Promise<void>,
  ): Promise<void> => {
    const config = loadServiceConfig({
      env: io.env ?? process.env,
      ...(flags.config === undefined ? {} : { file: flags.config }),
      ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
    });
    const store = await openStore(config.store.url);
    let service: FirewallService | null = null;
    try {
      // An admin at the shell over ssh: that address must not be blocked either.
      const adminSessions = new AdminSessions(60_000);
      const ssh = (io.env ?? process.env).SSH_CLIENT?.split(' ')[0];
      if (ssh) adminSessions.saw(ssh, cliActor().name);
      service = new FirewallService({
        backend: await openFirewall(config.firewall),
        rules: () => store.firewallRules,
        settings: () => store.settings,
        audit: (event) => store.audit.append(event),
        config: config.firewall,
        adminSessions,
        // The server's own port, as far as the configuration says (0: chosen at start, unknown here).
        apiPort: () => (config.server.port === 0 ? undefined : config.server.port),
        log: {
          info: () => undefined,
          warn: (_obj, msg) => stderr(`flowtrack: ${msg}\n`),
          error: (obj, msg) => {
            const err = (obj as { err?: unknown }).err;
            stderr(`flowtrack: ${msg}${typeof err === 'string' ? `: ${err}` : ''}\n`);
          },
        },
      });
      await service.loadAutoBlock();
      await work({ config, store, service, actor: cliActor() });
    } finally {
      await service?.stop();
      await store.close();
    }
  };

  const dryRunNote = (config: ServiceConfig): void => {
    if (config.firewall.mode === 'dry-run')
      stderr(
        'flowtrack: firewall.mode is dry-run: rules are kept, checked and audited; the kernel is not touched\n',
      );
  };

  const firewall = new Command('firewall')
    .description('Block and allow sources, close and open ports, and switch automatic blocking')
    .addHelpText(
      'after',
      `
Works on the database and the kernel of \`flowtrack serve\` (which follows within a minute).
Every change is checked for safety and audited as cli:<your login name>.

Examples:
  flowtrack firewall list
  flowtrack firewall block 203.0.113.7 --for 1h --comment "scanning us"
  flowtrack firewall close 23/tcp --interface eth0
  flowtrack firewall lift 12
  flowtrack firewall auto-block off
  flowtrack firewall status --config /etc/flowtrack/flowtrack.yaml`,
    );

  firewall
    .command('list')
    .description('Show the rules in force (--all: the latest ones, lifted and expired too)')
    .option('--all', 'the latest rules, whether in force or not')
    .option('--limit <n>', 'how many rules --all shows', '100')
    .option('--json', 'print the rules as JSON')
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      `
Examples:
  flowtrack firewall list
  flowtrack firewall list --all --limit 20
  flowtrack firewall list --json`,
    )
    .action(async (flags: ListFlags) => {
      const limit = wholeNumber('--limit', flags.limit, 1, 10_000);
      await withService(flags, async ({ store, service }) => {
        const now = Date.now();
        const rules = flags.all === true ? await store.firewallRules.history(limit) : await service.active();
        if (flags.json === true) {
          stdout(`${JSON.stringify(rules, null, 2)}\n`);
          return;
        }
        if (rules.length === 0) {
          stdout(flags.all === true ? 'no firewall rules yet\n' : 'no firewall rules in force\n');
          return;
        }
        stdout(ruleTable(rules, now, flags.all === true));
      });
    });

  const ruleCommand = (kind: RuleKind, argument: string, description: string, examples: string[]): void => {
    firewall
      .command(kind)
      .description(description)
      .argument(
        argument,
        kind === 'block' || kind === 'allow' ? 'an address or prefix' : 'a port and protocol',
      )
      .option('--for <duration>', 'lift it after 30s, 10m, 1h, 7d... (default: until lifted)')
      .option('--interface <name>', 'only on this interface (default: every interface)')
      .option('--comment <text>', 'why, for whoever reads the rules later')
      .option('-c, --config <file>', CONFIG_HELP)
      .addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}`)
      .action(async (target: string, flags: RuleFlags) => {
        // Checked before anything is opened: bad input changes nothing.
        const lasting = flags.for === undefined ? null : parseDuration(flags.for);
        const input: RuleInput = {
          kind,
          ...(kind === 'block' || kind === 'allow' ? { source: target } : parsePort(target)),
          ...(flags.interface !== undefined && { interface: flags.interface }),
          ...(flags.comment !== undefined && { comment: flags.comment }),
        };
        await withService(flags, async ({ config, service, actor }) => {
          const now = Date.now();
          const rule = await service.addRule(
            { ...input, ...(lasting !== null && { expiresAt: now + lasting }) },
            actor,
          );
          stdout(`added ${describeRule(rule, Date.now())}\n`);
          dryRunNote(config);
        });
      });
  };

  ruleCommand('block', '<source>', 'Drop everything from an address or prefix', [
    'flowtrack firewall block 203.0.113.7',
    'flowtrack firewall block 198.51.100.0/24 --for 7d --comment "botnet range"',
    'flowtrack firewall block 2001:db8::/64 --for 30m --interface eth1',
  ]);
  ruleCommand('allow', '<source>', 'Never block an address or prefix (lifts the blocks that cover it)', [
    'flowtrack firewall allow 192.0.2.10 --comment "monitoring host"',
    'flowtrack firewall allow 10.1.0.0/16',
  ]);
  ruleCommand('close', '<port/proto>', 'Refuse connections to a local port', [
    'flowtrack firewall close 23/tcp',
    'flowtrack firewall close 161/udp --interface eth0 --for 1h',
  ]);
  ruleCommand('open', '<port/proto>', 'Keep a local port open (overrides the rules that close it)', [
    'flowtrack firewall open 443/tcp --comment "web server"',
  ]);

  firewall
    .command('lift')
    .alias('delete')
    .description('Lift a rule (its id is in `flowtrack firewall list`)')
    .argument('<id>', 'the rule id')
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText('after', '\nExamples:\n  flowtrack firewall lift 12\n  flowtrack firewall delete 12')
    .action(async (idText: string, flags: ConfigFlags) => {
      const id = wholeNumber('rule id', idText, 1, Number.MAX_SAFE_INTEGER);
      await withService(flags, async ({ config, service, actor }) => {
        const rule = await service.removeRule(id, actor);
        const on = rule.interface === null ? '' : ` on ${rule.interface}`;
        stdout(`lifted rule ${rule.id}: ${rule.kind} ${targetOf(rule)}${on}\n`);
        dryRunNote(config);
      });
    });

  firewall
    .command('reconcile')
    .description("Make the kernel enforce exactly the database's rules, and say what that changed")
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      `
The server does this every minute by itself; run it after editing the kernel's rules by hand.

Examples:
  flowtrack firewall reconcile`,
    )
    .action(async (flags: ConfigFlags) => {
      await withService(flags, async ({ config, service }) => {
        if (config.firewall.mode === 'dry-run') {
          stdout(
            "firewall.mode is dry-run: the kernel holds nothing of FlowTrack's, so there is nothing to reconcile\n",
          );
          return;
        }
        const report = await service.reconcile();
        const active = await service.active();
        if (report.missing.length === 0 && report.stale.length === 0) {
          stdout(`the kernel already enforces the database's ${plural(active.length, 'rule')}\n`);
        }
        if (report.missing.length > 0)
          stdout(`re-applied ${report.missing.length}: ${report.missing.join(', ')}\n`);
        if (report.stale.length > 0)
          stdout(`removed ${report.stale.length} stale: ${report.stale.join(', ')}\n`);
      });
    });

  firewall
    .command('flush')
    .description("Lift every rule in force and remove FlowTrack's rules from the kernel (nothing else)")
    .option('--yes', 'really lift every rule')
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText('after', '\nExamples:\n  flowtrack firewall flush --yes')
    .action(async (flags: ConfigFlags & { yes?: boolean }) => {
      if (flags.yes !== true) {
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          "flush lifts every firewall rule in force and removes FlowTrack's rules from the kernel: run again with --yes",
        );
      }
      await withService(flags, async ({ config, service, actor }) => {
        const lifted = await service.flush(actor);
        const also = await leftovers(service.backendInUse.name, true);
        const from = [service.backendInUse.name, ...also].join(', ');
        stdout(
          `lifted ${plural(lifted, 'rule')} and removed FlowTrack's rules from the kernel (${from}); nothing else was touched\n`,
        );
        dryRunNote(config);
      });
    });

  firewall
    .command('auto-block')
    .description('The kill switch: switch automatic blocking of attackers on or off (kept across restarts)')
    .addArgument(new Argument('<state>', 'on or off').choices(['on', 'off']))
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText(
      'after',
      '\nExamples:\n  flowtrack firewall auto-block off\n  flowtrack firewall auto-block on',
    )
    .action(async (state: 'on' | 'off', flags: ConfigFlags) => {
      await withService(flags, async ({ service, actor }) => {
        const was = service.autoBlockEnabled;
        await service.setAutoBlock(state === 'on', actor);
        stdout(
          `automatic blocking is ${state}${was === (state === 'on') ? ' (it already was)' : ''}; a running server follows within a minute\n`,
        );
      });
    });

  firewall
    .command('status')
    .description('Show the mode, the backend, the kill switch and the rules in force by kind')
    .option('--json', 'print JSON')
    .option('-c, --config <file>', CONFIG_HELP)
    .addHelpText('after', '\nExamples:\n  flowtrack firewall status\n  flowtrack firewall status --json')
    .action(async (flags: ConfigFlags & { json?: boolean }) => {
      await withService(flags, async ({ config, store, service }) => {
        // The rest of status() (counts, refusals, last reconcile) belongs to the server's process.
        const { mode, backend, autoBlock } = service.status();
        const active = await service.active();
        const byKind = Object.fromEntries(
          RULE_KINDS.map((kind) => [kind, active.filter((r) => r.kind === kind).length]),
        ) as Record<RuleKind, number>;
        const switched = await store.settings.get(AUTO_BLOCK_SETTING);
        if (flags.json === true) {
          const status = {
            mode,
            backend,
            autoBlock: { enabled: autoBlock.enabled, maxPerMinute: autoBlock.maxPerMinute },
            rulesInForce: { total: active.length, ...byKind },
            protectedPorts: config.firewall.protectedPorts,
            allowList: config.firewall.allowList,
          };
          stdout(`${JSON.stringify(status, null, 2)}\n`);
          return;
        }
        const ports = [...config.firewall.protectedPorts];
        if (config.server.port !== 0) ports.push(`${config.server.port}/tcp (the API's)`);
        const lines: [string, string][] = [
          [
            'mode',
            mode === 'dry-run'
              ? 'dry-run (rules are kept and checked, nothing is enforced; firewall.mode: enforce turns it on)'
              : 'enforce',
          ],
          ['backend', backend],
          [
            'automatic blocking',
            `${autoBlock.enabled ? 'on' : 'off'}${
              switched
                ? ` (switched by ${switched.updatedBy} at ${new Date(switched.updatedAt).toISOString()})`
                : ''
            }; at most ${autoBlock.maxPerMinute} new blocks a minute`,
          ],
          [
            'rules in force',
            `${active.length} (${RULE_KINDS.map((kind) => `${kind} ${byKind[kind]}`).join(', ')})`,
          ],
          ['protected ports', ports.join(', ')],
          [
            'allow-list',
            config.firewall.allowList.length === 0 ? '(none)' : config.firewall.allowList.join(', '),
          ],
        ];
        const width = Math.max(...lines.map(([label]) => label.length)) + 1;
        stdout(lines.map(([label, value]) => `${`${label}:`.padEnd(width)}  ${value}`).join('\n') + '\n');
      });
    });

  return firewall;
}

/** Who the audit log names: the login name behind the command. */
function cliActor(): Actor {
  let name: string;
  try {
    name = userInfo().username;
  } catch {
    // No passwd entry for this uid (some containers): the uid is all there is.
    name = `uid-${String(process.getuid?.() ?? 'unknown')}`;
  }
  return { name: `cli:${name}`, ip: null };
}

function parseDuration(text: string): number {
  const ms = DURATION.test(text) ? durationMs(text) : null;
  if (ms === null || ms > LONGEST_MS) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `--for ${JSON.stringify(text)}: give a duration such as 30s, 10m, 1h or 7d (at most 100 years), or leave --for out to keep the rule until it is lifted`,
    );
  }
  return ms;
}

function parsePort(text: string): { protocol: 'tcp' | 'udp'; port: number } {
  const m = PORT_AND_PROTOCOL.exec(text.trim());
  if (!m) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${JSON.stringify(text)} is not a port and protocol: write it like 23/tcp or 161/udp`,
    );
  }
  // The range (1 to 65535) is the service's to check, as for the API.
  return { protocol: m[2]!.toLowerCase() as 'tcp' | 'udp', port: Number(m[1]) };
}

function wholeNumber(what: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${what} ${JSON.stringify(text)}: give a whole number from ${min} to ${max}`,
    );
  }
  return n;
}

/** What a rule acts on: the source, or the port and protocol. */
function targetOf(rule: FirewallRule): string {
  return rule.source ?? `${rule.port ?? '?'}/${rule.protocol ?? '?'}`;
}

/** One line for a rule just made or lifted: `rule 4: block 203.0.113.7 on eth0, expires in 10m (...)`. */
function describeRule(rule: FirewallRule, now: number): string {
  const on = rule.interface === null ? '' : ` on ${rule.interface}`;
  const until =
    rule.expiresAt === null
      ? 'until lifted'
      : `expires ${relativeTime(rule.expiresAt, now)} (${new Date(rule.expiresAt).toISOString()})`;
  const comment = rule.comment === null ? '' : `, comment ${JSON.stringify(rule.comment)}`;
  return `rule ${rule.id}: ${rule.kind} ${targetOf(rule)}${on}, ${until}, by ${rule.createdBy}${comment}`;
}

function stateOf(rule: FirewallRule, now: number): string {
  if (
    rule.removedBy === 'expired' ||
    (rule.removedAt === null && rule.expiresAt !== null && rule.expiresAt <= now)
  )
    return 'expired';
  if (rule.removedAt !== null) return `lifted by ${rule.removedBy ?? '?'}`;
  return 'in force';
}

function ruleTable(rules: readonly FirewallRule[], now: number, withState: boolean): string {
  const header = [
    'ID',
    'KIND',
    ...(withState ? ['STATE'] : []),
    'WHAT',
    'INTERFACE',
    'EXPIRES',
    'AUTHOR',
    'ALERT',
    'COMMENT',
  ];
  const rows = [
    header,
    ...rules.map((r) => [
      String(r.id),
      r.kind,
      ...(withState ? [stateOf(r, now)] : []),
      targetOf(r),
      r.interface ?? 'any',
      // A lifted rule no longer expires; its STATE says who lifted it.
      r.removedAt !== null && r.removedBy !== 'expired'
        ? '-'
        : r.expiresAt === null
          ? 'never'
          : relativeTime(r.expiresAt, now),
      r.createdBy,
      r.alertId ?? '-',
      r.comment ?? '',
    ]),
  ];
  const widths = header.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows
    .map((row) =>
      row
        .map((cell, c) => cell.padEnd(widths[c]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')
    .concat('\n');
}

/** `in 9m`, `in 5h 20m`, `3d 2h ago`: the largest unit and the next, rounded up to the second. */
function relativeTime(at: number, now: number): string {
  const seconds = Math.ceil(Math.abs(at - now) / 1000);
  if (seconds === 0) return 'now';
  const two = (big: number, bigUnit: string, small: number, smallUnit: string): string =>
    small === 0 ? `${big}${bigUnit}` : `${big}${bigUnit} ${small}${smallUnit}`;
  const span =
    seconds < 60
      ? `${seconds}s`
      : seconds < 3600
        ? `${Math.floor(seconds / 60)}m`
        : seconds < 86_400
          ? two(Math.floor(seconds / 3600), 'h', Math.floor((seconds % 3600) / 60), 'm')
          : two(Math.floor(seconds / 86_400), 'd', Math.floor((seconds % 86_400) / 3600), 'h');
  return at > now ? `in ${span}` : `${span} ago`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
