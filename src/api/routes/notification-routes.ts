/**
 * Notification channels (admins: they hold SMTP passwords and webhook tokens) and the delivery
 * log (analysts). Settings are checked per kind at the edge and never sent back with their
 * secrets; an edit that leaves a secret out keeps the stored one. Every change is audited, with
 * the public view of the settings only, and the dispatcher is told at once.
 */

import { z } from 'zod';
import { ALERT_TYPES, SEVERITIES } from '../../alerts/alert.js';
import {
  ChannelSettingsError,
  checkChannelSettings,
  publicChannelSettings,
} from '../../alerts/notify/channel-settings.js';
import { CHANNEL_KINDS } from '../../alerts/notify/notifier.js';
import type { ChannelInput, ChannelRecord } from '../../store/notification-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { userOf } from '../access-control.js';
import { audit } from '../audit.js';
import { alertIdParams, defined, idParams, pageSchema } from './common-schemas.js';

/** A channel as the API shows it: no secret, plus its deliveries by status. */
export interface ChannelView extends Omit<ChannelRecord, 'settings'> {
  settings: Record<string, unknown>;
  deliveries: { pending: number; sent: number; failed: number };
}

const channelBody = z
  .object({
    name: z.string().trim().min(1).max(64),
    kind: z.enum(CHANNEL_KINDS),
    enabled: z.boolean().default(true),
    minSeverity: z.enum(SEVERITIES).default('medium'),
    types: z.array(z.enum(ALERT_TYPES)).max(ALERT_TYPES.length).default([]),
    maxPerWindow: z.number().int().min(1).max(1000).default(10),
    windowMinutes: z.number().int().min(1).max(1440).default(10),
    settings: z.record(z.string(), z.unknown()),
  })
  .strict();

export function registerNotificationRoutes(app: Api, deps: ApiDeps): void {
  const reload = () => deps.alertControl?.reload() ?? Promise.resolve();
  const viewOf = async (channel: ChannelRecord): Promise<ChannelView> => ({
    ...channel,
    settings: publicChannelSettings(channel.kind, channel.settings),
    deliveries: await deps.store.deliveries.counts(channel.id),
  });
  const auditView = (channel: ChannelRecord) => ({
    name: channel.name,
    kind: channel.kind,
    enabled: channel.enabled,
    minSeverity: channel.minSeverity,
    types: channel.types,
    maxPerWindow: channel.maxPerWindow,
    windowMinutes: channel.windowMinutes,
    settings: publicChannelSettings(channel.kind, channel.settings),
  });
  const inputOf = (body: z.infer<typeof channelBody>, stored: ChannelRecord | null): ChannelInput => {
    let settings: Record<string, unknown>;
    try {
      settings = checkChannelSettings(
        body.kind,
        body.settings,
        stored?.kind === body.kind ? stored.settings : null,
      );
    } catch (err) {
      if (err instanceof ChannelSettingsError) throw new FlowTrackError(ErrorCode.BAD_REQUEST, err.message);
      throw err;
    }
    return { ...body, settings };
  };

  app.get(
    '/api/notification_channels',
    {
      config: { access: 'admin' },
      schema: { summary: 'Notification channels, without their secrets', tags: ['notifications'] },
    },
    async () => ({ channels: await Promise.all((await deps.store.channels.list()).map(viewOf)) }),
  );

  app.post(
    '/api/notification_channels',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Add an email, webhook or syslog channel',
        tags: ['notifications'],
        body: channelBody,
      },
    },
    async (request, reply) => {
      const channel = await deps.store.channels.create(
        inputOf(request.body, null),
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'channel.create',
        target: String(channel.id),
        after: auditView(channel),
      });
      await reload();
      return reply.code(201).send(await viewOf(channel));
    },
  );

  app.put(
    '/api/notification_channels/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Change a channel (secrets left out keep their stored values)',
        tags: ['notifications'],
        params: idParams,
        body: channelBody,
      },
    },
    async (request) => {
      const before = await deps.store.channels.findById(request.params.id);
      if (!before)
        throw new FlowTrackError(ErrorCode.NOT_FOUND, `no notification channel with id ${request.params.id}`);
      const after = await deps.store.channels.update(
        before.id,
        inputOf(request.body, before),
        userOf(request).username,
        deps.now(),
      );
      await audit(deps, request, {
        action: 'channel.update',
        target: String(after.id),
        before: auditView(before),
        after: auditView(after),
      });
      await reload();
      return viewOf(after);
    },
  );

  app.delete(
    '/api/notification_channels/:id',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Delete a channel (its delivery log stays)',
        tags: ['notifications'],
        params: idParams,
      },
    },
    async (request) => {
      const removed = await deps.store.channels.delete(request.params.id);
      await audit(deps, request, {
        action: 'channel.delete',
        target: String(removed.id),
        before: auditView(removed),
      });
      await reload();
      return viewOf(removed);
    },
  );

  app.post(
    '/api/notification_channels/:id/test',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Send a test notification through the channel now, and say how it went',
        tags: ['notifications'],
        params: idParams,
      },
    },
    async (request) => {
      const channel = await deps.store.channels.findById(request.params.id);
      if (!channel)
        throw new FlowTrackError(ErrorCode.NOT_FOUND, `no notification channel with id ${request.params.id}`);
      if (!deps.alertControl) {
        throw new FlowTrackError(ErrorCode.NOT_FOUND, 'notifications are not running in this server');
      }
      const outcome = await deps.alertControl.sendTest(channel.id, userOf(request).username);
      await audit(deps, request, {
        action: 'channel.test',
        target: String(channel.id),
        after: outcome,
        outcome: outcome.status === 'failed' ? 'failed' : 'ok',
      });
      return outcome;
    },
  );

  app.get(
    '/api/notification_deliveries',
    {
      config: { access: 'analyst' },
      schema: {
        summary: 'The delivery log, newest first: every notification, digest and test, and how it went',
        tags: ['notifications'],
        querystring: z
          .object({
            channel: z.coerce.number().int().min(1).optional(),
            status: z.enum(['pending', 'sent', 'failed']).optional(),
            alert: alertIdParams.shape.id.optional(),
            ...pageSchema,
          })
          .strict(),
      },
    },
    async (request) => {
      const q = request.query;
      return deps.store.deliveries.list(
        defined({
          channelId: q.channel,
          status: q.status,
          alertId: q.alert,
          limit: q.limit,
          cursor: q.cursor,
        }),
      );
    },
  );
}
