#!/usr/bin/env node
/**
 * The `flowtrack` command: the composition root that picks each subcommand's parts. Errors end
 * here as one line on standard error and a non-zero exit, never a stack trace for bad input.
 */

import { Command } from 'commander';
import { createRequire } from 'node:module';
import { describeError, FlowTrackError } from '../util/errors.js';
import { analyzeCommand } from './analyze-command.js';
import { detectorsCommand } from './detectors-command.js';
import { configCommand } from './config-command.js';
import { dbCommand } from './db-command.js';
import { serveCommand } from './serve-command.js';
import { userCommand } from './user-command.js';
import { backupCommand } from './backup-command.js';
import { interfacesCommand } from './interfaces-command.js';
import { firewallCommand } from './firewall-command.js';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

function buildProgram(): Command {
  return new Command('flowtrack')
    .description('FlowTrack: network security monitor and traffic analyser')
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .addCommand(serveCommand())
    .addCommand(analyzeCommand())
    .addCommand(interfacesCommand())
    .addCommand(detectorsCommand())
    .addCommand(configCommand())
    .addCommand(userCommand())
    .addCommand(dbCommand())
    .addCommand(backupCommand())
    .addCommand(firewallCommand());
}

async function main(): Promise<void> {
  // A closed pipe (e.g. `flowtrack analyze x | head`) is the reader's choice, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`flowtrack: ${describeError(err)}\n`);
    if (!(err instanceof FlowTrackError))
      process.stderr.write('(this is a bug in FlowTrack: please report it)\n');
    process.exitCode = 1;
  }
}

await main();
