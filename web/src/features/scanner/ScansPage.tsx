/**
 * /scans: analysts and admins start a scan here; everyone sees the scans, newest first, one page
 * of the server's cursor paging at a time, filtered by status (?status=running, kept in the URL).
 * The list refreshes every 2 s while a scan on it is queued or running, else every 15 s. Each row
 * opens the scan's report. Scan text (targets, user names) is shown as text only.
 */

import './scanner.css';
import { useId, useState } from 'react';
import { useCan } from '../../api/session';
import { CursorPager, useCursorPaging } from '../../components/CursorPager';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatTimestamp } from '../../lib/format';
import { Link, useQueryParams } from '../../lib/router';
import { useNow } from '../../lib/use-now';
import { NewScanForm } from './NewScanForm';
import { isActive, readStatusFilter, scanDuration, scanPath, targetsText } from './scan-format';
import { SCAN_STATUSES, type ScanRecord, type ScanStatus } from './scan-types';
import { RiskTag, ScanStatusTag } from './ScanTags';
import { useScanList } from './use-scans';

export function ScansPage() {
  const canScan = useCan('analyst');
  const [query, setQuery] = useQueryParams();
  const status = readStatusFilter(query);
  const [started, setStarted] = useState<ScanRecord | null>(null);
  const filterId = useId();
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Scanner</h1>
      </header>
      {canScan && (
        <Panel title="New scan">
          <NewScanForm onStarted={setStarted} />
        </Panel>
      )}
      {started !== null && (
        <p className="notice scan-started" role="status">
          Scan of <span className="mono">{targetsText(started.targets)}</span> queued —{' '}
          <Link to={scanPath(started.id)}>follow it</Link>
        </p>
      )}
      <Panel
        title="Scans"
        aside={
          <div className="scan-filter">
            <label htmlFor={filterId}>Status</label>
            <select
              id={filterId}
              value={status ?? ''}
              onChange={(event) => {
                setQuery({ status: event.target.value });
              }}
            >
              <option value="">All</option>
              {SCAN_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
        }
      >
        {/* Keyed by the filter: paging starts again at the newest page when it changes. */}
        <ScanTable key={status ?? ''} status={status} canScan={canScan} />
      </Panel>
    </div>
  );
}

function ScanTable({ status, canScan }: { status: ScanStatus | undefined; canScan: boolean }) {
  const paging = useCursorPaging();
  const scans = useScanList(status, paging.cursor);
  const now = useNow(1000);
  return (
    <QueryView
      query={scans}
      loadingLines={6}
      isEmpty={(page) => page.items.length === 0 && paging.pageNumber === 1}
      empty={
        status !== undefined
          ? { title: `No ${status} scans`, hint: 'Choose another status, or All, to see more.' }
          : {
              title: 'No scans yet',
              hint: canScan
                ? 'Start one above: this host and its own networks are allowed by default.'
                : 'Analysts and admins start scans; they show here with their findings.',
            }
      }
    >
      {(page) => (
        <>
          <div className="table-scroll">
            <table className="table scan-table" aria-label="Scans">
              <thead>
                <tr>
                  <th scope="col">Status</th>
                  <th scope="col">Targets</th>
                  <th scope="col">Requested by</th>
                  <th scope="col">Created</th>
                  <th scope="col" className="num">
                    Duration
                  </th>
                  <th scope="col" className="num">
                    Open ports
                  </th>
                  <th scope="col" className="num">
                    Findings
                  </th>
                  <th scope="col">Max risk</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((scan) => (
                  <ScanRow key={scan.id} scan={scan} now={now} />
                ))}
              </tbody>
            </table>
          </div>
          {page.items.length === 0 && (
            <p className="panel-note">No more scans: this page is past the last one.</p>
          )}
          <CursorPager paging={paging} nextCursor={page.nextCursor} />
        </>
      )}
    </QueryView>
  );
}

function ScanRow({ scan, now }: { scan: ScanRecord; now: number }) {
  const done = scan.status === 'done';
  return (
    <tr>
      <td>
        <ScanStatusTag status={scan.status} />
      </td>
      {/* The link comes early in the row: on a phone it is in view without scrolling sideways. */}
      <td className="scan-targets-cell">
        <Link className="mono" to={scanPath(scan.id)}>
          {targetsText(scan.targets)}
        </Link>
      </td>
      <td>{scan.requestedBy}</td>
      <td className="scan-time">
        <time dateTime={new Date(scan.createdAt).toISOString()}>{formatTimestamp(scan.createdAt)}</time>
      </td>
      <td className="num">{scanDuration(scan, now)}</td>
      <td className="num">{done ? scan.openPorts : '–'}</td>
      <td className="num">{done ? scan.findings : '–'}</td>
      <td>
        {scan.maxRisk !== null ? (
          <RiskTag risk={scan.maxRisk} />
        ) : (
          <span className="scan-muted">{done ? 'none' : isActive(scan.status) ? '…' : '–'}</span>
        )}
      </td>
    </tr>
  );
}
