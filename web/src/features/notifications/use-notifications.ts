/**
 * The Notifications page's reads and changes through the API. Every change refetches the
 * channels and the delivery log: a test, a new channel or a deleted one all move both.
 */

import { useApiMutation, useApiQuery } from '../../api/queries';
import { DELIVERY_REFRESH_MS, deliveriesPath, type DeliveryFilters } from './delivery-filters';
import type {
  ChannelBody,
  ChannelList,
  ChannelTestResult,
  ChannelView,
  DeliveryPage,
} from './notification-types';

const INVALIDATES = ['/api/notification_channels', '/api/notification_deliveries'] as const;

/** The channels, with their delivery counts kept as fresh as the log. */
export function useChannels() {
  return useApiQuery<ChannelList>('/api/notification_channels', DELIVERY_REFRESH_MS);
}

export function useDeliveries(filters: DeliveryFilters, cursor: string | undefined) {
  return useApiQuery<DeliveryPage>(deliveriesPath(filters, cursor), DELIVERY_REFRESH_MS);
}

export function useAddChannel() {
  return useApiMutation<ChannelBody, ChannelView>({
    method: 'POST',
    path: () => '/api/notification_channels',
    body: (channel) => channel,
    invalidates: INVALIDATES,
  });
}

export function useUpdateChannel() {
  return useApiMutation<{ id: number; body: ChannelBody }, ChannelView>({
    method: 'PUT',
    path: ({ id }) => `/api/notification_channels/${id}`,
    body: ({ body }) => body,
    invalidates: INVALIDATES,
  });
}

export function useDeleteChannel() {
  return useApiMutation<number, ChannelView>({
    method: 'DELETE',
    path: (id) => `/api/notification_channels/${id}`,
    invalidates: INVALIDATES,
  });
}

export function useTestChannel() {
  return useApiMutation<number, ChannelTestResult>({
    method: 'POST',
    path: (id) => `/api/notification_channels/${id}/test`,
    invalidates: INVALIDATES,
  });
}
