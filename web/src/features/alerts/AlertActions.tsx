/**
 * An analyst's quick buttons on a row of the alert list: Acknowledge while it is new, Resolve
 * until it is resolved, without a comment (the alert's page offers comments, reopening and
 * assigning: AlertTriage). Shown to analysts and admins only (the API refuses viewers either
 * way). A refusal (the alert was resolved meanwhile) is shown beside the buttons; success
 * refetches every alert view.
 */

import { useApiMutation } from '../../api/queries';
import { useCan } from '../../api/session';
import type { AlertDetail } from './alert-types';

type AlertAction = 'acknowledge' | 'resolve';

export function AlertActions({ alert }: { alert: Pick<AlertDetail, 'id' | 'status'> }) {
  const canAct = useCan('analyst');
  const change = useApiMutation<AlertAction, AlertDetail>({
    method: 'POST',
    path: (action) => `/api/anomalies/${encodeURIComponent(alert.id)}/${action}`,
    invalidates: ['/api/anomalies'],
  });
  if (!canAct || alert.status === 'resolved') return null;
  const busy = (action: AlertAction): boolean => change.isPending && change.variables === action;
  return (
    <div className="alert-actions">
      {alert.status === 'open' && (
        <button
          type="button"
          className="button-quiet"
          disabled={change.isPending}
          aria-busy={busy('acknowledge')}
          onClick={() => {
            change.mutate('acknowledge');
          }}
        >
          Acknowledge
        </button>
      )}
      <button
        type="button"
        className="button-quiet"
        disabled={change.isPending}
        aria-busy={busy('resolve')}
        onClick={() => {
          change.mutate('resolve');
        }}
      >
        Resolve
      </button>
      {change.isError && (
        <p className="alert-action-error" role="alert">
          {change.error.message}
        </p>
      )}
    </div>
  );
}
