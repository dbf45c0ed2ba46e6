/**
 * The flow page's state as the URL keeps it (`/flows?address=10.0.0.5&port=22&sort=bytes`), and
 * the API paths it asks for. Pure: the page reads the query with useQueryParams and passes it
 * here. Filter values go to the API as typed, which checks them and says what is wrong; only
 * the sort and its order are picked from fixed lists here, since a header click sets them.
 */

import { queryString } from '../../api/queries';
import { FLOW_SORTS, type FlowSort, type SortOrder } from './flow-types';

/**
 * The filters other pages link with (address, port, protocol, from, to, sensor) and the page's
 * own. `sensor` is a sensor's or exporter's name, or `local` for this host's own capture.
 */
export const FILTER_KEYS = [
  'address',
  'port',
  'protocol',
  'state',
  'from',
  'to',
  'minBytes',
  'sensor',
] as const;
export type FilterKey = (typeof FILTER_KEYS)[number];
/** The filters as text, as in the URL; a missing key is no filter. */
export type FlowFilterValues = Partial<Record<FilterKey, string>>;

export interface FlowView {
  filters: FlowFilterValues;
  sort: FlowSort;
  order: SortOrder;
}

/** Rows of a page of the flow table. */
export const FLOW_PAGE_SIZE = 50;
/** Hosts and edges of the talk graph. */
export const GRAPH_HOSTS = 25;
export const GRAPH_EDGES = 100;

/** The view a URL's query describes; an unknown sort or order is the default (newest first). */
export function readFlowView(query: URLSearchParams): FlowView {
  const filters: FlowFilterValues = {};
  for (const key of FILTER_KEYS) {
    const value = query.get(key)?.trim();
    if (value) filters[key] = value;
  }
  const sort = FLOW_SORTS.find((s) => s === query.get('sort')) ?? 'time';
  const order: SortOrder = query.get('order') === 'asc' ? 'asc' : 'desc';
  return { filters, sort, order };
}

/** The URL changes that set the filters to `values` (empty ones removed), keeping the sort. */
export function filterChanges(values: FlowFilterValues): Record<FilterKey, string | undefined> {
  const changes = {} as Record<FilterKey, string | undefined>;
  for (const key of FILTER_KEYS) {
    const value = values[key]?.trim();
    // Protocol names are lower case in the store (tcp, udp, icmpv6).
    changes[key] =
      value === undefined || value === '' ? undefined : key === 'protocol' ? value.toLowerCase() : value;
  }
  return changes;
}

/**
 * The URL changes of a click on `column`'s header: the sorted column flips its order, another
 * becomes the sort, largest (newest) first. Defaults are left out of the URL.
 */
export function sortChanges(view: FlowView, column: FlowSort): { sort?: string; order?: string } {
  const order: SortOrder = column === view.sort && view.order === 'desc' ? 'asc' : 'desc';
  return {
    sort: column === 'time' ? undefined : column,
    order: order === 'desc' ? undefined : order,
  };
}

/** `aria-sort` of `column`'s header. */
export function ariaSort(view: FlowView, column: FlowSort): 'ascending' | 'descending' | 'none' {
  if (column !== view.sort) return 'none';
  return view.order === 'asc' ? 'ascending' : 'descending';
}

/** GET /api/flows for `view`, the page after `cursor`. */
export function flowsApiPath(view: FlowView, cursor?: string): string {
  return `/api/flows${queryString({
    ...view.filters,
    sort: view.sort === 'time' ? undefined : view.sort,
    order: view.order === 'desc' ? undefined : view.order,
    limit: FLOW_PAGE_SIZE,
    cursor,
  })}`;
}

/** GET /api/flows/graph for the filters of `view` (the server takes the last hour without a range). */
export function graphApiPath(view: FlowView): string {
  return `/api/flows/graph${queryString({ ...view.filters, hosts: GRAPH_HOSTS, limit: GRAPH_EDGES })}`;
}

/** The flow page of `filters`, for links from other pages (the host page's ports). */
export function flowsPagePath(filters: FlowFilterValues): string {
  return `/flows${queryString(filters)}`;
}

/** Epoch ms as a `datetime-local` input's value (local time, to the second); '' for none. */
export function toLocalInput(ms: string | undefined): string {
  if (ms === undefined || !/^\d+$/.test(ms)) return '';
  const date = new Date(Number(ms));
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${String(date.getFullYear()).padStart(4, '0')}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A `datetime-local` value (local time) as epoch ms in text; undefined when empty or unreadable. */
export function fromLocalInput(value: string): string | undefined {
  // Without a zone, Date reads a date-time form as local time, as the input means it.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value)) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : String(ms);
}
