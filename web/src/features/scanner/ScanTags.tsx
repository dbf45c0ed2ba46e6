/** The small labels of a scan: its status and a finding's risk, in the stylesheet's tag colours. */

import type { Risk, ScanStatus } from './scan-types';

const STATUS_CLASS: Record<ScanStatus, string> = {
  queued: 'tag tag-muted',
  running: 'tag scan-status-running',
  done: 'tag tag-ok',
  failed: 'tag scan-status-failed',
  cancelled: 'tag tag-muted',
};

export function ScanStatusTag({ status }: { status: ScanStatus }) {
  return <span className={STATUS_CLASS[status]}>{status}</span>;
}

/** A risk uses the severity colours: the same five words, the same scale. */
export function RiskTag({ risk }: { risk: Risk }) {
  return <span className={`tag tag-${risk}`}>{risk}</span>;
}
