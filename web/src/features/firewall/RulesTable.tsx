/**
 * The rules table: what each rule matches, who made it and when, when it ends and the alert
 * behind it; in history, how each rule left force. Admins get Edit and Remove on rules in force
 * (each button described by its row's kind and target, as every row has the same two).
 */

import { formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import {
  alertPath,
  createdByText,
  expiryText,
  formatAgo,
  isInForce,
  removalText,
  ruleTarget,
} from './firewall-format';
import type { FirewallRule } from './firewall-types';

export function RulesTable({
  rules,
  now,
  history,
  canAdmin,
  onEdit,
  onRemove,
}: {
  /** In the order to show (sortRules). */
  rules: readonly FirewallRule[];
  now: number;
  /** Shows how lifted and expired rules ended. */
  history: boolean;
  canAdmin: boolean;
  onEdit: (rule: FirewallRule) => void;
  onRemove: (rule: FirewallRule) => void;
}) {
  return (
    <div className="table-scroll">
      <table className="table fw-rules" aria-label="Firewall rules">
        <thead>
          <tr>
            <th scope="col">Kind</th>
            <th scope="col">Source or port</th>
            <th scope="col">Interface</th>
            <th scope="col">Comment</th>
            <th scope="col">Created</th>
            <th scope="col">Expires</th>
            <th scope="col">Alert</th>
            {history && <th scope="col">State</th>}
            {canAdmin && (
              <th scope="col">
                <span className="visually-hidden">Actions</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>
          {rules.map((rule) => (
            <RuleRow
              key={rule.id}
              rule={rule}
              now={now}
              history={history}
              canAdmin={canAdmin}
              onEdit={onEdit}
              onRemove={onRemove}
            />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function RuleRow({
  rule,
  now,
  history,
  canAdmin,
  onEdit,
  onRemove,
}: {
  rule: FirewallRule;
  now: number;
  history: boolean;
  canAdmin: boolean;
  onEdit: (rule: FirewallRule) => void;
  onRemove: (rule: FirewallRule) => void;
}) {
  const inForce = isInForce(rule, now);
  const expiry = expiryText(rule, now);
  // The buttons are described by the row's own kind and target cells: no hidden copy of the
  // text, which would make every address on the page appear twice to search and to tests.
  const kindId = `fw-rule-${rule.id}-kind`;
  const targetId = `fw-rule-${rule.id}-target`;
  const describedBy = `${kindId} ${targetId}`;
  return (
    <tr className={inForce ? undefined : 'fw-ended'}>
      <td>
        <span id={kindId} className={`tag fw-kind-${rule.kind}`}>
          {rule.kind}
        </span>
      </td>
      <th id={targetId} scope="row" className="mono fw-target">
        {ruleTarget(rule)}
      </th>
      <td>{rule.interface ?? <span className="fw-muted">any</span>}</td>
      <td className="fw-comment">{rule.comment ?? <span className="fw-muted">–</span>}</td>
      <td>
        <span className={rule.createdBy === 'policy' ? 'fw-policy' : undefined}>
          {createdByText(rule.createdBy)}
        </span>
        <Moment at={rule.createdAt} now={now} />
      </td>
      <td>
        {expiry.absolute === null ? (
          <span className="fw-muted">never</span>
        ) : !inForce ? (
          // Ended: when it was to end, without a countdown that no longer applies.
          <time className="fw-muted fw-nowrap" dateTime={new Date(rule.expiresAt ?? 0).toISOString()}>
            {expiry.absolute}
          </time>
        ) : (
          <>
            {expiry.relative}
            <time className="fw-sub" dateTime={new Date(rule.expiresAt ?? 0).toISOString()}>
              {expiry.absolute}
            </time>
          </>
        )}
      </td>
      <td>
        {rule.alertId === null ? (
          <span className="fw-muted">–</span>
        ) : (
          <Link className="mono fw-nowrap" to={alertPath(rule.alertId)}>
            {rule.alertId}
          </Link>
        )}
      </td>
      {history && (
        <td>
          {inForce ? (
            <span className="tag tag-ok">in force</span>
          ) : (
            <>
              <span className="tag tag-muted">
                {rule.removedAt === null ? 'expired' : removalText(rule.removedBy)}
              </span>
              {(rule.removedAt ?? rule.expiresAt) !== null && (
                <Moment at={rule.removedAt ?? rule.expiresAt ?? 0} now={now} />
              )}
            </>
          )}
        </td>
      )}
      {canAdmin && (
        <td>
          {inForce && (
            <div className="fw-actions">
              <button
                type="button"
                className="button-quiet"
                aria-describedby={describedBy}
                onClick={() => {
                  onEdit(rule);
                }}
              >
                Edit
              </button>
              <button
                type="button"
                className="button-quiet fw-remove"
                aria-describedby={describedBy}
                onClick={() => {
                  onRemove(rule);
                }}
              >
                Remove
              </button>
            </div>
          )}
        </td>
      )}
    </tr>
  );
}

/** A past time as "5 min ago", with the exact time beneath. */
function Moment({ at, now }: { at: number; now: number }) {
  const absolute = formatTimestamp(at, 'minute');
  return (
    <time className="fw-sub" dateTime={new Date(at).toISOString()} title={absolute}>
      {formatAgo(at, now)} · {absolute}
    </time>
  );
}
