/**
 * The grouped view of the alert list: related alerts (same attacker, same victim, or the same type
 * when they have no address) as one row each, the most recently active first, with how many are
 * new, their types and the gravest severity. Each group links to the list of its alerts; analysts
 * acknowledge or resolve a whole group at once, after a confirmation that says what it will do.
 */

import { useId, useState } from 'react';
import type { Severity } from '../../api/api-types';
import { SEVERITIES } from '../../api/api-types';
import { useApiQuery } from '../../api/queries';
import { useCan } from '../../api/session';
import { ConfirmDialog } from '../../components/ConfirmDialog';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import { Field } from '../../components/Field';
import { alertGroupsPath, GROUP_LIMIT, groupListPath, hasFilters, type AlertFilters } from './alert-filters';
import { microsToMs } from './alert-format';
import {
  GROUP_ACTION_LABELS,
  groupActionBody,
  groupActionEffect,
  groupActionResult,
  groupLabel,
  groupPhrase,
  type GroupAction,
} from './alert-groups';
import { MAX_ALERT_COMMENT_LENGTH } from './alert-lifecycle';
import type { AlertGroup, AlertGroupList } from './alert-types';
import { SeverityTag } from './AlertTags';
import { useGroupChange } from './use-alert-api';
import { withSensor } from '../sensors/sensor-filter';

export function AlertGroupsTable({ filters, sensor }: { filters: AlertFilters; sensor: string | undefined }) {
  const groups = useApiQuery<AlertGroupList>(withSensor(alertGroupsPath(filters), sensor), 5000);
  const canAct = useCan('analyst');
  const [asked, setAsked] = useState<{ action: GroupAction; group: AlertGroup } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const mutedHint = filters.suppressed === undefined ? ' Muted alerts are left out: tick Show muted.' : '';
  return (
    <>
      {done !== null && (
        <p className="notice alert-done" role="status">
          {done}
        </p>
      )}
      <QueryView
        query={groups}
        loadingLines={8}
        isEmpty={(answer) => answer.groups.length === 0}
        empty={
          hasFilters(filters)
            ? { title: 'No alerts match these filters', hint: `Widen or clear the filters.${mutedHint}` }
            : { title: 'No alerts yet', hint: `Related alerts are grouped here as they come.${mutedHint}` }
        }
      >
        {(answer) => (
          <>
            <div className="table-scroll">
              <table className="table alert-table" aria-label="Alert groups">
                <thead>
                  <tr>
                    <th scope="col">Group</th>
                    <th scope="col" className="num">
                      Alerts
                    </th>
                    <th scope="col" className="num">
                      New
                    </th>
                    <th scope="col">Types</th>
                    <th scope="col">Highest severity</th>
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
                  {answer.groups.map((group) => (
                    <GroupRow
                      key={group.group}
                      group={group}
                      filters={filters}
                      sensor={sensor}
                      canAct={canAct}
                      onAct={(action) => {
                        setDone(null);
                        setAsked({ action, group });
                      }}
                    />
                  ))}
                </tbody>
              </table>
            </div>
            {answer.groups.length >= GROUP_LIMIT && (
              <p className="panel-note">
                The {GROUP_LIMIT} most recently active groups are shown; narrow the status to see others.
              </p>
            )}
          </>
        )}
      </QueryView>
      {asked !== null && (
        <GroupActionDialog
          // A new dialog (and an empty comment) for every group and action asked about.
          key={`${asked.action} ${asked.group.group}`}
          action={asked.action}
          group={asked.group}
          sensor={sensor}
          onClose={() => {
            setAsked(null);
          }}
          onDone={(text) => {
            setAsked(null);
            setDone(text);
          }}
        />
      )}
    </>
  );
}

function GroupRow({
  group,
  filters,
  sensor,
  canAct,
  onAct,
}: {
  group: AlertGroup;
  filters: AlertFilters;
  sensor: string | undefined;
  canAct: boolean;
  onAct: (action: GroupAction) => void;
}) {
  const first = microsToMs(group.start);
  const last = microsToMs(group.end);
  // Every row has the same two buttons: each is described by its row's group cell.
  const labelId = useId();
  return (
    <tr>
      <th scope="row" id={labelId} className="mono alert-group-name">
        <Link to={withSensor(groupListPath(group.group, filters), sensor)}>{groupLabel(group.group)}</Link>
      </th>
      <td className="num">{formatCount(group.count)}</td>
      <td className="num">{formatCount(group.open)}</td>
      <td className="mono alert-group-types">{group.types.join(', ')}</td>
      <td>{isSeverity(group.severity) ? <SeverityTag severity={group.severity} /> : group.severity}</td>
      <td className="alert-time">
        <time dateTime={new Date(first).toISOString()}>{formatTimestamp(first)}</time>
      </td>
      <td className="alert-time">
        <time dateTime={new Date(last).toISOString()}>{formatTimestamp(last)}</time>
      </td>
      {canAct && (
        <td>
          <div className="alert-actions">
            {(['acknowledge', 'resolve'] as const).map((action) => (
              <button
                key={action}
                type="button"
                className="button-quiet"
                aria-describedby={labelId}
                // Nothing new to acknowledge; resolving may still apply to acknowledged ones.
                disabled={action === 'acknowledge' && group.open === 0}
                onClick={() => {
                  onAct(action);
                }}
              >
                {GROUP_ACTION_LABELS[action]}
              </button>
            ))}
          </div>
        </td>
      )}
    </tr>
  );
}

function GroupActionDialog({
  action,
  group,
  sensor,
  onClose,
  onDone,
}: {
  action: GroupAction;
  group: AlertGroup;
  sensor: string | undefined;
  onClose: () => void;
  onDone: (result: string) => void;
}) {
  const [comment, setComment] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const change = useGroupChange();
  return (
    <ConfirmDialog
      open
      title={`${action === 'acknowledge' ? 'Acknowledge' : 'Resolve'} the alerts of ${groupPhrase(group.group)}?`}
      confirmLabel={GROUP_ACTION_LABELS[action]}
      busy={change.isPending}
      error={change.isError ? change.error.message : null}
      onCancel={onClose}
      onConfirm={() => {
        const body = groupActionBody(group.group, comment, sensor);
        if (!body.ok) {
          setProblem(body.error);
          return;
        }
        setProblem(null);
        change.mutate(
          { action, body: body.value },
          {
            onSuccess: (result) => {
              onDone(groupActionResult(action, group.group, result.changed.length));
            },
          },
        );
      }}
    >
      <p>{groupActionEffect(action, group, sensor)}</p>
      <Field label="Comment (optional, saved with each alert)" error={problem ?? undefined}>
        {(control) => (
          <textarea
            {...control}
            className="alert-comment"
            rows={2}
            maxLength={MAX_ALERT_COMMENT_LENGTH}
            value={comment}
            onChange={(event) => {
              setComment(event.target.value);
            }}
          />
        )}
      </Field>
    </ConfirmDialog>
  );
}

function isSeverity(value: string): value is Severity {
  return SEVERITIES.some((severity) => severity === value);
}
