/**
 * The delivery log's filters as they live in the page's URL (`/notifications?channel=3&status=failed`)
 * and the API path they ask for. Values the API would refuse never reach it. Pure.
 */

import { queryString } from '../../api/queries';
import { DELIVERY_STATUSES, type DeliveryStatus } from './notification-types';

/** Deliveries a page of the log holds. */
export const DELIVERY_PAGE_SIZE = 50;

/** How often the log and the channels' counts are asked again. */
export const DELIVERY_REFRESH_MS = 10_000;

export interface DeliveryFilters {
  channel?: number;
  status?: DeliveryStatus;
}

/** The filters of the page's query string; missing and unusable values mean "any". */
export function readDeliveryFilters(query: URLSearchParams): DeliveryFilters {
  const channelText = query.get('channel') ?? '';
  const channel = /^[1-9]\d{0,9}$/.test(channelText) ? Number(channelText) : undefined;
  const status = DELIVERY_STATUSES.find((s) => s === query.get('status'));
  return {
    ...(channel !== undefined && { channel }),
    ...(status !== undefined && { status }),
  };
}

/** GET path of one page of the log; `cursor` undefined: the newest page. */
export function deliveriesPath(filters: DeliveryFilters, cursor?: string): string {
  return `/api/notification_deliveries${queryString({ ...filters, limit: DELIVERY_PAGE_SIZE, cursor })}`;
}

/** A key that changes exactly when the filters do (paging starts over then). */
export function deliveryFiltersKey(filters: DeliveryFilters): string {
  return `${filters.channel ?? ''}|${filters.status ?? ''}`;
}
