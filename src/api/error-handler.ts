/**
 * The API's one error handler: a FlowTrackError becomes the HTTP status of its code and its
 * message; a request that fails its schema becomes a 400 that names the bad fields; anything else
 * is a bug, logged in full on the server and answered with a bare 500 that leaks no internals.
 * Every error body has the same shape: `{ error: CODE, message }`.
 */

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { isApiPath } from './web-app.js';

const STATUS: Record<ErrorCode, number> = {
  NOT_A_CAPTURE: 400,
  BAD_CAPTURE_HEADER: 400,
  IO_ERROR: 500,
  BAD_OPTION: 400,
  BAD_CONFIG: 500,
  BUS_ERROR: 503,
  STORE_ERROR: 503,
  BAD_BACKUP: 400,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
};

/** The body of every error response. */
export interface ErrorBody {
  error: string;
  message: string;
}

/** Called for each request refused for bad input, so that it can go to the security log. */
export type BadInputListener = (request: FastifyRequest, fields: string[]) => void;

/** The HTTP status of a FlowTrackError code. */
export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}

/**
 * Installs the handler on `app` (call before registering routes). `onPageNotFound` answers the
 * GET and HEAD requests outside /api that no route matched (the dashboard's pages); without it,
 * and always under /api, an unknown route is the JSON 404.
 */
export function installErrorHandler(
  app: FastifyInstance,
  onBadInput: BadInputListener,
  onPageNotFound?: (request: FastifyRequest, reply: FastifyReply) => FastifyReply,
): void {
  app.setErrorHandler((err: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof FlowTrackError) {
      const status = statusOf(err.code);
      if (status >= 500) request.log.error({ err }, 'request failed');
      return reply.code(status).send({ error: err.code, message: err.message } satisfies ErrorBody);
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const fields = err.validation.map(
        (v) => `${err.validationContext ?? 'request'}${v.instancePath || ''}`,
      );
      onBadInput(request, fields);
      const detail = err.validation
        .slice(0, 5)
        .map((v) => `${v.instancePath.replace(/^\//, '') || err.validationContext || 'input'}: ${v.message}`)
        .join('; ');
      return reply
        .code(400)
        .send({ error: ErrorCode.BAD_REQUEST, message: `invalid request: ${detail}` } satisfies ErrorBody);
    }
    // Fastify's own client errors (body too large, bad JSON, unsupported media type).
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      if (status === 400) onBadInput(request, [err.code]);
      return reply.code(status).send({ error: err.code, message: err.message } satisfies ErrorBody);
    }
    request.log.error({ err }, 'unexpected error');
    return reply
      .code(500)
      .send({ error: 'INTERNAL', message: 'internal error: see the server log' } satisfies ErrorBody);
  });
  app.setNotFoundHandler((request, reply) => {
    if (
      onPageNotFound &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      !isApiPath(request.url)
    ) {
      return onPageNotFound(request, reply);
    }
    return reply.code(404).send({
      error: ErrorCode.NOT_FOUND,
      message: `no route ${request.method} ${request.url.split('?')[0] ?? ''}`,
    } satisfies ErrorBody);
  });
}
