/** The small labels of an incident: its severity and its status, in the stylesheet's tag colours. */

import { severityOf } from './incident-form';
import { STATUS_LABEL } from './incident-format';
import type { IncidentStatus } from './incident-types';

export function SeverityTag({ severity }: { severity: string }) {
  const known = severityOf(severity);
  return <span className={known === null ? 'tag tag-muted' : `tag tag-${known}`}>{severity}</span>;
}

const STATUS_CLASS: Record<IncidentStatus, string> = {
  open: 'tag inc-status-open',
  investigating: 'tag inc-status-investigating',
  contained: 'tag tag-ok',
  closed: 'tag tag-muted',
};

export function StatusTag({ status }: { status: IncidentStatus }) {
  return <span className={STATUS_CLASS[status]}>{STATUS_LABEL[status]}</span>;
}
