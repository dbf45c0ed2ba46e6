/**
 * What a user name and a password must be, and what each role may do, for the Users and Account
 * pages: forms say what is wrong before anything is sent. Pure: no React, no API.
 * The server checks again and has the last word. It also refuses well-known and trivially
 * patterned passwords; that list is not mirrored here (a copy would drift), so its refusal arrives
 * as the server's own message, which the forms show as it is.
 */

import type { Role } from '../../api/api-types';

// Mirrors src/api/auth/username.ts (USERNAME_PATTERN, MAX_USERNAME_LENGTH); web cannot import it.
export const USERNAME_PATTERN = /^[A-Za-z0-9._@-]+$/;
export const MAX_USERNAME_LENGTH = 64;

// Mirrors src/api/auth/passwords.ts (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH, checkPasswordPolicy).
export const MIN_PASSWORD_LENGTH = 12;
export const MAX_PASSWORD_LENGTH = 1024;

/** The rules as the forms explain them, one sentence each. */
export const PASSWORD_RULES: readonly string[] = [
  `At least ${MIN_PASSWORD_LENGTH} characters: a few unrelated words make a good one.`,
  'Not containing the user name.',
  'Not a well-known password or a simple pattern (Password123!, qwertyuiop123, abcabcabcabc): the server refuses those.',
  'No rules about digits or symbols: length is what makes a password hard to guess.',
];

/**
 * The password's length as the server counts it: Unicode code points after NFKC normalisation,
 * so an emoji is one character and a composed accent typed two ways counts the same.
 */
export function passwordLength(password: string): number {
  return Array.from(password.normalize('NFKC')).length;
}

/** Why `username` would be refused, or null. */
export function usernameProblem(username: string): string | null {
  if (username === '') return 'Enter a user name.';
  if (username.length > MAX_USERNAME_LENGTH) return `Use at most ${MAX_USERNAME_LENGTH} characters.`;
  if (!USERNAME_PATTERN.test(username)) return 'Use letters, digits and . _ @ - only (no spaces).';
  return null;
}

/**
 * What keeps `password` from being accepted for `username`, in the server's words (see
 * checkPasswordPolicy): the length and user-name rules only; empty when those pass.
 */
export function passwordProblems(password: string, username: string): string[] {
  const problems: string[] = [];
  const length = passwordLength(password);
  if (length < MIN_PASSWORD_LENGTH) {
    problems.push(
      `The password has ${length} characters; use at least ${MIN_PASSWORD_LENGTH} (a few unrelated words make a good one).`,
    );
  }
  if (length > MAX_PASSWORD_LENGTH) {
    problems.push(`The password has ${length} characters; use at most ${MAX_PASSWORD_LENGTH}.`);
  }
  const name = username.normalize('NFKC').trim().toLowerCase();
  // As the server: a name under three letters would forbid half the alphabet.
  if (name.length >= 3 && password.normalize('NFKC').toLowerCase().includes(name)) {
    problems.push('The password contains the user name; choose one that does not.');
  }
  return problems;
}

/** A form's problems by field; a field that is fine is absent. */
export type FieldErrors<F extends string> = Partial<Record<F, string>>;

export function hasErrors(errors: FieldErrors<string>): boolean {
  return Object.keys(errors).length > 0;
}

/** A new password typed twice, for `username`: the new password's problems, then a mismatch. */
function newPasswordErrors(
  password: string,
  repeat: string,
  username: string,
): FieldErrors<'password' | 'repeat'> {
  const errors: FieldErrors<'password' | 'repeat'> = {};
  const problems = passwordProblems(password, username);
  if (problems.length > 0) errors.password = problems.join(' ');
  else if (repeat !== password) errors.repeat = 'The two passwords differ; type the same one twice.';
  return errors;
}

export interface NewUserDraft {
  username: string;
  role: Role;
  password: string;
  repeat: string;
}

/** The Add user form's problems; empty: send it. */
export function validateNewUser(draft: NewUserDraft): FieldErrors<'username' | 'password' | 'repeat'> {
  const nameProblem = usernameProblem(draft.username);
  return {
    ...(nameProblem !== null && { username: nameProblem }),
    ...newPasswordErrors(draft.password, draft.repeat, draft.username),
  };
}

/** The problems of a password an admin sets for `username` (a reset). */
export function validatePasswordReset(
  password: string,
  repeat: string,
  username: string,
): FieldErrors<'password' | 'repeat'> {
  return newPasswordErrors(password, repeat, username);
}

export interface PasswordChangeDraft {
  currentPassword: string;
  newPassword: string;
  repeat: string;
}

/** The problems of one's own password change (the Account page), for the signed-in `username`. */
export function validatePasswordChange(
  draft: PasswordChangeDraft,
  username: string,
): FieldErrors<'currentPassword' | 'newPassword' | 'repeat'> {
  const { password, repeat } = newPasswordErrors(draft.newPassword, draft.repeat, username);
  return {
    ...(draft.currentPassword === '' && { currentPassword: 'Enter your current password.' }),
    ...(password !== undefined && { newPassword: password }),
    ...(repeat !== undefined && { repeat }),
  };
}

/** The roles, least first: each may do everything the ones before it may. */
export const ROLES: readonly Role[] = ['viewer', 'analyst', 'admin'];

/**
 * What each role may do, from the routes' `access` (src/api/routes/*-routes.ts) and the order of
 * src/api/auth/roles.ts. Everyone may change their own password.
 */
export const ROLE_ABILITIES: Readonly<Record<Role, string>> = {
  viewer:
    "Reads traffic, flows and hosts, alerts, capture, firewall rules and status, and the live feed; not the logs, backups, users or an alert's packets.",
  analyst:
    "Everything a viewer may, and acknowledges and resolves alerts and downloads an alert's packets (pcap evidence).",
  admin:
    'Everything: adds, changes and lifts firewall rules and switches automatic blocking off or on; reads the server, security and audit logs; makes and restores backups; manages users.',
};
