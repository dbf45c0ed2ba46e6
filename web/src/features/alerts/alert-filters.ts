/**
 * The alert list's filters as they live in the page's URL (`/alerts?status=open&src=192.0.2.7`)
 * and the API path they ask for. Values the API would refuse (an unknown type, a mistyped address)
 * never reach it: the API logs refused input as a security event, and a typo is not one. Pure.
 */

import { SEVERITIES, type Severity } from '../../api/api-types';
import { queryString } from '../../api/queries';
import { ALERT_STATUSES, ALERT_TYPES, type AlertStatus, type AlertType } from './alert-types';

/** Alerts a page of the list holds. */
export const ALERT_PAGE_SIZE = 50;

export interface AlertFilters {
  status?: AlertStatus;
  severity?: Severity;
  type?: AlertType;
  src?: string;
  dst?: string;
}

/** The URL query keys the list reads (the API's own names, so a filter reads the same in both). */
export const FILTER_KEYS = ['status', 'severity', 'type', 'src', 'dst'] as const;

/** The filters of the page's query string; missing, `all` and unusable values mean "any". */
export function readAlertFilters(query: URLSearchParams): AlertFilters {
  const status = oneOf(ALERT_STATUSES, query.get('status'));
  const severity = oneOf(SEVERITIES, query.get('severity'));
  const type = oneOf(ALERT_TYPES, query.get('type'));
  const src = address(query.get('src'));
  const dst = address(query.get('dst'));
  return {
    ...(status && { status }),
    ...(severity && { severity }),
    ...(type && { type }),
    ...(src && { src }),
    ...(dst && { dst }),
  };
}

/** GET path of one page of the filtered list; `cursor` undefined: the first (newest) page. */
export function alertListPath(filters: AlertFilters, cursor?: string): string {
  return `/api/anomalies${queryString({ ...filters, limit: ALERT_PAGE_SIZE, cursor })}`;
}

/** A key that changes exactly when the filters do (paging starts over then). */
export function filtersKey(filters: AlertFilters): string {
  return FILTER_KEYS.map((key) => filters[key] ?? '').join('|');
}

export function hasFilters(filters: AlertFilters): boolean {
  return FILTER_KEYS.some((key) => filters[key] !== undefined);
}

const IPV4_PART = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_PART}(\\.${IPV4_PART}){3}$`);

/**
 * Whether `text` is an IPv4 or IPv6 address as the API's filters take them (no prefix, no zone).
 * IPv6 is left to the URL parser, which implements the full grammar in the browser and in Node.
 */
export function isIpAddress(text: string): boolean {
  if (text.length === 0 || text.length > 64) return false;
  if (IPV4.test(text)) return true;
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

function oneOf<T extends string>(values: readonly T[], value: string | null): T | undefined {
  return values.find((v) => v === value);
}

function address(value: string | null): string | undefined {
  const trimmed = value?.trim() ?? '';
  return isIpAddress(trimmed) ? trimmed : undefined;
}
