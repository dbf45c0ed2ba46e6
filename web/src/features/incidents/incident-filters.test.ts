/** The incident list's filters: active by default, a status shows exactly that status. */

import { describe, expect, it } from 'vitest';
import {
  incidentFiltersKey,
  incidentListPath,
  isIncidentId,
  isNarrowed,
  readIncidentFilters,
} from './incident-filters';

const read = (search: string) => readIncidentFilters(new URLSearchParams(search));

describe('incident list filters', () => {
  it('shows active incidents by default, all of them with all=1', () => {
    expect(read('')).toEqual({ activeOnly: true });
    expect(incidentListPath(read(''))).toBe('/api/incidents?active=true&limit=50');
    expect(incidentListPath(read('all=1'))).toBe('/api/incidents?limit=50');
  });

  it('asks for exactly the chosen status, closed included, without the active filter', () => {
    expect(incidentListPath(read('status=closed'))).toBe('/api/incidents?status=closed&limit=50');
    expect(incidentListPath(read('status=investigating&severity=high'), 'c1')).toBe(
      '/api/incidents?status=investigating&severity=high&limit=50&cursor=c1',
    );
  });

  it('ignores values the API would refuse', () => {
    expect(read('status=done&severity=urgent')).toEqual({ activeOnly: true });
  });

  it('keys and describes the filters', () => {
    expect(incidentFiltersKey(read(''))).not.toBe(incidentFiltersKey(read('all=1')));
    expect(isNarrowed(read('all=1'))).toBe(false);
    expect(isNarrowed(read('severity=low'))).toBe(true);
  });
});

describe('incident ids in the path', () => {
  it('takes the numbers the API takes, and nothing else', () => {
    for (const ok of ['1', '42', '2147483648']) expect(isIncidentId(ok), ok).toBe(true);
    for (const bad of ['0', '-1', '01', 'abc', '1.5', '2147483649', '', 'new'])
      expect(isIncidentId(bad), bad).toBe(false);
  });
});
