/**
 * Who may call what. Every /api route declares `config.access`: 'public' or the least role it
 * needs (viewer < analyst < admin); a route without one fails at start-up, so no route is open by
 * omission. Each request's bearer token is verified, its user read from the store (a disabled or
 * deleted user, or a token older than the last password change, is refused at once), and the
 * user's current role, not the one in the token, is checked. Refusals go to the security log.
 */

import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { roleAllows, type Role } from './auth/roles.js';
import { issuedBefore, TokenRejectedError } from './auth/token-service.js';
import type { TokenProblem } from '../logs/security-log.js';
import type { Api, ApiDeps } from './api-context.js';

export type Access = 'public' | Role;

/** The user a request acts as. */
export interface RequestUser {
  id: number;
  username: string;
  role: Role;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
  }
  interface FastifyRequest {
    user: RequestUser | null;
  }
}

const TOKEN_PROBLEMS: Record<string, TokenProblem> = {
  expired: 'expired',
  invalid_signature: 'tampered',
  malformed: 'malformed',
  bad_algorithm: 'alg_none',
  bad_claims: 'wrong_type',
};

/** The request as the security log records it. */
export function securityRequest(request: FastifyRequest, user?: string) {
  return {
    ip: request.ip,
    method: request.method,
    route: request.routeOptions.url ?? request.url,
    ...(user === undefined ? {} : { user }),
  };
}

/** The user of a request that passed access control on a non-public route. */
export function userOf(request: FastifyRequest): RequestUser {
  if (!request.user) throw new FlowTrackError(ErrorCode.UNAUTHORIZED, 'sign in first');
  return request.user;
}

export function installAccessControl(app: Api, deps: ApiDeps): void {
  app.decorateRequest('user', null);
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api') && route.config?.access === undefined) {
      throw new Error(`route ${String(route.method)} ${route.url} declares no access (config.access)`);
    }
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const access = request.routeOptions.config.access;
    // Unknown routes (404) and public ones need no token.
    if (access === undefined || access === 'public') return;
    const header = request.headers.authorization;
    const match = header === undefined ? null : /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(header);
    if (!match) {
      deps.securityLog.record({
        ...securityRequest(request),
        kind: 'token_invalid',
        tokenType: 'access',
        reason: header === undefined ? 'missing' : 'malformed',
      });
      return refuse(
        reply,
        401,
        ErrorCode.UNAUTHORIZED,
        'sign in first: send Authorization: Bearer <access token>',
      );
    }
    let user: RequestUser | null = null;
    try {
      const token = await deps.tokens.verifyAccess(match[1]!);
      const stored = await deps.store.users.findById(token.userId);
      // The id alone is not the user: after a restore (of an older backup, or another
      // installation's) the same id can belong to someone else, with another role.
      if (
        !stored ||
        stored.username !== token.username ||
        stored.disabled ||
        issuedBefore(token, stored.passwordChangedAt)
      ) {
        deps.securityLog.record({
          ...securityRequest(request, token.username),
          kind: 'token_invalid',
          tokenType: 'access',
          reason: 'unknown_user',
        });
      } else {
        user = { id: stored.id, username: stored.username, role: stored.role };
      }
    } catch (err) {
      if (!(err instanceof TokenRejectedError)) throw err;
      deps.securityLog.record({
        ...securityRequest(request),
        kind: 'token_invalid',
        tokenType: 'access',
        reason: TOKEN_PROBLEMS[err.reason] ?? 'malformed',
      });
      const message =
        err.reason === 'expired' ? 'the access token has expired: refresh it' : 'invalid access token';
      return refuse(reply, 401, ErrorCode.UNAUTHORIZED, message);
    }
    if (user === null) {
      return refuse(reply, 401, ErrorCode.UNAUTHORIZED, 'the session has ended: sign in again');
    }
    if (!roleAllows(user.role, access)) {
      deps.securityLog.record({
        ...securityRequest(request, user.username),
        kind: 'forbidden',
        role: user.role,
        required: access,
      });
      return refuse(reply, 403, ErrorCode.FORBIDDEN, `this needs the ${access} role (you are ${user.role})`);
    }
    request.user = user;
    if (user.role === 'admin') deps.adminSessions?.saw(request.ip, user.username);
  });
}

function refuse(reply: FastifyReply, status: number, code: ErrorCode, message: string): FastifyReply {
  return reply.code(status).send({ error: code, message });
}
