/**
 * Firewall rules from the API: viewers see them, admins add and remove them; every change is
 * audited with the rule. Addresses, prefixes, protocols and ports are checked here, so what
 * respond/ later turns into nftables rules is always well-formed.
 */

import { isIP } from 'node:net';
import { z } from 'zod';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { audit } from '../audit.js';
import { idParams } from './common-schemas.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';

/** An address or a CIDR prefix; its IP version (4 or 6), or 0 when it is neither. */
export function prefixVersion(text: string): 4 | 6 | 0 {
  const [address, length, ...rest] = text.split('/');
  if (address === undefined || rest.length > 0) return 0;
  const version = isIP(address);
  if (version !== 4 && version !== 6) return 0;
  if (length === undefined) return version;
  if (!/^\d{1,3}$/.test(length) || Number(length) > (version === 4 ? 32 : 128)) return 0;
  return version;
}

const prefix = z
  .string()
  .max(64)
  .refine((p) => prefixVersion(p) !== 0, 'an IPv4 or IPv6 address or CIDR prefix, e.g. 192.0.2.0/24');

const ruleBody = z
  .object({
    action: z.enum(['allow', 'drop', 'reject']),
    src: prefix.optional(),
    dst: prefix.optional(),
    protocol: z.enum(['tcp', 'udp', 'icmp', 'icmpv6']).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    comment: z
      .string()
      .max(200)
      .regex(/^[\p{L}\p{N} .,:;_()/@#+-]*$/u, 'letters, digits, spaces and simple punctuation')
      .optional(),
    /** Epoch milliseconds. */
    expiresAt: z.number().int().min(0).optional(),
  })
  .strict();

export function registerFirewallRoutes(app: Api, deps: ApiDeps): void {
  app.get(
    '/api/firewall/rules',
    {
      config: { access: 'viewer' },
      schema: {
        summary: 'Firewall rules in force (all=true: expired ones too)',
        tags: ['firewall'],
        querystring: z.object({ all: z.enum(['true', 'false']).default('false') }).strict(),
      },
    },
    async (request) => ({
      items: await deps.store.firewallRules.list(request.query.all === 'true' ? null : deps.now()),
    }),
  );

  app.post(
    '/api/firewall/rules',
    {
      config: { access: 'admin' },
      schema: { summary: 'Add a firewall rule', tags: ['firewall'], body: ruleBody },
    },
    async (request, reply) => {
      const b = request.body;
      const versions = new Set([b.src, b.dst].filter((p) => p !== undefined).map(prefixVersion));
      if (versions.size > 1) {
        throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'src and dst must be of the same IP version');
      }
      if (b.port !== undefined && b.protocol !== 'tcp' && b.protocol !== 'udp') {
        throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'a port needs protocol tcp or udp');
      }
      const version = [...versions][0];
      if ((b.protocol === 'icmp' && version === 6) || (b.protocol === 'icmpv6' && version === 4)) {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          `${b.protocol} does not match the addresses' IP version`,
        );
      }
      if (b.expiresAt !== undefined && b.expiresAt <= deps.now()) {
        throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'expiresAt is in the past');
      }
      const family =
        version === 4 || b.protocol === 'icmp'
          ? 'ip'
          : version === 6 || b.protocol === 'icmpv6'
            ? 'ip6'
            : 'inet';
      const rule = await deps.store.firewallRules.create({
        action: b.action,
        family,
        src: b.src ?? null,
        dst: b.dst ?? null,
        protocol: b.protocol ?? null,
        port: b.port ?? null,
        comment: b.comment ?? null,
        createdBy: userOf(request).username,
        createdAt: deps.now(),
        expiresAt: b.expiresAt ?? null,
      });
      await audit(deps, request, { action: 'firewall.rule.add', target: String(rule.id), after: rule });
      return reply.code(201).send(rule);
    },
  );

  app.delete(
    '/api/firewall/rules/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Remove a firewall rule',
        tags: ['firewall'],
        params: idParams,
      },
    },
    async (request, reply) => {
      const before = await deps.store.firewallRules.delete(request.params.id);
      await audit(deps, request, { action: 'firewall.rule.delete', target: String(before.id), before });
      return reply.code(204).send();
    },
  );
}
