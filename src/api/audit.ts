/**
 * Records what a user did in the audit log (the database), with where from and the outcome.
 * Callers pass `before`/`after` without secrets: never a password, hash or token.
 */

import type { FastifyRequest } from 'fastify';
import type { AuditOutcome } from '../store/audit-repository.js';
import type { ApiDeps } from './api-context.js';

export interface AuditEntry {
  action: string;
  target?: string | null;
  before?: unknown;
  after?: unknown;
  outcome?: AuditOutcome;
  /** The actor when the request has no signed-in user (a login names the user it tried). */
  actor?: string;
}

export async function audit(deps: ApiDeps, request: FastifyRequest, entry: AuditEntry): Promise<void> {
  await deps.store.audit.append({
    tsMs: deps.now(),
    actor: entry.actor ?? request.user?.username ?? 'anonymous',
    actorIp: request.ip,
    action: entry.action,
    target: entry.target ?? null,
    before: entry.before,
    after: entry.after,
    outcome: entry.outcome ?? 'ok',
  });
}
