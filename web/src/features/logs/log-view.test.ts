/** The Logs page's URL filters: what is read, what is refused, and the API request they make. */

import { describe, expect, it } from 'vitest';
import {
  changesClearingFilters,
  changesForLog,
  fromLocalInput,
  isFiltered,
  logRequestPath,
  readLogView,
  toLocalInput,
  viewKey,
} from './log-view';

const NOW = Date.parse('2025-01-31T12:00:00.000Z');

function view(search: string) {
  return readLogView(new URLSearchParams(search));
}

function requestOf(search: string, cursor?: string): { path: string; params: Record<string, string> } {
  const [path = '', query = ''] = logRequestPath(view(search), cursor, NOW).split('?');
  return { path, params: Object.fromEntries(new URLSearchParams(query)) };
}

describe('readLogView', () => {
  it('shows the server log, unfiltered, for an empty query string', () => {
    expect(view('')).toMatchObject({ log: 'server', range: { kind: 'any' }, level: null, problems: [] });
    expect(isFiltered(view(''))).toBe(false);
  });

  it("reads each log's own filters and ignores those of other logs", () => {
    expect(view('log=security&level=warn&kind=forbidden&contains=ada&user=bob&outcome=ok')).toMatchObject({
      log: 'security',
      level: 'warn',
      kind: 'forbidden',
      contains: 'ada',
      user: null,
      outcome: null,
    });
    expect(
      view('log=audit&level=warn&kind=forbidden&contains=x&user=ada&action=user.create&outcome=denied'),
    ).toMatchObject({
      log: 'audit',
      level: null,
      kind: null,
      contains: null,
      user: 'ada',
      action: 'user.create',
      outcome: 'denied',
    });
    expect(view('kind=forbidden').kind).toBeNull();
  });

  it('ignores values no control can make (an unknown log, level, kind or outcome)', () => {
    expect(view('log=../etc&level=loud&kind=x').log).toBe('server');
    expect(view('level=loud').level).toBeNull();
    expect(view('log=audit&outcome=maybe').outcome).toBeNull();
    expect(view('log=server&range=forever').range).toEqual({ kind: 'any' });
  });

  it('reports what the API would refuse instead of asking for it', () => {
    expect(view('log=audit&action=..%2F..%2Fetc%2Fpasswd').problems).toHaveLength(1);
    expect(view('log=audit&action=User.Create').problems).toHaveLength(1);
    expect(view(`log=audit&user=${'a'.repeat(65)}`).problems).toHaveLength(1);
    expect(view(`contains=${'x'.repeat(201)}`).problems).toHaveLength(1);
    expect(view('range=between&from=yesterday').problems).toHaveLength(1);
    expect(
      view('range=between&from=2025-01-31T12:00:00.000Z&to=2025-01-31T11:00:00.000Z').problems,
    ).toHaveLength(1);
    expect(view('log=audit&action=firewall.rule.add&user=ada').problems).toEqual([]);
  });
});

describe('logRequestPath', () => {
  it('asks each log its own endpoint with its own filters, a page of 100, and the cursor', () => {
    expect(requestOf('level=error&contains=timeout')).toEqual({
      path: '/api/logs',
      params: { level: 'error', contains: 'timeout', limit: '100' },
    });
    expect(requestOf('log=security&kind=bad_input', 'abc')).toEqual({
      path: '/api/logs/security',
      params: { kind: 'bad_input', limit: '100', cursor: 'abc' },
    });
    // The audit log's user is the API's `actor`.
    expect(requestOf('log=audit&user=ada&action=backup.restore&outcome=failed')).toEqual({
      path: '/api/logs/audit',
      params: { actor: 'ada', action: 'backup.restore', outcome: 'failed', limit: '100' },
    });
  });

  it('turns a recent range into a start relative to the time of the request', () => {
    expect(requestOf('range=1h').params.from).toBe(String(NOW - 3_600_000));
    expect(requestOf('log=audit&range=15m').params.from).toBe(String(NOW - 900_000));
    expect(requestOf('range=1h').params.to).toBeUndefined();
  });

  it('sends a chosen range as epoch milliseconds, either end open', () => {
    expect(
      requestOf('range=between&from=2025-01-30T00:00:00.000Z&to=2025-01-31T00:00:00.000Z').params,
    ).toMatchObject({
      from: String(Date.parse('2025-01-30T00:00:00.000Z')),
      to: String(Date.parse('2025-01-31T00:00:00.000Z')),
    });
    expect(requestOf('range=between&to=2025-01-31T00:00:00.000Z').params.from).toBeUndefined();
    // from/to without range=between are leftovers, not a range.
    expect(requestOf('from=2025-01-30T00:00:00.000Z').params.from).toBeUndefined();
  });

  it('encodes the text filter, so it cannot add parameters of its own', () => {
    const { params } = requestOf(`contains=${encodeURIComponent('a&level=trace#x')}`);
    expect(params.contains).toBe('a&level=trace#x');
    expect(params.level).toBeUndefined();
  });
});

describe('query-string changes', () => {
  it('opening another log keeps the time window and clears the other filters', () => {
    expect(changesForLog('audit')).toEqual({
      log: 'audit',
      level: undefined,
      kind: undefined,
      contains: undefined,
      user: undefined,
      action: undefined,
      outcome: undefined,
    });
    expect(changesForLog('server').log).toBeUndefined();
  });

  it('clearing filters clears them all but keeps the log', () => {
    const changes = changesClearingFilters();
    expect(Object.values(changes).every((v) => v === undefined)).toBe(true);
    expect('log' in changes).toBe(false);
    expect(changes).toHaveProperty('range');
  });

  it('the view key changes with what is asked, not with how the URL is written', () => {
    expect(viewKey(view('level=warn&contains=x'))).toBe(
      viewKey(view('contains=x&level=warn&kind=forbidden')),
    );
    expect(viewKey(view('level=warn'))).not.toBe(viewKey(view('level=error')));
  });
});

describe('datetime-local values', () => {
  it('round-trips a minute through the browser time zone', () => {
    const ms = Date.parse('2025-06-15T08:45:00.000Z');
    const local = toLocalInput(ms);
    expect(local).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/);
    expect(fromLocalInput(local)).toBe('2025-06-15T08:45:00.000Z');
  });

  it('refuses a half-typed or foreign value', () => {
    expect(fromLocalInput('')).toBeNull();
    expect(fromLocalInput('2025-06-15')).toBeNull();
    expect(fromLocalInput('2025-06-15T08:45Z')).toBeNull();
    expect(fromLocalInput('2025-13-45T99:99')).toBeNull();
  });
});
