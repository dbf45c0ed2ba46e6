#!/usr/bin/env node
/**
 * The `flowtrack` command: the composition root that picks each subcommand's parts. Errors end
 * here as one line on standard error and a non-zero exit, never a stack trace for bad input.
 */

import { Command } from 'commander';
import { describeError, FlowTrackError } from '../util/errors.js';
import { PRODUCT_VERSION } from '../util/version.js';

/**
 * Each subcommand's module, loaded only when needed: the server's modules (Fastify, the
 * databases' drivers, the pipeline) take a third of a second to load, which a quick
 * `flowtrack scan` or `flowtrack analyze` need not pay. Help and unknown commands load all.
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  serve: async () => (await import('./serve-command.js')).serveCommand(),
  sensor: async () => (await import('./sensor-command.js')).sensorCommand(),
  analyze: async () => (await import('./analyze-command.js')).analyzeCommand(),
  interfaces: async () => (await import('./interfaces-command.js')).interfacesCommand(),
  detectors: async () => (await import('./detectors-command.js')).detectorsCommand(),
  config: async () => (await import('./config-command.js')).configCommand(),
  user: async () => (await import('./user-command.js')).userCommand(),
  db: async () => (await import('./db-command.js')).dbCommand(),
  backup: async () => (await import('./backup-command.js')).backupCommand(),
  firewall: async () => (await import('./firewall-command.js')).firewallCommand(),
  scan: async () => (await import('./scan-command.js')).scanCommand(),
};

async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('flowtrack')
    .description('FlowTrack: network security monitor and traffic analyser')
    .version(PRODUCT_VERSION)
    .showHelpAfterError('(run with --help for usage)');
  const name = argv[2];
  const only = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const command of await Promise.all(only.map((n) => COMMANDS[n]!()))) program.addCommand(command);
  return program;
}

async function main(): Promise<void> {
  // A closed pipe (e.g. `flowtrack analyze x | head`) is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    await (await buildProgram(process.argv)).parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`flowtrack: ${describeError(err)}\n`);
    if (!(err instanceof FlowTrackError))
      process.stderr.write('(this is a bug in FlowTrack: please report it)\n');
    process.exitCode = 1;
  }
}

await main();
