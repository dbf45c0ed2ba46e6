/** The small labels of an alert: its severity, its status, and whether a rule mutes it. */

import type { Severity } from '../../api/api-types';
import { ALERT_STATUS_LABELS, type AlertStatus } from './alert-types';

export function SeverityTag({ severity }: { severity: Severity }) {
  return <span className={`tag tag-${severity}`}>{severity}</span>;
}

const STATUS_CLASS: Record<AlertStatus, string> = {
  open: 'tag alert-status-open',
  acknowledged: 'tag tag-muted',
  resolved: 'tag tag-ok',
};

export function AlertStatusTag({ status }: { status: AlertStatus }) {
  return <span className={STATUS_CLASS[status]}>{ALERT_STATUS_LABELS[status]}</span>;
}

/** "muted", for an alert a suppression rule matched (stored and listed on request, never notified). */
export function MutedTag({ ruleId }: { ruleId: number }) {
  return (
    <span className="tag tag-muted alert-muted-tag" title={`Muted by suppression rule #${ruleId}`}>
      muted
    </span>
  );
}
