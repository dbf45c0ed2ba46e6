/**
 * The incident pages' reads and changes through the API. Every change answers with the whole
 * incident and refetches everything under /api/incidents, so the list's "updated" order and the
 * detail's timeline both move with it.
 */

import { useApiMutation, useApiQuery } from '../../api/queries';
import { incidentListPath, isIncidentId, type IncidentFilters } from './incident-filters';
import type {
  IncidentChangeBody,
  IncidentDetail,
  IncidentListPage,
  NewIncidentBody,
  NewLinkBody,
} from './incident-types';

/** Linked alerts keep growing and others change incidents too: asked again this often. */
const REFRESH_MS = 15_000;
const INVALIDATES = ['/api/incidents'] as const;

export function incidentPath(id: number | string): string {
  return `/api/incidents/${encodeURIComponent(String(id))}`;
}

export function useIncidents(filters: IncidentFilters, cursor: string | undefined) {
  return useApiQuery<IncidentListPage>(incidentListPath(filters, cursor), REFRESH_MS);
}

/** The incident `id` (as the page's path has it); nothing is asked for an id that cannot be one. */
export function useIncident(id: string) {
  return useApiQuery<IncidentDetail>(isIncidentId(id) ? incidentPath(id) : null, REFRESH_MS);
}

export function useReportIncident() {
  return useApiMutation<NewIncidentBody, IncidentDetail>({
    method: 'POST',
    path: () => '/api/incidents',
    body: (incident) => incident,
    invalidates: INVALIDATES,
  });
}

export function useChangeIncident(id: number) {
  return useApiMutation<IncidentChangeBody, IncidentDetail>({
    method: 'PATCH',
    path: () => incidentPath(id),
    body: (change) => change,
    invalidates: INVALIDATES,
  });
}

export function useAddComment(id: number) {
  return useApiMutation<{ text: string }, IncidentDetail>({
    method: 'POST',
    path: () => `${incidentPath(id)}/comments`,
    body: (comment) => comment,
    invalidates: INVALIDATES,
  });
}

export function useAddLink(id: number) {
  return useApiMutation<NewLinkBody, IncidentDetail>({
    method: 'POST',
    path: () => `${incidentPath(id)}/links`,
    body: (link) => link,
    invalidates: INVALIDATES,
  });
}

export function useRemoveLink(id: number) {
  return useApiMutation<number, IncidentDetail>({
    method: 'DELETE',
    path: (linkId) => `${incidentPath(id)}/links/${linkId}`,
    invalidates: INVALIDATES,
  });
}
