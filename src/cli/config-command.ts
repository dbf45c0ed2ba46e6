/**
 * `flowtrack config check [--config FILE]`: checks the configuration `flowtrack serve` would start
 * with (file plus FLOWTRACK_* variables) and prints it with secrets masked, or every problem and
 * exit status 1. It only reads; it never creates the directories or files the configuration names.
 */

import { Command } from 'commander';
import { CONFIG_FILE_VARIABLE, loadServiceConfig, renderServiceConfig } from '../config/service-config.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** Where the command reads and writes; the process's own by default (tests pass their own). */
export interface ConfigCommandIo {
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  setExitCode?: (code: number) => void;
}

/** The `config` command with its `check` subcommand. */
export function configCommand(io: ConfigCommandIo = {}): Command {
  const stdout = io.stdout ?? ((text: string) => process.stdout.write(text));
  const stderr = io.stderr ?? ((text: string) => process.stderr.write(text));
  const setExitCode =
    io.setExitCode ??
    ((code: number) => {
      process.exitCode = code;
    });

  const config = new Command('config').description('Check the configuration of `flowtrack serve`');
  config
    .command('check')
    .description(
      `Check the configuration file and FLOWTRACK_* environment variables, and print the effective ` +
        `configuration (secrets masked)`,
    )
    .option('-c, --config <file>', `configuration file, YAML or JSON (default: $${CONFIG_FILE_VARIABLE})`)
    .action((options: { config?: string }) => {
      const env = io.env ?? process.env;
      const file = options.config ?? env[CONFIG_FILE_VARIABLE];
      try {
        const effective = loadServiceConfig({
          env,
          ...(file === undefined ? {} : { file }),
          ...(io.cwd === undefined ? {} : { cwd: io.cwd }),
        });
        stdout(`config OK${file ? ` (${file})` : ' (defaults and environment; no file)'}\n`);
        stdout(renderServiceConfig(effective));
      } catch (err) {
        // Bad settings are the admin's to fix, not a crash: print them all and fail.
        if (
          err instanceof FlowTrackError &&
          (err.code === ErrorCode.BAD_CONFIG || err.code === ErrorCode.IO_ERROR)
        ) {
          stderr(`${err.message}\n`);
          setExitCode(1);
          return;
        }
        throw err;
      }
    });
  return config;
}
