/**
 * Builds the HTTP API: Fastify with zod-validated routes, security headers, CORS closed unless
 * origins are configured, request size limits, rate limits per client (login strictest), one
 * error handler, access control on every route, the OpenAPI document at /api/docs, and the
 * dashboard's files outside /api when given a build (web-app.ts). It listens nowhere by itself:
 * `flowtrack serve` (or a test) calls `listen`.
 */

import Fastify from 'fastify';
import helmet from '@fastify/helmet';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Api, ApiDeps } from './api-context.js';
import { installErrorHandler } from './error-handler.js';
import { installAccessControl, securityRequest } from './access-control.js';
import { registerAuthRoutes } from './routes/auth-routes.js';
import { registerUserRoutes } from './routes/user-routes.js';
import { registerTrafficRoutes } from './routes/traffic-routes.js';
import { registerAlertRoutes } from './routes/alert-routes.js';
import { registerLogRoutes } from './routes/log-routes.js';
import { registerSystemRoutes } from './routes/system-routes.js';
import { registerStreamRoutes } from './routes/stream-routes.js';
import { registerFirewallRoutes } from './routes/firewall-routes.js';
import { registerSettingsRoutes } from './routes/settings-routes.js';
import { registerBackupRoutes } from './routes/backup-routes.js';
import { registerCaptureRoutes } from './routes/capture-routes.js';
import { registerScanRoutes } from './routes/scan-routes.js';
import { registerSensorRoutes } from './routes/sensor-routes.js';
import { registerAlertRuleRoutes } from './routes/alert-rule-routes.js';
import { registerNotificationRoutes } from './routes/notification-routes.js';
import { registerIncidentRoutes } from './routes/incident-routes.js';
import { registerMetricsRoutes } from './routes/metrics-routes.js';
import { pageFallback, registerWebFiles } from './web-app.js';

/** Builds the API (not listening). The caller closes it with `app.close()`. */
export async function buildApi(deps: ApiDeps): Promise<Api> {
  const { options, securityLog } = deps;
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    ...(options.tls && { https: options.tls }),
    bodyLimit: options.bodyLimitBytes,
    trustProxy: options.trustProxy,
    routerOptions: { maxParamLength: 200 },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  installErrorHandler(
    app,
    (request, fields) => {
      for (const field of fields.slice(0, 3)) {
        securityLog.record({
          ...securityRequest(request, request.user?.username),
          kind: 'bad_input',
          field,
          value: valueAt(request, field),
          reason: 'failed validation',
        });
      }
    },
    deps.webRoot === undefined ? undefined : pageFallback(deps.webRoot),
  );

  await app.register(helmet, {
    contentSecurityPolicy: {
      // The dashboard's own scripts, styles and API calls, nothing from elsewhere and nothing
      // inline; the API's JSON needs none of it.
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        manifestSrc: ["'self'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        // Over plain HTTP (http://192.0.2.1:8080/) the browser would upgrade the page's own
        // scripts to an https:// that nothing serves.
        upgradeInsecureRequests: options.tls ? [] : null,
      },
    },
  });
  await app.register(cors, {
    origin: options.corsOrigins.length === 0 ? false : [...options.corsOrigins],
    credentials: false,
  });
  await app.register(rateLimit, {
    global: true,
    max: options.rateLimit.perMinute,
    timeWindow: 60_000,
    keyGenerator: (request) => request.ip,
    onExceeded: (request) => {
      const login = request.routeOptions.url === '/api/auth/login';
      securityLog.record({
        ...securityRequest(request),
        kind: 'rate_limited',
        scope: login ? 'login' : 'requests',
        limitPerMinute: login ? options.rateLimit.loginPerMinute : options.rateLimit.perMinute,
      });
    },
    errorResponseBuilder: (_request, context) => ({
      statusCode: context.statusCode,
      error: 'RATE_LIMITED',
      message: `too many requests: at most ${context.max} a minute; try again in ${context.after}`,
    }),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'FlowTrack API',
        version: '1',
        description: 'Traffic, flows, alerts, users, logs and backups of a FlowTrack server.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  installAccessControl(app, deps);
  // First: its latency hook then covers every route declared after it.
  registerMetricsRoutes(app, deps);

  app.get('/api/docs', { config: { access: 'public' }, schema: { hide: true } }, () => app.swagger());
  registerAuthRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerTrafficRoutes(app, deps);
  registerAlertRoutes(app, deps);
  registerAlertRuleRoutes(app, deps);
  registerNotificationRoutes(app, deps);
  registerIncidentRoutes(app, deps);
  registerLogRoutes(app, deps);
  registerSystemRoutes(app, deps);
  registerStreamRoutes(app, deps);
  registerFirewallRoutes(app, deps);
  registerBackupRoutes(app, deps);
  registerCaptureRoutes(app, deps);
  registerSettingsRoutes(app, deps);
  registerScanRoutes(app, deps);
  registerSensorRoutes(app, deps);
  if (deps.webRoot !== undefined) await registerWebFiles(app, deps.webRoot);
  await app.ready();
  return app;
}

/** The value a validation error points at (`querystring/port` -> request.query.port). */
function valueAt(request: { query: unknown; body: unknown; params: unknown }, field: string): unknown {
  const [part, ...path] = field.split('/');
  let value: unknown =
    part === 'querystring' ? request.query : part === 'params' ? request.params : request.body;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
