/**
 * The alert list (/alerts): filters kept in the URL so a view can be bookmarked and shared, one
 * page of the server's cursor paging at a time, refreshed every 5 s. Each row opens the alert;
 * analysts and admins acknowledge and resolve from the row. Alert text is shown as text only.
 */

import { useState, type SubmitEvent } from 'react';
import './alerts.css';
import { SEVERITIES } from '../../api/api-types';
import { useApiQuery } from '../../api/queries';
import { useCan } from '../../api/session';
import { CursorPager, useCursorPaging } from '../../components/CursorPager';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link, useQueryParams } from '../../lib/router';
import { AlertActions } from './AlertActions';
import {
  alertListPath,
  FILTER_KEYS,
  filtersKey,
  hasFilters,
  isIpAddress,
  readAlertFilters,
  type AlertFilters,
} from './alert-filters';
import { microsToMs } from './alert-format';
import {
  ALERT_STATUSES,
  ALERT_TYPE_LABELS,
  ALERT_TYPES,
  type AlertDetail,
  type AlertListPage,
} from './alert-types';
import { AlertStatusTag, SeverityTag } from './AlertTags';

export function AlertsPage() {
  const [query, setQuery] = useQueryParams();
  const filters = readAlertFilters(query);
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Alerts</h1>
      </header>
      <section className="panel" aria-label="Alert list">
        <AlertFilterBar
          query={query}
          filters={filters}
          onChange={setQuery}
          onClear={() => {
            setQuery(Object.fromEntries(FILTER_KEYS.map((key) => [key, undefined])));
          }}
        />
        {/* Keyed by the filters: paging starts again at the newest page when they change. */}
        <AlertTable key={filtersKey(filters)} filters={filters} />
      </section>
    </div>
  );
}

function AlertFilterBar({
  query,
  filters,
  onChange,
  onClear,
}: {
  query: URLSearchParams;
  filters: AlertFilters;
  onChange: (changes: Record<string, string | undefined>) => void;
  onClear: () => void;
}) {
  const rawSrc = query.get('src') ?? '';
  const rawDst = query.get('dst') ?? '';
  return (
    <div className="toolbar alert-filters">
      <label className="field">
        Status
        <select
          value={filters.status ?? ''}
          onChange={(event) => {
            onChange({ status: event.target.value });
          }}
        >
          <option value="">All</option>
          {ALERT_STATUSES.map((status) => (
            <option key={status} value={status}>
              {status}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        Severity
        <select
          value={filters.severity ?? ''}
          onChange={(event) => {
            onChange({ severity: event.target.value });
          }}
        >
          <option value="">Any</option>
          {SEVERITIES.map((severity) => (
            <option key={severity} value={severity}>
              {severity}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        Type
        <select
          value={filters.type ?? ''}
          onChange={(event) => {
            onChange({ type: event.target.value });
          }}
        >
          <option value="">Any</option>
          {ALERT_TYPES.map((type) => (
            <option key={type} value={type}>
              {ALERT_TYPE_LABELS[type]}
            </option>
          ))}
        </select>
      </label>
      {/* Remounted when the URL's addresses change (Clear, a link) so the inputs show them. */}
      <AddressFilters key={`${rawSrc}|${rawDst}`} src={rawSrc} dst={rawDst} onApply={onChange} />
      {hasFilters(filters) && (
        <button type="button" className="button-quiet" onClick={onClear}>
          Clear filters
        </button>
      )}
    </div>
  );
}

/**
 * The two address fields apply together, on Enter or "Apply", rather than on every keystroke: a
 * half-typed address is not a filter. A mistyped one is pointed out and not sent.
 */
function AddressFilters({
  src,
  dst,
  onApply,
}: {
  src: string;
  dst: string;
  onApply: (changes: { src: string | undefined; dst: string | undefined }) => void;
}) {
  const [invalid, setInvalid] = useState<{ src: boolean; dst: boolean }>({
    src: src !== '' && !isIpAddress(src),
    dst: dst !== '' && !isIpAddress(dst),
  });
  const submit = (event: SubmitEvent<HTMLFormElement>): void => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const read = (name: string): string => {
      const value = form.get(name);
      return typeof value === 'string' ? value.trim() : '';
    };
    const next = { src: read('src'), dst: read('dst') };
    const bad = {
      src: next.src !== '' && !isIpAddress(next.src),
      dst: next.dst !== '' && !isIpAddress(next.dst),
    };
    setInvalid(bad);
    if (bad.src || bad.dst) return;
    onApply({ src: next.src || undefined, dst: next.dst || undefined });
  };
  return (
    <form className="alert-address-filters" onSubmit={submit} noValidate>
      <AddressField name="src" label="Source address" value={src} invalid={invalid.src} />
      <AddressField name="dst" label="Destination address" value={dst} invalid={invalid.dst} />
      <button type="submit" className="button-quiet">
        Apply
      </button>
    </form>
  );
}

function AddressField({
  name,
  label,
  value,
  invalid,
}: {
  name: string;
  label: string;
  value: string;
  invalid: boolean;
}) {
  const errorId = `alert-filter-${name}-error`;
  return (
    <label className="field">
      {label}
      <input
        name={name}
        defaultValue={value}
        placeholder="any"
        inputMode="text"
        autoComplete="off"
        spellCheck={false}
        className="mono"
        aria-invalid={invalid}
        {...(invalid && { 'aria-describedby': errorId })}
      />
      {invalid && (
        <span id={errorId} className="alert-field-error">
          Not an IPv4 or IPv6 address
        </span>
      )}
    </label>
  );
}

function AlertTable({ filters }: { filters: AlertFilters }) {
  const paging = useCursorPaging();
  const alerts = useApiQuery<AlertListPage>(alertListPath(filters, paging.cursor), 5000);
  const canAct = useCan('analyst');
  const filtered = hasFilters(filters);
  return (
    <QueryView
      query={alerts}
      loadingLines={8}
      isEmpty={(page) => page.items.length === 0 && paging.pageNumber === 1}
      empty={
        filtered
          ? { title: 'No alerts match these filters', hint: 'Widen or clear the filters to see more.' }
          : {
              title: 'No alerts yet',
              hint: 'Scans, floods and brute force show up here as the detectors raise them.',
            }
      }
    >
      {(page) => (
        <>
          <div className="table-scroll">
            <table className="table alert-table" aria-label="Alerts">
              <thead>
                <tr>
                  <th scope="col">Severity</th>
                  <th scope="col">Type</th>
                  <th scope="col">Summary</th>
                  <th scope="col">Source</th>
                  <th scope="col">Destination</th>
                  <th scope="col">Status</th>
                  <th scope="col">First seen</th>
                  <th scope="col">Last seen</th>
                  {canAct && (
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  )}
                </tr>
              </thead>
              <tbody>
                {page.items.map((alert) => (
                  <AlertRow key={alert.id} alert={alert} canAct={canAct} />
                ))}
              </tbody>
            </table>
          </div>
          {page.items.length === 0 && (
            <p className="panel-note">No more alerts: this page is past the last one.</p>
          )}
          <CursorPager paging={paging} nextCursor={page.nextCursor} />
        </>
      )}
    </QueryView>
  );
}

function AlertRow({ alert, canAct }: { alert: AlertDetail; canAct: boolean }) {
  const first = microsToMs(alert.start);
  const last = microsToMs(alert.end);
  return (
    <tr>
      <td>
        <SeverityTag severity={alert.severity} />
      </td>
      <td className="mono">{alert.type}</td>
      {/* The link comes early in the row: on a phone it is in view without scrolling sideways. */}
      <td className="alert-summary">
        <Link to={`/alerts/${encodeURIComponent(alert.id)}`}>{alert.summary}</Link>
      </td>
      <td className="mono">{alert.src ?? '–'}</td>
      <td className="mono">{alert.dst ?? '–'}</td>
      <td>
        <AlertStatusTag status={alert.status} />
      </td>
      <td className="alert-time">
        <time dateTime={new Date(first).toISOString()}>{formatTimestamp(first)}</time>
      </td>
      <td className="alert-time">
        <time dateTime={new Date(last).toISOString()}>{formatTimestamp(last)}</time>
      </td>
      {canAct && (
        <td>
          <AlertActions alert={alert} />
        </td>
      )}
    </tr>
  );
}
