/** The small labels of an alert: its severity and its status, in the stylesheet's tag colours. */

import type { Severity } from '../../api/api-types';
import type { AlertStatus } from './alert-types';

export function SeverityTag({ severity }: { severity: Severity }) {
  return <span className={`tag tag-${severity}`}>{severity}</span>;
}

const STATUS_CLASS: Record<AlertStatus, string> = {
  open: 'tag alert-status-open',
  acknowledged: 'tag tag-muted',
  resolved: 'tag tag-ok',
};

export function AlertStatusTag({ status }: { status: AlertStatus }) {
  return <span className={STATUS_CLASS[status]}>{status}</span>;
}
