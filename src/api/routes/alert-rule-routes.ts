/**
 * The rules that shape alerts: suppression rules (analysts mute a type, a source or destination
 * network, or a mix, for a time, with a reason) and per-type severity overrides (admins). Both are
 * audited and take effect at once for alerts raised or updated from then on.
 */

import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../alerts/alert.js';
import { overridesOf, SEVERITY_OVERRIDES_KEY } from '../../alerts/alert-center.js';
import { parseSource } from '../../respond/firewall-backend.js';
import type { SuppressionRule } from '../../store/suppression-repository.js';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { audit } from '../audit.js';
import { idParams } from './common-schemas.js';

const network = z
  .string()
  .trim()
  .max(64)
  .refine((text) => {
    try {
      parseSource(text);
      return true;
    } catch {
      return false;
    }
  }, 'an address or a network such as 198.51.100.0/24 or 2001:db8::/64 (no bits set past the prefix)');

const MAX_MINUTES = 525_600;

export function registerAlertRuleRoutes(app: Api, deps: ApiDeps): void {
  const reload = () => deps.alertControl?.reload() ?? Promise.resolve();
  const view = (rule: SuppressionRule) => ({
    ...rule,
    active: rule.removedAt === null && rule.expiresAt > deps.now(),
  });

  app.get(
    '/api/alert_suppressions',
    {
      config: { access: 'viewer' },
      schema: { summary: 'Suppression rules, newest first, ended ones included', tags: ['alerts'] },
    },
    async () => ({ rules: (await deps.store.suppressions.list()).map(view) }),
  );

  app.post(
    '/api/alert_suppressions',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'Mute alerts of a type, source or destination for a number of minutes, with a reason',
        tags: ['alerts'],
        body: z
          .object({
            type: z.enum(ALERT_TYPES).optional(),
            src: network.optional(),
            dst: network.optional(),
            reason: z.string().trim().min(1).max(500),
            minutes: z.number().int().min(1).max(MAX_MINUTES),
          })
          .strict()
          .refine((b) => b.type !== undefined || b.src !== undefined || b.dst !== undefined, {
            message: 'say what to mute: a type, a source or a destination (or several)',
          }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const now = deps.now();
      const rule = await deps.store.suppressions.create(
        {
          type: b.type ?? null,
          src: b.src ?? null,
          dst: b.dst ?? null,
          reason: b.reason,
          expiresAt: now + b.minutes * 60_000,
        },
        userOf(request).username,
        now,
      );
      await audit(deps, request, { action: 'suppression.create', target: String(rule.id), after: rule });
      await reload();
      return reply.code(201).send(view(rule));
    },
  );

  app.delete(
    '/api/alert_suppressions/:id',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'End a suppression rule now (it stays listed, as removed)',
        tags: ['alerts'],
        params: idParams,
      },
    },
    async (request) => {
      const before = await deps.store.suppressions.findById(request.params.id);
      const rule = await deps.store.suppressions.remove(
        request.params.id,
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'suppression.remove',
        target: String(rule.id),
        before,
        after: rule,
      });
      await reload();
      return view(rule);
    },
  );

  app.get(
    '/api/alert_severity_overrides',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'The severity each overridden alert type is given instead of the detector’s',
        tags: ['alerts'],
      },
    },
    async () => overridesView(await deps.store.settings.get(SEVERITY_OVERRIDES_KEY)),
  );

  app.put(
    '/api/alert_severity_overrides',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Replace the per-type severity overrides (an empty object removes them all)',
        tags: ['alerts'],
        body: z.object({ overrides: z.partialRecord(z.enum(ALERT_TYPES), z.enum(SEVERITIES)) }).strict(),
      },
    },
    async (request) => {
      const before = overridesView(await deps.store.settings.get(SEVERITY_OVERRIDES_KEY)).overrides;
      const overrides = request.body.overrides;
      const saved = await deps.store.settings.set(
        SEVERITY_OVERRIDES_KEY,
        overrides,
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'alert.severity_overrides',
        target: SEVERITY_OVERRIDES_KEY,
        before,
        after: overrides,
      });
      await reload();
      return overridesView(saved);
    },
  );
}

function overridesView(record: { value: unknown; updatedBy: string; updatedAt: number } | null) {
  return {
    overrides: overridesOf(record?.value),
    updatedBy: record?.updatedBy ?? null,
    updatedAt: record?.updatedAt ?? null,
  };
}
