import { describe, expect, it } from 'vitest';
import {
  alertGroupsPath,
  alertListPath,
  alertsPagePath,
  filtersKey,
  groupListPath,
  hasFilters,
  readAlertFilters,
  readAlertView,
} from './alert-filters';

describe('alert list filters', () => {
  it('reads the filters of the URL and asks the API for them, 50 at a time, the muted ones left out', () => {
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
      '/api/anomalies?status=open&severity=high&type=port_scan&src=192.0.2.7&dst=2001%3Adb8%3A%3A1&suppressed=false&limit=50',
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
      new URLSearchParams(
        "status=all&severity=urgent&type=' OR 1=1&src=192.0.2.300&dst=example.com&assignee=a b&group=src:nope&suppressed=maybe",
      ),
    );
    expect(filters).toEqual({});
    expect(hasFilters(filters)).toBe(false);
    expect(alertListPath(filters)).toBe('/api/anomalies?suppressed=false&limit=50');
  });

  it('filters on the assignee and on a group', () => {
    const filters = readAlertFilters(new URLSearchParams('assignee=+ana+&group=src%3A192.0.2.7'));
    expect(filters).toEqual({ assignee: 'ana', group: 'src:192.0.2.7' });
    expect(hasFilters(filters)).toBe(true);
    expect(alertListPath(filters)).toBe(
      '/api/anomalies?assignee=ana&group=src%3A192.0.2.7&suppressed=false&limit=50',
    );
  });

  it('shows muted alerts with the others, or only them, when the URL asks', () => {
    const all = readAlertFilters(new URLSearchParams('suppressed=all'));
    expect(all).toEqual({ suppressed: 'all' });
    expect(hasFilters(all)).toBe(true);
    expect(alertListPath(all)).toBe('/api/anomalies?limit=50');
    const only = readAlertFilters(new URLSearchParams('suppressed=true'));
    expect(alertListPath(only)).toBe('/api/anomalies?suppressed=true&limit=50');
    // The default spelled out is the default.
    expect(readAlertFilters(new URLSearchParams('suppressed=false'))).toEqual({});
  });

  it('pages with the cursor and starts over when a filter changes', () => {
    expect(alertListPath({ status: 'resolved' }, 'abc=')).toBe(
      '/api/anomalies?status=resolved&suppressed=false&limit=50&cursor=abc%3D',
    );
    expect(filtersKey({ status: 'open' })).not.toBe(filtersKey({ status: 'open', src: '192.0.2.7' }));
    expect(filtersKey({ src: '192.0.2.7' })).not.toBe(filtersKey({ dst: '192.0.2.7' }));
    expect(filtersKey({})).not.toBe(filtersKey({ suppressed: 'all' }));
    expect(filtersKey({ assignee: 'ana' })).not.toBe(filtersKey({ group: 'type:resource' }));
  });
});

describe('alert groups view', () => {
  it('is the view the URL asks for, the list otherwise', () => {
    expect(readAlertView(new URLSearchParams('view=groups'))).toBe('groups');
    expect(readAlertView(new URLSearchParams('view=table'))).toBe('list');
    expect(readAlertView(new URLSearchParams(''))).toBe('list');
  });

  it('asks for the groups with the filters the API applies to them', () => {
    expect(alertGroupsPath({})).toBe('/api/anomalies/groups?suppressed=false&limit=100');
    expect(alertGroupsPath({ status: 'open', type: 'port_scan', suppressed: 'all' })).toBe(
      '/api/anomalies/groups?status=open&limit=100',
    );
  });

  it("links a group to the list of its alerts, keeping the groups' status and muted filters", () => {
    expect(groupListPath('src:192.0.2.7', { status: 'open', type: 'ddos' })).toBe(
      '/alerts?status=open&group=src%3A192.0.2.7',
    );
    expect(groupListPath('type:resource', { suppressed: 'all' })).toBe(
      '/alerts?group=type%3Aresource&suppressed=all',
    );
    expect(alertsPagePath({ suppressed: 'true' })).toBe('/alerts?suppressed=true');
    expect(alertsPagePath({})).toBe('/alerts');
  });
});
