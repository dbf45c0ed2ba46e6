/**
 * User management, for admins: list, create, change role, disable or enable, reset a password,
 * delete. Every change is audited with the state before and after (never the password hash), and
 * the last enabled admin can be neither demoted, disabled nor deleted: no lock-out by mistake.
 */

import { z } from 'zod';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import { hashPassword } from '../auth/passwords.js';
import { ROLES } from '../auth/roles.js';
import type { UserRecord } from '../../store/user-repository.js';
import type { Api, ApiDeps } from '../api-context.js';
import { audit } from '../audit.js';
import { idParams } from './common-schemas.js';
import { requireGoodPassword, usernameSchema } from './auth-routes.js';

/** A user as the API shows it: no password hash. */
function publicUser(u: UserRecord) {
  return {
    id: u.id,
    username: u.username,
    role: u.role,
    disabled: u.disabled,
    createdAt: u.createdAt,
    updatedAt: u.updatedAt,
    passwordChangedAt: u.passwordChangedAt,
  };
}

export function registerUserRoutes(app: Api, deps: ApiDeps): void {
  async function existing(id: number): Promise<UserRecord> {
    const user = await deps.store.users.findById(id);
    if (!user) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no user ${id}`);
    return user;
  }

  /** Refuses a change that would leave no enabled admin. */
  async function keepAnAdmin(user: UserRecord, stillAdmin: boolean): Promise<void> {
    if (
      user.role === 'admin' &&
      !user.disabled &&
      !stillAdmin &&
      (await deps.store.users.countAdmins()) <= 1
    ) {
      throw new FlowTrackError(
        ErrorCode.CONFLICT,
        `${user.username} is the last admin: make another admin first`,
      );
    }
  }

  app.get(
    '/api/users',
    { config: { access: 'admin' }, schema: { summary: 'List users', tags: ['users'] } },
    async () => ({ items: (await deps.store.users.list()).map(publicUser) }),
  );

  app.post(
    '/api/users',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Create a user',
        tags: ['users'],
        body: z
          .object({ username: usernameSchema, password: z.string().min(1).max(1024), role: z.enum(ROLES) })
          .strict(),
      },
    },
    async (request, reply) => {
      const { username, password, role } = request.body;
      requireGoodPassword(password, username);
      const user = await deps.store.users.create(
        { username, passwordHash: await hashPassword(password), role },
        deps.now(),
      );
      await audit(deps, request, { action: 'user.create', target: username, after: publicUser(user) });
      return reply.code(201).send(publicUser(user));
    },
  );

  app.patch(
    '/api/users/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Change a user's role, disable or enable it, or reset its password",
        tags: ['users'],
        params: idParams,
        body: z
          .object({
            role: z.enum(ROLES).optional(),
            disabled: z.boolean().optional(),
            password: z.string().min(1).max(1024).optional(),
          })
          .strict(),
      },
    },
    async (request) => {
      const before = await existing(request.params.id);
      const { role, disabled, password } = request.body;
      // Checked before anything is written: a refused password must not leave a new role or a
      // disabled account behind, unaudited and with the user's sessions still open.
      if (password !== undefined) requireGoodPassword(password, before.username);
      await keepAnAdmin(before, (role ?? before.role) === 'admin' && !(disabled ?? before.disabled));
      const now = deps.now();
      let after = before;
      if (role !== undefined && role !== before.role)
        after = await deps.store.users.setRole(before.id, role, now);
      if (disabled === true && !before.disabled) after = await deps.store.users.disable(before.id, now);
      if (disabled === false && before.disabled) after = await deps.store.users.enable(before.id, now);
      if (password !== undefined)
        after = await deps.store.users.setPassword(before.id, await hashPassword(password), now);
      // A new role, a disabled account or a reset password ends the user's sessions.
      if (after !== before) await deps.tokens.revokeAllForUser(before.id);
      await audit(deps, request, {
        action: 'user.update',
        target: before.username,
        before: publicUser(before),
        after: { ...publicUser(after), ...(password === undefined ? {} : { passwordReset: true }) },
      });
      return publicUser(after);
    },
  );

  app.delete(
    '/api/users/:id',
    { config: { access: 'admin' }, schema: { summary: 'Delete a user', tags: ['users'], params: idParams } },
    async (request, reply) => {
      const before = await existing(request.params.id);
      await keepAnAdmin(before, false);
      await deps.tokens.revokeAllForUser(before.id);
      await deps.store.users.delete(before.id);
      await audit(deps, request, {
        action: 'user.delete',
        target: before.username,
        before: publicUser(before),
      });
      return reply.code(204).send();
    },
  );
}
