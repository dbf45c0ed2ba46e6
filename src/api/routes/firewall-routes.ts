/**
 * The host firewall from the API: viewers see the rules in force and the blocking policy's state;
 * admins add, change and lift rules and switch automatic blocking off and on. respond/ checks
 * every rule (addresses, ports, safety) and audits every change with the rule before and after;
 * a refused rule answers 409 with the reason. A rule made from an alert names it (`alertId`),
 * and only an alert the store holds: a rule must never point at evidence that does not exist.
 */

import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { alertIdParams, idParams } from './common-schemas.js';
import { RULE_KINDS } from '../../store/firewall-rule-repository.js';
import type { Actor, FirewallService } from '../../respond/firewall-service.js';
import { DryRunFirewall } from '../../respond/dry-run-firewall.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';

const comment = z.string().max(200);
/** Epoch milliseconds. */
const expiresAt = z.number().int().min(0);

const ruleBody = z
  .object({
    kind: z.enum(RULE_KINDS),
    /** block, allow: an address or prefix. */
    source: z.string().max(64).optional(),
    /** close, open. */
    protocol: z.enum(['tcp', 'udp']).optional(),
    port: z.number().int().optional(),
    interface: z.string().max(64).optional(),
    comment: comment.optional(),
    expiresAt: expiresAt.optional(),
    /** Instead of expiresAt: seconds from now. */
    expiresInSeconds: z
      .number()
      .int()
      .min(1)
      .max(100 * 365 * 86_400)
      .optional(),
    /** The alert this rule answers ("block source" from an alert's page). */
    alertId: alertIdParams.shape.id.optional(),
  })
  .strict();

const changeBody = z
  .object({ comment: comment.nullable().optional(), expiresAt: expiresAt.nullable().optional() })
  .strict()
  .refine((b) => b.comment !== undefined || b.expiresAt !== undefined, 'change comment or expiresAt');

export function registerFirewallRoutes(app: Api, deps: ApiDeps): void {
  const firewall = (): FirewallService => {
    if (!deps.firewall) throw new FlowTrackError(ErrorCode.NOT_FOUND, 'this server manages no firewall');
    return deps.firewall;
  };
  const actor = (request: FastifyRequest): Actor => ({ name: userOf(request).username, ip: request.ip });

  app.get(
    '/api/firewall/rules',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Firewall rules in force (all=true: the latest 1000, lifted and expired ones too)',
        tags: ['firewall'],
        querystring: z.object({ all: z.enum(['true', 'false']).default('false') }).strict(),
      },
    },
    async (request) => ({
      items:
        request.query.all === 'true'
          ? await deps.store.firewallRules.history(1000)
          : await firewall().active(),
    }),
  );

  app.get(
    '/api/firewall/rules/:id',
    {
      config: { access: 'viewer' },
      schema: { summary: 'One firewall rule', tags: ['firewall'], params: idParams },
    },
    async (request) => {
      const rule = await deps.store.firewallRules.findById(request.params.id);
      if (!rule) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no firewall rule ${request.params.id}`);
      return rule;
    },
  );

  app.post(
    '/api/firewall/rules',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Block or allow a source, close or open a local port (409 when unsafe)',
        tags: ['firewall'],
        body: ruleBody,
      },
    },
    async (request, reply) => {
      const { expiresInSeconds, ...rule } = request.body;
      if (expiresInSeconds !== undefined && rule.expiresAt !== undefined) {
        throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'give expiresAt or expiresInSeconds, not both');
      }
      if (rule.alertId !== undefined && !(await deps.store.alerts.findById(rule.alertId))) {
        throw new FlowTrackError(
          ErrorCode.NOT_FOUND,
          `no alert ${rule.alertId}: name an alert that exists, or leave alertId out`,
        );
      }
      const created = await firewall().addRule(
        {
          ...rule,
          ...(expiresInSeconds !== undefined && { expiresAt: deps.now() + expiresInSeconds * 1000 }),
        },
        actor(request),
      );
      return reply.code(201).send(created);
    },
  );

  app.patch(
    '/api/firewall/rules/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: "Change a rule's comment or expiry (null: none)",
        tags: ['firewall'],
        params: idParams,
        body: changeBody,
      },
    },
    async (request) => firewall().updateRule(request.params.id, request.body, actor(request)),
  );

  app.delete(
    '/api/firewall/rules/:id',
    {
      config: { access: 'admin' },
      schema: { summary: 'Lift a firewall rule', tags: ['firewall'], params: idParams },
    },
    async (request) => firewall().removeRule(request.params.id, actor(request)),
  );

  app.get(
    '/api/firewall/status',
    {
      config: { access: 'viewer' },
      schema: {
        summary:
          "The firewall's mode and backend, the configured policy (allow-list, protected ports, automatic blocking), its state and recent refusals",
        tags: ['firewall'],
      },
    },
    (_request, reply) => {
      const service = firewall();
      const backend = service.backendInUse;
      const status = service.status();
      const { autoBlock, ...policy } = service.policy();
      return reply.send({
        ...status,
        ...policy,
        // One autoBlock object: the configured settings, then the live state (the kill switch).
        autoBlock: { ...autoBlock, ...status.autoBlock },
        ...(backend instanceof DryRunFirewall && { wouldHaveDone: backend.actions.slice(-50).reverse() }),
      });
    },
  );

  app.put(
    '/api/firewall/auto-block',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'The kill switch: switch automatic blocking off or on',
        tags: ['firewall'],
        body: z.object({ enabled: z.boolean() }).strict(),
      },
    },
    async (request) => {
      await firewall().setAutoBlock(request.body.enabled, actor(request));
      return { enabled: firewall().autoBlockEnabled };
    },
  );
}
