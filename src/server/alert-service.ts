/**
 * The server's alert rules and notifications in one place: the alert center (severity overrides,
 * suppression rules) that every alert passes through before it is stored, and the notification
 * dispatcher that tells the configured channels. Both read their settings from the store at
 * start and again whenever the API changes them (`reload`). Alerts from the pipeline, the port
 * scanner and the system monitor all come through here.
 */

import type { Alert, Severity } from '../alerts/alert.js';
import { AlertCenter, overridesOf, SEVERITY_OVERRIDES_KEY } from '../alerts/alert-center.js';
import { notifierOf } from '../alerts/notify/channel-settings.js';
import {
  NotificationDispatcher,
  type ChannelSpec,
  type DispatcherLog,
} from '../alerts/notify/notification-dispatcher.js';
import type { Notifier } from '../alerts/notify/notifier.js';
import type { AlertControl } from '../api/api-context.js';
import type { ChannelRecord } from '../store/notification-repository.js';
import type { Store } from '../store/store.js';

export interface AlertServiceOptions {
  store: Pick<Store, 'settings' | 'suppressions' | 'channels' | 'deliveries'>;
  now: () => number;
  log: DispatcherLog;
  host: string;
  productVersion: string;
  /** The dashboard's address as users reach it, for links in notifications; absent: no links. */
  dashboardUrl?: string;
}

export class AlertService implements AlertControl {
  private readonly center: AlertCenter;
  private readonly dispatcher: NotificationDispatcher;
  private channels = new Map<number, ChannelRecord>();

  constructor(private readonly options: AlertServiceOptions) {
    this.center = new AlertCenter(options.now);
    const base = options.dashboardUrl?.replace(/\/+$/, '');
    this.dispatcher = new NotificationDispatcher({
      queue: () => options.store.deliveries,
      notifierFor: (spec) => this.notifierFor(spec),
      now: options.now,
      host: options.host,
      ...(base !== undefined &&
        base !== '' && { alertLink: (id: string) => `${base}/alerts/${encodeURIComponent(id)}` }),
      log: options.log,
    });
  }

  /** Loads the rules and channels, and starts sending. */
  async start(): Promise<void> {
    await this.reload();
    this.dispatcher.start();
  }

  async reload(): Promise<void> {
    const store = this.options.store;
    const [overrides, rules, channels] = await Promise.all([
      store.settings.get(SEVERITY_OVERRIDES_KEY),
      store.suppressions.active(this.options.now()),
      store.channels.list(),
    ]);
    this.center.setOverrides(overridesOf(overrides?.value));
    this.center.setSuppressions(rules);
    this.channels = new Map(channels.map((c) => [c.id, c]));
    this.dispatcher.setChannels(channels.map(specOf));
  }

  /** The alert as it is to be stored: override applied, suppression marked (a copy). */
  prepare(alert: Alert): Alert {
    return this.center.prepare(alert);
  }

  /** Tells the channels about a live alert raised or updated (muted alerts are not told). */
  notify(alert: Alert, status?: string): void {
    this.dispatcher.onAlert(status === undefined ? alert : { ...alert, status });
  }

  sendTest(channelId: number, requestedBy: string) {
    return this.dispatcher.sendTest(channelId, requestedBy);
  }

  /** Sends what is due now (tests; the timer does it every second). */
  flush(): Promise<void> {
    return this.dispatcher.flush();
  }

  stats() {
    return this.dispatcher.stats();
  }

  stop(): Promise<void> {
    return this.dispatcher.stop();
  }

  private notifierFor(spec: ChannelSpec): Notifier {
    const channel = this.channels.get(spec.id);
    if (!channel) throw new Error(`notification channel ${spec.id} is not loaded`);
    return notifierOf(channel.kind, channel.settings, this.options.productVersion);
  }
}

function specOf(c: ChannelRecord): ChannelSpec {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    enabled: c.enabled,
    filter: {
      minSeverity: c.minSeverity as Severity,
      types: c.types,
      maxPerWindow: c.maxPerWindow,
      windowMs: c.windowMinutes * 60_000,
    },
    version: c.updatedAt,
  };
}
