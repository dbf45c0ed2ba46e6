import { describe, expect, it } from 'vitest';
import {
  passwordLength,
  passwordProblems,
  usernameProblem,
  validateNewUser,
  validatePasswordChange,
  validatePasswordReset,
} from './user-rules';

// The cases of src/api/auth/passwords.test.ts that the mirrored rules cover, with the same answers:
// a form must never refuse what the server accepts, nor accept by length what it refuses.
describe('password rules mirrored from the server', () => {
  it('accepts a long passphrase', () => {
    expect(passwordProblems('tangerine kettle drizzle 7', 'alice')).toEqual([]);
    expect(passwordProblems('Zq7#mW2!vL9@pR4$', 'bob')).toEqual([]);
  });

  it('refuses short passwords, counting code points as the server does (not UTF-16 units)', () => {
    expect(passwordProblems('short', 'alice')).toEqual([
      'The password has 5 characters; use at least 12 (a few unrelated words make a good one).',
    ]);
    expect(passwordLength('\u{1F600}'.repeat(6))).toBe(6);
    expect(passwordProblems('\u{1F600}'.repeat(6), 'alice')).toEqual([
      expect.stringContaining('has 6 characters'),
    ]);
    // NFKC: a full-width digit is one digit, a decomposed accent one letter.
    expect(passwordLength('e\u0301')).toBe(1);
  });

  it('refuses over-long passwords', () => {
    expect(passwordProblems('ab1-'.repeat(300), 'alice')).toEqual([expect.stringContaining('at most 1024')]);
  });

  it('refuses a password containing the user name, ignoring case, unless the name is under 3 letters', () => {
    expect(passwordProblems('my name is Alice-Smith ok', 'alice-smith')).toEqual([
      'The password contains the user name; choose one that does not.',
    ]);
    expect(passwordProblems('tangerine kettle drizzle 7', 'al')).toEqual([]);
  });

  it('can report several problems at once', () => {
    expect(passwordProblems('eve', 'eve')).toHaveLength(2);
  });

  it('leaves common passwords to the server (its list is not copied)', () => {
    expect(passwordProblems('Password123!', 'carol')).toEqual([]);
  });
});

describe('user names', () => {
  it('takes what the server takes and says why not otherwise', () => {
    expect(usernameProblem('ada.lovelace@lab-1_x')).toBeNull();
    expect(usernameProblem('')).toBe('Enter a user name.');
    expect(usernameProblem('dave smith')).toContain('no spaces');
    expect(usernameProblem('<script>')).toContain('letters, digits');
    expect(usernameProblem('a'.repeat(64))).toBeNull();
    expect(usernameProblem('a'.repeat(65))).toContain('at most 64');
  });
});

describe('the forms', () => {
  it('Add user: a bad name and a short password are both reported, a mismatch only once the password is good', () => {
    expect(
      validateNewUser({ username: 'dave smith', role: 'viewer', password: 'short', repeat: 'other' }),
    ).toEqual({
      username: expect.stringContaining('no spaces') as string,
      password: expect.stringContaining('at least 12') as string,
    });
    expect(
      validateNewUser({ username: 'dave', role: 'admin', password: 'heron-basalt-lantern-58', repeat: 'x' }),
    ).toEqual({ repeat: 'The two passwords differ; type the same one twice.' });
    expect(
      validateNewUser({
        username: 'dave',
        role: 'admin',
        password: 'heron-basalt-lantern-58',
        repeat: 'heron-basalt-lantern-58',
      }),
    ).toEqual({});
  });

  it("reset: checks the password against the reset user's name", () => {
    expect(validatePasswordReset('rob-the-builder-99', 'rob-the-builder-99', 'rob')).toEqual({
      password: expect.stringContaining('user name') as string,
    });
    expect(validatePasswordReset('heron-basalt-lantern-58', 'heron-basalt-lantern-58', 'rob')).toEqual({});
  });

  it('own password: needs the current one, a good new one typed twice', () => {
    expect(
      validatePasswordChange({ currentPassword: '', newPassword: 'owen-owen-owen-owen', repeat: '' }, 'owen'),
    ).toEqual({
      currentPassword: 'Enter your current password.',
      newPassword: expect.stringContaining('user name') as string,
    });
    expect(
      validatePasswordChange(
        { currentPassword: 'old', newPassword: 'heron-basalt-lantern-58', repeat: 'heron-basalt-lantern-5' },
        'owen',
      ),
    ).toEqual({ repeat: expect.stringContaining('differ') as string });
    expect(
      validatePasswordChange(
        {
          currentPassword: 'old',
          newPassword: 'heron-basalt-lantern-58',
          repeat: 'heron-basalt-lantern-58',
        },
        'owen',
      ),
    ).toEqual({});
  });
});
