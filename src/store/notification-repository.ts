/**
 * Notification channels and their deliveries. A channel row holds what an admin configured, its
 * settings (secrets included) as JSON; the routes validate them and never send secrets back.
 * The deliveries table is the dispatcher's durable queue and the delivery log in one: a row is
 * written pending before the first attempt, so a restart or a receiver that is down loses
 * nothing, and it stays as the log once sent or given up. Deleting a channel leaves its log.
 */

import type { Kysely, Selectable } from 'kysely';
import type { Notification } from '../alerts/notify/notifier.js';
import type { DeliveryQueue, QueuedDelivery } from '../alerts/notify/notification-dispatcher.js';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { readPageRequest, toPage, type Page, type PageRequest } from './page.js';
import type { Database, NotificationChannelsTable, NotificationDeliveriesTable } from './schema.js';

export type ChannelKindName = NotificationChannelsTable['kind'];

export interface ChannelRecord {
  id: number;
  name: string;
  kind: ChannelKindName;
  enabled: boolean;
  minSeverity: string;
  /** Alert types wanted; empty: all. */
  types: string[];
  maxPerWindow: number;
  windowMinutes: number;
  /** The kind's settings, secrets included: never send this object out as it is. */
  settings: Record<string, unknown>;
  createdBy: string;
  createdAt: number;
  updatedBy: string;
  updatedAt: number;
}

export type ChannelInput = Pick<
  ChannelRecord,
  'name' | 'kind' | 'enabled' | 'minSeverity' | 'types' | 'maxPerWindow' | 'windowMinutes' | 'settings'
>;

export interface DeliveryRecord {
  id: number;
  channelId: number;
  notificationId: string;
  kind: NotificationDeliveriesTable['kind'];
  alertId: string | null;
  title: string;
  status: NotificationDeliveriesTable['status'];
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
}

export interface DeliveryFilter extends PageRequest {
  channelId?: number;
  status?: DeliveryRecord['status'];
  alertId?: string;
}

export class ChannelRepository {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly isUniqueViolation: (err: unknown) => boolean,
  ) {}

  async list(): Promise<ChannelRecord[]> {
    const rows = await this.db.selectFrom('notification_channels').selectAll().orderBy('id').execute();
    return rows.map(channelOf);
  }

  async findById(id: number): Promise<ChannelRecord | null> {
    const row = await this.db
      .selectFrom('notification_channels')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? channelOf(row) : null;
  }

  async create(input: ChannelInput, by: string, now: number): Promise<ChannelRecord> {
    try {
      const row = await this.db
        .insertInto('notification_channels')
        .values({ ...columnsOf(input), created_by: by, created_at: now, updated_by: by, updated_at: now })
        .returningAll()
        .executeTakeFirstOrThrow();
      return channelOf(row);
    } catch (err) {
      throw this.nameTaken(err, input.name);
    }
  }

  /** Replaces the channel's settings; NOT_FOUND for an unknown id. */
  async update(id: number, input: ChannelInput, by: string, now: number): Promise<ChannelRecord> {
    try {
      const row = await this.db
        .updateTable('notification_channels')
        .set({ ...columnsOf(input), updated_by: by, updated_at: now })
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
      if (!row) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no notification channel with id ${id}`);
      return channelOf(row);
    } catch (err) {
      throw this.nameTaken(err, input.name);
    }
  }

  /** Deletes the channel (its delivery log stays); NOT_FOUND for an unknown id. */
  async delete(id: number): Promise<ChannelRecord> {
    const current = await this.findById(id);
    if (!current) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no notification channel with id ${id}`);
    await this.db.deleteFrom('notification_channels').where('id', '=', id).execute();
    return current;
  }

  private nameTaken(err: unknown, name: string): unknown {
    return this.isUniqueViolation(err)
      ? new FlowTrackError(
          ErrorCode.CONFLICT,
          `a notification channel named ${JSON.stringify(name)} exists: choose another name`,
        )
      : err;
  }
}

/** The dispatcher's queue on the deliveries table, and the delivery log's reads. */
export class DeliveryRepository implements DeliveryQueue {
  constructor(private readonly db: Kysely<Database>) {}

  async enqueue(channelId: number, n: Notification, now: number): Promise<number> {
    const row = await this.db
      .insertInto('notification_deliveries')
      .values({
        channel_id: channelId,
        notification_id: n.id,
        kind: n.kind,
        alert_id: n.alert?.id ?? null,
        title: n.title,
        notification: JSON.stringify(n),
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
        created_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async due(now: number, limit: number): Promise<QueuedDelivery[]> {
    const rows = await this.db
      .selectFrom('notification_deliveries')
      .select(['id', 'channel_id', 'notification', 'attempts', 'next_attempt_at', 'created_at'])
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((row) => ({
      id: row.id,
      channelId: row.channel_id,
      notification: JSON.parse(row.notification) as Notification,
      attempts: row.attempts,
      nextAttemptAt: row.next_attempt_at,
      createdAt: row.created_at,
    }));
  }

  async markSent(id: number, attempts: number, now: number): Promise<void> {
    await this.db
      .updateTable('notification_deliveries')
      .set({ status: 'sent', attempts, sent_at: now, last_error: null })
      .where('id', '=', id)
      .execute();
  }

  async markRetry(id: number, attempts: number, nextAttemptAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('notification_deliveries')
      .set({ attempts, next_attempt_at: nextAttemptAt, last_error: error })
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: number, attempts: number, error: string, now: number): Promise<void> {
    await this.db
      .updateTable('notification_deliveries')
      .set({ status: 'failed', attempts, last_error: error, next_attempt_at: now })
      .where('id', '=', id)
      .execute();
  }

  async findById(id: number): Promise<DeliveryRecord | null> {
    const row = await this.db
      .selectFrom('notification_deliveries')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? deliveryOf(row) : null;
  }

  /** The delivery log, newest first. */
  async list(filter: DeliveryFilter = {}): Promise<Page<DeliveryRecord>> {
    const { limit, offset, after } = readPageRequest(filter);
    let query = this.db.selectFrom('notification_deliveries').selectAll();
    if (filter.channelId !== undefined) query = query.where('channel_id', '=', filter.channelId);
    if (filter.status !== undefined) query = query.where('status', '=', filter.status);
    if (filter.alertId !== undefined) query = query.where('alert_id', '=', filter.alertId);
    if (after) {
      const [, id] = after;
      if (typeof id !== 'number') {
        throw new FlowTrackError(
          ErrorCode.BAD_REQUEST,
          'the page cursor is not one of the delivery log: start again',
        );
      }
      query = query.where('id', '<', id);
    }
    const rows = await query
      .orderBy('id', 'desc')
      .limit(limit + 1)
      .offset(offset)
      .execute();
    return toPage(rows, limit, (row) => [0, row.id], deliveryOf);
  }

  /** Deliveries by status (for the channels page's summary). */
  async counts(channelId?: number): Promise<Record<DeliveryRecord['status'], number>> {
    let query = this.db
      .selectFrom('notification_deliveries')
      .select(['status', (eb) => eb.fn.countAll<number | string | bigint>().as('n')])
      .groupBy('status');
    if (channelId !== undefined) query = query.where('channel_id', '=', channelId);
    const out = { pending: 0, sent: 0, failed: 0 };
    for (const row of await query.execute()) out[row.status] = Number(row.n);
    return out;
  }
}

function columnsOf(input: ChannelInput) {
  return {
    name: input.name,
    kind: input.kind,
    enabled: input.enabled ? 1 : 0,
    min_severity: input.minSeverity,
    types: JSON.stringify(input.types),
    max_per_window: input.maxPerWindow,
    window_minutes: input.windowMinutes,
    settings: JSON.stringify(input.settings),
  };
}

function channelOf(row: Selectable<NotificationChannelsTable>): ChannelRecord {
  return {
    id: row.id,
    name: row.name,
    kind: row.kind,
    enabled: row.enabled === 1,
    minSeverity: row.min_severity,
    types: JSON.parse(row.types) as string[],
    maxPerWindow: row.max_per_window,
    windowMinutes: row.window_minutes,
    settings: JSON.parse(row.settings) as Record<string, unknown>,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedBy: row.updated_by,
    updatedAt: row.updated_at,
  };
}

function deliveryOf(row: Selectable<NotificationDeliveriesTable>): DeliveryRecord {
  return {
    id: row.id,
    channelId: row.channel_id,
    notificationId: row.notification_id,
    kind: row.kind,
    alertId: row.alert_id,
    title: row.title,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    sentAt: row.sent_at === null ? null : row.sent_at,
  };
}
