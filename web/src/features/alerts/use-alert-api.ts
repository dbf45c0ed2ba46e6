/**
 * The alerts pages' changes through the API, one hook each, with what each makes stale: a change
 * to an alert refetches every alert view (list, groups, detail), a new or removed suppression
 * rule the rules and the alerts, an override the overrides.
 */

import { useApiMutation } from '../../api/queries';
import { groupActionPath, type GroupAction, type GroupActionBody } from './alert-groups';
import type { LifecycleAction } from './alert-lifecycle';
import type {
  AlertDetail,
  GroupChangeResult,
  SeverityOverrides,
  SeverityOverridesView,
  SuppressionRuleView,
} from './alert-types';
import type { SuppressionBody } from './suppression-form';

export const SUPPRESSIONS_PATH = '/api/alert_suppressions';
export const OVERRIDES_PATH = '/api/alert_severity_overrides';

/** GET path of one alert with its history and incidents. */
export function alertApiPath(id: string): string {
  return `/api/anomalies/${encodeURIComponent(id)}`;
}

const ALERTS = ['/api/anomalies'];

/** Acknowledge, resolve or reopen the alert, with an optional comment. */
export function useLifecycleChange(alertId: string) {
  return useApiMutation<{ action: LifecycleAction; comment?: string }, AlertDetail>({
    method: 'POST',
    path: ({ action }) => `${alertApiPath(alertId)}/${action}`,
    body: ({ comment }) => (comment === undefined ? {} : { comment }),
    invalidates: ALERTS,
  });
}

/** Assign the alert to a user by name, or to nobody with null. */
export function useAssign(alertId: string) {
  return useApiMutation<string | null, AlertDetail>({
    method: 'POST',
    path: () => `${alertApiPath(alertId)}/assign`,
    body: (assignee) => ({ assignee }),
    invalidates: ALERTS,
  });
}

/** Add a comment to the alert's history. */
export function useAddComment(alertId: string) {
  return useApiMutation<string, AlertDetail>({
    method: 'POST',
    path: () => `${alertApiPath(alertId)}/comments`,
    body: (text) => ({ text }),
    invalidates: ALERTS,
  });
}

/** Acknowledge or resolve every alert of a group it applies to. */
export function useGroupChange() {
  return useApiMutation<{ action: GroupAction; body: GroupActionBody }, GroupChangeResult>({
    method: 'POST',
    path: ({ action }) => groupActionPath(action),
    body: ({ body }) => body,
    invalidates: ALERTS,
  });
}

/** Add a suppression rule. */
export function useAddSuppression() {
  return useApiMutation<SuppressionBody, SuppressionRuleView>({
    method: 'POST',
    path: () => SUPPRESSIONS_PATH,
    body: (rule) => rule,
    invalidates: [SUPPRESSIONS_PATH, ...ALERTS],
  });
}

/** End a suppression rule now (it stays listed, as removed). */
export function useRemoveSuppression() {
  return useApiMutation<number, SuppressionRuleView>({
    method: 'DELETE',
    path: (id) => `${SUPPRESSIONS_PATH}/${id}`,
    invalidates: [SUPPRESSIONS_PATH, ...ALERTS],
  });
}

/** Replace the severity overrides. */
export function useSaveOverrides() {
  return useApiMutation<SeverityOverrides, SeverityOverridesView>({
    method: 'PUT',
    path: () => OVERRIDES_PATH,
    body: (overrides) => ({ overrides }),
    invalidates: [OVERRIDES_PATH],
  });
}
