import { describe, expect, it } from 'vitest';
import { alertListPath, filtersKey, hasFilters, isIpAddress, readAlertFilters } from './alert-filters';

describe('alert list filters', () => {
  it('reads the filters of the URL and asks the API for them, 50 at a time', () => {
    const filters = readAlertFilters(
      new URLSearchParams('status=open&severity=high&type=port_scan&src=192.0.2.7&dst=2001:db8::1'),
    );
    expect(filters).toEqual({
      status: 'open',
      severity: 'high',
      type: 'port_scan',
      src: '192.0.2.7',
      dst: '2001:db8::1',
    });
    expect(alertListPath(filters)).toBe(
      '/api/anomalies?status=open&severity=high&type=port_scan&src=192.0.2.7&dst=2001%3Adb8%3A%3A1&limit=50',
    );
  });

  it("filters on the system monitor's resource alerts", () => {
    expect(readAlertFilters(new URLSearchParams('type=resource&status=open'))).toEqual({
      type: 'resource',
      status: 'open',
    });
  });

  it('treats all, unknown values and mistyped addresses as no filter, so the API never refuses them', () => {
    const filters = readAlertFilters(
      new URLSearchParams("status=all&severity=urgent&type=' OR 1=1&src=192.0.2.300&dst=example.com"),
    );
    expect(filters).toEqual({});
    expect(hasFilters(filters)).toBe(false);
    expect(alertListPath(filters)).toBe('/api/anomalies?limit=50');
  });

  it('pages with the cursor and starts over when a filter changes', () => {
    expect(alertListPath({ status: 'resolved' }, 'abc=')).toBe(
      '/api/anomalies?status=resolved&limit=50&cursor=abc%3D',
    );
    expect(filtersKey({ status: 'open' })).not.toBe(filtersKey({ status: 'open', src: '192.0.2.7' }));
    expect(filtersKey({ src: '192.0.2.7' })).not.toBe(filtersKey({ dst: '192.0.2.7' }));
  });

  it('knows an IP address from a typo', () => {
    for (const good of ['192.0.2.7', '0.0.0.0', '255.255.255.255', '::1', '2001:db8::1', '::ffff:192.0.2.1'])
      expect(isIpAddress(good), good).toBe(true);
    for (const bad of [
      '',
      '192.0.2',
      '192.0.2.256',
      '01.2.3.4',
      '192.0.2.0/24',
      'fe80::1%eth0',
      '1:2:3',
      'host',
    ])
      expect(isIpAddress(bad), bad).toBe(false);
  });
});
