/**
 * Sign-in and sessions: login (with lockout and backoff), token refresh (rotation), logout,
 * the first admin from the one-time setup token, the signed-in user, password change (which ends
 * every other session). Failures go to the security log and the audit log; neither ever receives
 * a password or a token.
 */

import { z } from 'zod';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import {
  checkPasswordPolicy,
  hashPassword,
  verifyPassword,
  verifyPasswordOrDummy,
} from '../auth/passwords.js';
import { MAX_USERNAME_LENGTH, USERNAME_PATTERN } from '../auth/username.js';
import { TokenRejectedError, type IssuedTokens } from '../auth/token-service.js';
import type { TokenProblem } from '../../logs/security-log.js';
import type { Api, ApiDeps } from '../api-context.js';
import type { UserRecord } from '../../store/user-repository.js';
import { securityRequest, userOf } from '../access-control.js';
import { audit } from '../audit.js';

/** User names: what an admin types, nothing that could be mistaken for markup or a path. */
export const usernameSchema = z
  .string()
  .min(1)
  .max(MAX_USERNAME_LENGTH)
  .regex(USERNAME_PATTERN, 'letters, digits and . _ @ - only');
const passwordSchema = z.string().min(1).max(1024);
const refreshSchema = z.object({ refreshToken: z.string().min(1).max(512) }).strict();

const REFRESH_PROBLEMS: Record<string, TokenProblem> = {
  unknown: 'revoked_refresh',
  expired: 'expired',
  reused: 'refresh_reuse',
  user_unavailable: 'unknown_user',
};

function tokensBody(tokens: IssuedTokens, user: { id: number; username: string; role: string }) {
  return { ...tokens, tokenType: 'Bearer', user: { id: user.id, username: user.username, role: user.role } };
}

/** Throws BAD_REQUEST listing what the password policy refuses. */
export function requireGoodPassword(password: string, username: string): void {
  const problems = checkPasswordPolicy(password, username);
  if (problems.length > 0) {
    throw new FlowTrackError(ErrorCode.BAD_REQUEST, `password refused: ${problems.join('; ')}`);
  }
}

export function registerAuthRoutes(app: Api, deps: ApiDeps): void {
  const { store, tokens, loginGuard, securityLog } = deps;

  app.post(
    '/api/auth/login',
    {
      config: { access: 'public', rateLimit: { max: deps.options.rateLimit.loginPerMinute } },
      schema: {
        summary: 'Sign in: returns an access token and a refresh token',
        tags: ['auth'],
        body: z.object({ username: usernameSchema, password: passwordSchema }).strict(),
      },
    },
    async (request, reply) => {
      const { username, password } = request.body;
      const check = loginGuard.check(username, request.ip);
      if (!check.allowed) {
        securityLog.record({ ...securityRequest(request, username), kind: 'login_failed', reason: 'locked' });
        await audit(deps, request, {
          action: 'login',
          actor: username,
          outcome: 'denied',
          after: { reason: check.reason },
        });
        void reply.header('retry-after', String(check.retryAfterSeconds));
        throw new FlowTrackError(
          ErrorCode.RATE_LIMITED,
          `too many failed logins: try again in ${check.retryAfterSeconds} s`,
        );
      }
      const user = await store.users.findByUsername(username);
      const passwordOk = await verifyPasswordOrDummy(user?.passwordHash ?? null, password);
      if (!user || !passwordOk || user.disabled) {
        const outcome = loginGuard.recordFailure(username, request.ip);
        const reason = !user ? 'unknown_user' : !passwordOk ? 'bad_password' : 'disabled_user';
        securityLog.record({ ...securityRequest(request, username), kind: 'login_failed', reason });
        for (const lock of outcome.locks) {
          securityLog.record({
            ...securityRequest(request, username),
            kind: 'login_locked_out',
            failures: lock.lockoutCount,
            lockedForSeconds: lock.lockSeconds,
          });
        }
        await audit(deps, request, {
          action: 'login',
          actor: username,
          outcome: 'failed',
          after: { reason },
        });
        throw new FlowTrackError(ErrorCode.UNAUTHORIZED, 'wrong user name or password');
      }
      loginGuard.recordSuccess(username);
      const issued = await tokens.issue({ id: user.id, username: user.username, role: user.role });
      await audit(deps, request, { action: 'login', actor: user.username });
      if (user.role === 'admin') deps.adminSessions?.saw(request.ip, user.username);
      return tokensBody(issued, user);
    },
  );

  app.post(
    '/api/auth/refresh',
    {
      config: { access: 'public', rateLimit: { max: deps.options.rateLimit.loginPerMinute * 6 } },
      schema: {
        summary: 'Exchange a refresh token for a new pair (the old one is revoked)',
        tags: ['auth'],
        body: refreshSchema,
      },
    },
    async (request) => {
      try {
        let user: UserRecord | null = null;
        const issued = await tokens.refresh(request.body.refreshToken, async (id) => {
          user = await store.users.findById(id);
          return user;
        });
        // refresh() issues only after it loaded an enabled user.
        const refreshed: UserRecord = user!;
        if (refreshed.role === 'admin') deps.adminSessions?.saw(request.ip, refreshed.username);
        return tokensBody(issued, refreshed);
      } catch (err) {
        if (!(err instanceof TokenRejectedError)) throw err;
        securityLog.record({
          ...securityRequest(request),
          kind: 'token_invalid',
          tokenType: 'refresh',
          reason: REFRESH_PROBLEMS[err.reason] ?? 'malformed',
        });
        throw new FlowTrackError(ErrorCode.UNAUTHORIZED, 'the session has ended: sign in again');
      }
    },
  );

  app.post(
    '/api/auth/logout',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'End this session (revokes the refresh token)',
        tags: ['auth'],
        body: refreshSchema,
      },
    },
    async (request, reply) => {
      await tokens.logout(request.body.refreshToken);
      await audit(deps, request, { action: 'logout' });
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/auth/me',
    { config: { access: 'viewer' }, schema: { summary: 'The signed-in user', tags: ['auth'] } },
    (request) => userOf(request),
  );

  app.post(
    '/api/auth/password',
    {
      config: { access: 'viewer', rateLimit: { max: deps.options.rateLimit.loginPerMinute } },
      schema: {
        summary: 'Change your password (ends every session of yours)',
        tags: ['auth'],
        body: z.object({ currentPassword: passwordSchema, newPassword: passwordSchema }).strict(),
      },
    },
    async (request, reply) => {
      const me = userOf(request);
      const stored = await store.users.findById(me.id);
      if (!stored || !(await verifyPassword(stored.passwordHash, request.body.currentPassword))) {
        securityLog.record({
          ...securityRequest(request, me.username),
          kind: 'login_failed',
          reason: 'bad_password',
        });
        await audit(deps, request, { action: 'user.password', target: me.username, outcome: 'failed' });
        throw new FlowTrackError(ErrorCode.FORBIDDEN, 'the current password is wrong');
      }
      requireGoodPassword(request.body.newPassword, me.username);
      await store.users.setPassword(me.id, await hashPassword(request.body.newPassword), deps.now());
      await tokens.revokeAllForUser(me.id);
      await audit(deps, request, { action: 'user.password', target: me.username });
      return reply.code(204).send();
    },
  );

  app.get(
    '/api/auth/setup',
    {
      config: { access: 'public', rateLimit: { max: deps.options.rateLimit.loginPerMinute } },
      schema: {
        summary: 'Whether the first admin is still to be created (the sign-in page then offers it)',
        tags: ['auth'],
      },
    },
    async () => ({ needed: deps.setupToken !== null && (await store.users.countAdmins()) === 0 }),
  );

  app.post(
    '/api/auth/setup',
    {
      config: { access: 'public', rateLimit: { max: deps.options.rateLimit.loginPerMinute } },
      schema: {
        summary: 'Create the first admin with the one-time setup token printed at first start',
        tags: ['auth'],
        body: z
          .object({
            setupToken: z.string().min(1).max(256),
            username: usernameSchema,
            password: passwordSchema,
          })
          .strict(),
      },
    },
    async (request, reply) => {
      const { setupToken, username, password } = request.body;
      if (deps.setupToken === null || (await store.users.countAdmins()) > 0) {
        throw new FlowTrackError(ErrorCode.CONFLICT, 'an admin exists already: sign in instead');
      }
      requireGoodPassword(password, username);
      if (!deps.setupToken.verify(setupToken)) {
        securityLog.record({
          ...securityRequest(request, username),
          kind: 'token_invalid',
          tokenType: 'setup',
          reason: 'malformed',
        });
        throw new FlowTrackError(
          ErrorCode.UNAUTHORIZED,
          'wrong or expired setup token: see the server log for the current one, or run `flowtrack user add --admin`',
        );
      }
      const user = await store.users.create(
        { username, passwordHash: await hashPassword(password), role: 'admin' },
        deps.now(),
      );
      securityLog.record({ ...securityRequest(request, username), kind: 'setup_token_used' });
      await audit(deps, request, {
        action: 'user.create',
        actor: username,
        target: username,
        after: { role: 'admin', via: 'setup token' },
      });
      const issued = await tokens.issue({ id: user.id, username: user.username, role: user.role });
      return reply.code(201).send(tokensBody(issued, user));
    },
  );
}
