/**
 * One scan (/scans/:id). While it is queued or running: what it waits for, since when, refreshed
 * every second, and Cancel (analysts). When done: the summary, the findings first (admins close a
 * finding's port on this server), what changed since the previous run, then every host's ports.
 * A failed or cancelled scan shows why. Scan text (banners, targets) is shown as text only.
 */

import './scanner.css';
import type { ReactNode } from 'react';
import { ApiError } from '../../api/api-client';
import { useCan } from '../../api/session';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import { useNow } from '../../lib/use-now';
import { ChangesPanel } from './ChangesPanel';
import { FindingsPanel } from './FindingsPanel';
import { HostsPanel } from './HostsPanel';
import {
  formatScanDuration,
  hostsUp,
  isActive,
  requestSummary,
  scanDuration,
  targetsText,
} from './scan-format';
import type { ScanRecord, ScanReport } from './scan-types';
import { ScanStatusTag } from './ScanTags';
import { useCancelScan, useScan } from './use-scans';

export function ScanReportPage({ id }: { id: string }) {
  const scan = useScan(id);
  // 404: no such scan; 400: not even a scan id (the API takes UUIDs only).
  const missing =
    scan.data === undefined &&
    scan.error instanceof ApiError &&
    (scan.error.status === 404 || scan.error.status === 400)
      ? scan.error
      : null;
  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="scan-back">
        <Link to="/scans">← All scans</Link>
      </nav>
      {missing !== null ? (
        <section className="panel state state-empty">
          <h1>No such scan</h1>
          <p className="state-hint">{missing.message}</p>
          <p>
            <Link to="/scans">Back to the scan list</Link>
          </p>
        </section>
      ) : (
        <QueryView query={scan} loadingLines={8}>
          {(data) => <ScanView scan={data} />}
        </QueryView>
      )}
    </div>
  );
}

function ScanView({ scan }: { scan: ScanRecord }) {
  const canClose = useCan('admin');
  const report = scan.report ?? null;
  return (
    <>
      <header className="page-header">
        <h1 className="scan-title">
          <span>
            Scan of <span className="mono">{targetsText(scan.targets)}</span>
          </span>{' '}
          <ScanStatusTag status={scan.status} />
        </h1>
        {isActive(scan.status) && <CancelScan id={scan.id} />}
      </header>

      <section className="panel" aria-label="Request">
        <dl className="scan-facts">
          <Fact label="Requested by">{scan.requestedBy}</Fact>
          <Fact label="Created">
            <Time ms={scan.createdAt} />
          </Fact>
          <Fact label="Asked for">{requestSummary(scan.request) || '–'}</Fact>
          <Fact label="Scan id">
            <span className="mono">{scan.id}</span>
          </Fact>
        </dl>
      </section>

      {isActive(scan.status) && <Waiting scan={scan} />}

      {scan.status === 'failed' && (
        <section className="panel" aria-label="Outcome">
          <div className="state state-error" role="alert">
            <p className="state-title">The scan failed</p>
            <p className="state-hint">{scan.error ?? 'No reason was recorded.'}</p>
          </div>
        </section>
      )}

      {/* Cancelling is someone's choice, not a failure: said plainly, not as an error. */}
      {scan.status === 'cancelled' && (
        <section className="panel" aria-label="Outcome">
          <div className="state">
            <p className="state-title">The scan was cancelled</p>
            <p className="state-hint">{scan.error ?? 'No reason was recorded.'}</p>
          </div>
        </section>
      )}

      {scan.status === 'done' &&
        (report === null ? (
          <section className="panel" aria-label="Report">
            <div className="state state-error" role="alert">
              <p className="state-title">The report cannot be read</p>
              <p className="state-hint">
                {scan.unreadable.includes('report')
                  ? 'Its stored copy is damaged. Run the scan again for a new one.'
                  : 'The server kept no report for this scan.'}
              </p>
            </div>
          </section>
        ) : (
          <Report scan={scan} report={report} canClose={canClose} />
        ))}
    </>
  );
}

/**
 * The progress-less wait: what the scan waits for and since when. Only the phase is a live region:
 * a clock ticking inside one would be read out every second.
 */
function Waiting({ scan }: { scan: ScanRecord }) {
  const now = useNow(1000);
  const queued = scan.status === 'queued';
  return (
    <section className="panel scan-waiting" aria-label="Progress">
      <div className="state">
        <p className="state-title" role="status">
          {queued ? 'Waiting in the queue' : 'Scanning…'}
        </p>
        <p className="state-hint">
          {queued ? (
            <>
              Scans run one at a time: this one starts when those before it end. Queued at{' '}
              <Time ms={scan.createdAt} />.
            </>
          ) : (
            <>
              Running for {scanDuration(scan, now)}. The report shows here when the scan ends; this page
              follows it by itself.
            </>
          )}
        </p>
      </div>
    </section>
  );
}

function CancelScan({ id }: { id: string }) {
  const canCancel = useCan('analyst');
  const cancel = useCancelScan(id);
  if (!canCancel) return null;
  return (
    <div className="scan-actions">
      <button
        type="button"
        className="button-quiet"
        disabled={cancel.isPending}
        aria-busy={cancel.isPending}
        onClick={() => {
          cancel.mutate(undefined);
        }}
      >
        Cancel scan
      </button>
      {cancel.isError && (
        <p className="scan-action-error" role="alert">
          {cancel.error.message}
        </p>
      )}
    </div>
  );
}

function Report({ scan, report, canClose }: { scan: ScanRecord; report: ScanReport; canClose: boolean }) {
  const ports = [
    report.tcpPorts > 0 && `${formatCount(report.tcpPorts)} TCP`,
    report.udpPorts > 0 && `${formatCount(report.udpPorts)} UDP`,
  ]
    .filter(Boolean)
    .join(' and ');
  return (
    <>
      <section className="panel" aria-label="Summary">
        <dl className="scan-facts scan-summary">
          <Fact label="Addresses">{formatCount(report.addresses)}</Fact>
          <Fact label="Hosts up">{formatCount(hostsUp(report))}</Fact>
          <Fact label="Duration">{formatScanDuration(report.finishedAt - report.startedAt)}</Fact>
          <Fact label="Engine">{report.engine}</Fact>
          <Fact label="Ports each">{ports || '–'}</Fact>
          <Fact label="Open ports">{formatCount(scan.openPorts)}</Fact>
        </dl>
        <p className="panel-note">
          Ran from <Time ms={report.startedAt} /> to <Time ms={report.finishedAt} />.
        </p>
      </section>
      <FindingsPanel scanId={scan.id} findings={report.findings} hosts={report.hosts} canClose={canClose} />
      <ChangesPanel diff={report.diff} />
      <HostsPanel hosts={report.hosts} addresses={report.addresses} />
    </>
  );
}

/** One term of a definition list, grouped so the list can lay out as a grid. */
function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="scan-fact">
      <dt>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Time({ ms }: { ms: number }) {
  return <time dateTime={new Date(ms).toISOString()}>{formatTimestamp(ms)}</time>;
}
