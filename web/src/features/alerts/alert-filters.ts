/**
 * The alert list's filters as they live in the page's URL (`/alerts?status=open&src=192.0.2.7`)
 * and the API paths they ask for: the list of alerts, or its groups. Values the API would refuse
 * (an unknown type, a mistyped address) never reach it: the API logs refused input as a security
 * event, and a typo is not one. Muted alerts are left out unless the URL asks for them. Pure.
 */

import { SEVERITIES, type Severity } from '../../api/api-types';
import { queryString } from '../../api/queries';
import { usernameProblem } from '../users/user-rules';
import { isIpAddress } from '../../lib/ip-address';
import { parseAlertGroup } from './alert-groups';
import { ALERT_STATUSES, ALERT_TYPES, type AlertStatus, type AlertType } from './alert-types';

/** Alerts a page of the list holds. */
export const ALERT_PAGE_SIZE = 50;

/** Groups the grouped view shows: the most recently active ones (the API has no paging for them). */
export const GROUP_LIMIT = 100;

/**
 * Muted alerts (a suppression rule matched them) in the list: absent, hidden; `all`, shown with
 * the others; `true`, only they (the API's own `suppressed=true`).
 */
export type MutedFilter = 'all' | 'true';

export interface AlertFilters {
  status?: AlertStatus;
  severity?: Severity;
  type?: AlertType;
  src?: string;
  dst?: string;
  /** A user name. */
  assignee?: string;
  /** A group key: `src:<address>`, `dst:<address>` or `type:<type>`. */
  group?: string;
  suppressed?: MutedFilter;
}

/** The URL query keys the list reads (the API's own names, so a filter reads the same in both). */
export const FILTER_KEYS = [
  'status',
  'severity',
  'type',
  'src',
  'dst',
  'assignee',
  'group',
  'suppressed',
] as const;

/** The filters the groups view applies (GET /api/anomalies/groups takes no others). */
export const GROUP_FILTER_KEYS = ['status', 'suppressed'] as const;

/** The list of alerts, or the list of their groups. */
export type AlertView = 'list' | 'groups';

/** The filters of the page's query string; missing, `all` and unusable values mean "any". */
export function readAlertFilters(query: URLSearchParams): AlertFilters {
  const status = oneOf(ALERT_STATUSES, query.get('status'));
  const severity = oneOf(SEVERITIES, query.get('severity'));
  const type = oneOf(ALERT_TYPES, query.get('type'));
  const src = address(query.get('src'));
  const dst = address(query.get('dst'));
  const assignee = username(query.get('assignee'));
  const group = groupKey(query.get('group'));
  const suppressed = oneOf(['all', 'true'] as const, query.get('suppressed'));
  return {
    ...(status && { status }),
    ...(severity && { severity }),
    ...(type && { type }),
    ...(src && { src }),
    ...(dst && { dst }),
    ...(assignee && { assignee }),
    ...(group && { group }),
    ...(suppressed && { suppressed }),
  };
}

/** Which view the URL asks for (`view=groups`); the list otherwise. */
export function readAlertView(query: URLSearchParams): AlertView {
  return query.get('view') === 'groups' ? 'groups' : 'list';
}

/** GET path of one page of the filtered list; `cursor` undefined: the first (newest) page. */
export function alertListPath(filters: AlertFilters, cursor?: string): string {
  const { suppressed, ...rest } = filters;
  return `/api/anomalies${queryString({
    ...pick(rest, FILTER_KEYS),
    suppressed: suppressedParam(suppressed),
    limit: ALERT_PAGE_SIZE,
    cursor,
  })}`;
}

/** GET path of the groups of the alerts the status and muted filters keep. */
export function alertGroupsPath(filters: AlertFilters): string {
  return `/api/anomalies/groups${queryString({
    status: filters.status,
    suppressed: suppressedParam(filters.suppressed),
    limit: GROUP_LIMIT,
  })}`;
}

/** The dashboard path of the alert list with `filters` (a link to a group, to the muted alerts). */
export function alertsPagePath(filters: AlertFilters): string {
  return `/alerts${queryString(pick(filters, FILTER_KEYS))}`;
}

/** The list of one group's alerts, keeping the status and muted filters the groups were seen with. */
export function groupListPath(group: string, filters: AlertFilters): string {
  return alertsPagePath({ ...pick(filters, GROUP_FILTER_KEYS), group });
}

/** A key that changes exactly when the filters do (paging starts over then). */
export function filtersKey(filters: AlertFilters): string {
  return FILTER_KEYS.map((key) => filters[key] ?? '').join('|');
}

export function hasFilters(filters: AlertFilters): boolean {
  return FILTER_KEYS.some((key) => filters[key] !== undefined);
}

/** The API's `suppressed`: false (hide the muted) unless the URL asks for them. */
function suppressedParam(muted: MutedFilter | undefined): boolean | undefined {
  if (muted === undefined) return false;
  return muted === 'true' ? true : undefined;
}

function pick(
  filters: AlertFilters,
  keys: readonly (keyof AlertFilters)[],
): Record<string, string | undefined> {
  return Object.fromEntries(keys.map((key) => [key, filters[key]]));
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return values.find((v) => v === value);
}

function address(value: string | null): string | undefined {
  const trimmed = value?.trim() ?? '';
  return isIpAddress(trimmed) ? trimmed : undefined;
}

function username(value: string | null): string | undefined {
  const trimmed = value?.trim() ?? '';
  return trimmed !== '' && usernameProblem(trimmed) === null ? trimmed : undefined;
}

function groupKey(value: string | null): string | undefined {
  return value !== null && parseAlertGroup(value) !== null ? value : undefined;
}
