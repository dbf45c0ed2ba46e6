/** The delivery log's filters: from the URL to the API's query, refusing what the API would. */

import { describe, expect, it } from 'vitest';
import { deliveriesPath, deliveryFiltersKey, readDeliveryFilters } from './delivery-filters';

describe('delivery log filters', () => {
  it('reads a channel id and a status from the URL', () => {
    expect(readDeliveryFilters(new URLSearchParams('channel=3&status=failed'))).toEqual({
      channel: 3,
      status: 'failed',
    });
    expect(readDeliveryFilters(new URLSearchParams(''))).toEqual({});
  });

  it('ignores what the API would refuse', () => {
    expect(readDeliveryFilters(new URLSearchParams('channel=abc&status=lost'))).toEqual({});
    expect(readDeliveryFilters(new URLSearchParams('channel=0'))).toEqual({});
    expect(readDeliveryFilters(new URLSearchParams('channel=-1'))).toEqual({});
  });

  it('asks the API for one page, with the filters and the cursor', () => {
    expect(deliveriesPath({})).toBe('/api/notification_deliveries?limit=50');
    expect(deliveriesPath({ channel: 3, status: 'pending' }, 'abc')).toBe(
      '/api/notification_deliveries?channel=3&status=pending&limit=50&cursor=abc',
    );
  });

  it('keys the filters so paging starts over when they change', () => {
    expect(deliveryFiltersKey({ channel: 3 })).not.toBe(deliveryFiltersKey({ status: 'sent' }));
    expect(deliveryFiltersKey({})).toBe(deliveryFiltersKey({}));
  });
});
