/**
 * `flowtrack user`: user accounts from the shell, for the first admin (no default password
 * exists) and for recovery. The password is read from a terminal without echo, or as the first
 * line of standard input (`--password-stdin`), never from the command line, where other users
 * could see it in the process list.
 */

import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { loadServiceConfig } from '../config/service-config.js';
import { openStore } from '../store/store.js';
import { checkPasswordPolicy, hashPassword } from '../api/auth/passwords.js';
import { ROLES, type Role } from '../api/auth/roles.js';
import { MAX_USERNAME_LENGTH, USERNAME_PATTERN } from '../api/auth/username.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

interface UserAddOptions {
  config?: string;
  role: Role;
  admin?: boolean;
  passwordStdin?: boolean;
}

/** Reads one line from standard input; on a terminal, without echoing it. */
async function readPassword(prompt: string, fromStdin: boolean): Promise<string> {
  const rl = createInterface({
    input: process.stdin,
    output: process.stderr,
    terminal: !fromStdin && process.stdin.isTTY,
  });
  try {
    if (!fromStdin && process.stdin.isTTY) {
      process.stderr.write(prompt);
      // Keep the typed characters off the screen.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => undefined;
    }
    const line = await new Promise<string>((resolve, reject) => {
      rl.once('line', resolve);
      rl.once('close', () => {
        reject(new FlowTrackError(ErrorCode.BAD_OPTION, 'no password given on standard input'));
      });
    });
    if (!fromStdin && process.stdin.isTTY) process.stderr.write('\n');
    return line;
  } finally {
    rl.close();
  }
}

export function userCommand(): Command {
  const user = new Command('user').description('manage user accounts from the shell');
  user
    .command('add <username>')
    .description('create a user (the password is asked for, or read from standard input)')
    .addOption(
      new Option(
        '--role <role>',
        'viewer reads, analyst also acknowledges, admin also changes rules, users and backups',
      )
        .choices(ROLES)
        .default('viewer'),
    )
    .option('--admin', 'same as --role admin')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('-c, --config <file>', 'service configuration (for the store location)')
    .action(async (username: string, opts: UserAddOptions) => {
      if (!USERNAME_PATTERN.test(username) || username.length > MAX_USERNAME_LENGTH) {
        throw new FlowTrackError(
          ErrorCode.BAD_OPTION,
          `user name "${username}": use 1-64 letters, digits and . _ @ -`,
        );
      }
      const role: Role = opts.admin === true ? 'admin' : opts.role;
      const password = await readPassword(`password for ${username}: `, opts.passwordStdin === true);
      const problems = checkPasswordPolicy(password, username);
      if (problems.length > 0)
        throw new FlowTrackError(ErrorCode.BAD_OPTION, `password refused: ${problems.join('; ')}`);
      const config = loadServiceConfig({
        ...(opts.config === undefined ? {} : { file: opts.config }),
        env: process.env,
      });
      const store = await openStore(config.store.url);
      try {
        const now = Date.now();
        await store.users.create({ username, passwordHash: await hashPassword(password), role }, now);
        await store.audit.append({
          tsMs: now,
          actor: 'cli',
          action: 'user.create',
          target: username,
          after: { role },
          outcome: 'ok',
        });
        process.stdout.write(`created ${role} ${username} in ${store.location}\n`);
      } finally {
        await store.close();
      }
    });
  return user;
}
