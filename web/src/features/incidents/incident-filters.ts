/**
 * The incident list's filters as they live in the page's URL (`/incidents?status=contained`,
 * `/incidents?all=1`) and the API path they ask for. By default the list shows active incidents
 * (not closed); a chosen status shows exactly that status, closed included. Pure.
 */

import { SEVERITIES, type Severity } from '../../api/api-types';
import { queryString } from '../../api/queries';
import { INCIDENT_STATUSES, type IncidentStatus } from './incident-types';

/** Incidents a page of the list holds. */
export const INCIDENT_PAGE_SIZE = 50;

export interface IncidentFilters {
  status?: IncidentStatus;
  severity?: Severity;
  /** Only incidents not closed; ignored when a status is chosen. */
  activeOnly: boolean;
}

/** The URL keys the list reads. */
export const INCIDENT_FILTER_KEYS = ['status', 'severity', 'all'] as const;

export function readIncidentFilters(query: URLSearchParams): IncidentFilters {
  const status = INCIDENT_STATUSES.find((s) => s === query.get('status'));
  const severity = SEVERITIES.find((s) => s === query.get('severity'));
  return {
    ...(status !== undefined && { status }),
    ...(severity !== undefined && { severity }),
    activeOnly: query.get('all') !== '1',
  };
}

/** GET path of one page of the list; `cursor` undefined: the most recently changed page. */
export function incidentListPath(filters: IncidentFilters, cursor?: string): string {
  return `/api/incidents${queryString({
    status: filters.status,
    severity: filters.severity,
    active: filters.status === undefined && filters.activeOnly ? true : undefined,
    limit: INCIDENT_PAGE_SIZE,
    cursor,
  })}`;
}

/** A key that changes exactly when the filters do (paging starts over then). */
export function incidentFiltersKey(filters: IncidentFilters): string {
  return `${filters.status ?? ''}|${filters.severity ?? ''}|${String(filters.activeOnly)}`;
}

/** Whether the list is narrowed beyond the default (active incidents). */
export function isNarrowed(filters: IncidentFilters): boolean {
  return filters.status !== undefined || filters.severity !== undefined;
}

/** Whether `id` (from the page's path) can be an incident's: a whole number from 1 to 2^31. */
export function isIncidentId(id: string): boolean {
  return /^[1-9]\d{0,9}$/.test(id) && Number(id) <= 2 ** 31;
}
