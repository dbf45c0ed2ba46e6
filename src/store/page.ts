/**
 * Pages of rows for the API: a limit with a hard maximum, and either an offset or an opaque
 * keyset cursor (the sort key of the last row of the previous page), which stays right while new
 * rows arrive and costs the same on page 1000 as on page 1. A cursor is data, never SQL: it is
 * decoded, checked and then passed as query parameters.
 */

import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** Rows in a page when the caller does not say. */
export const DEFAULT_PAGE_SIZE = 100;
/** Rows in a page at most, whatever the caller asks: one request must not read a whole table. */
export const MAX_PAGE_SIZE = 1000;

export interface PageRequest {
  /** Rows wanted, 1 to MAX_PAGE_SIZE (larger values are cut to it). */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string | null;
  /** Rows to skip instead of a cursor. */
  offset?: number;
}

export interface Page<T> {
  items: T[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

/** The sort key of a row: a time and a tie-breaking id. */
export type CursorKey = readonly [number, number | string];

/** The page's limit, offset and decoded cursor, checked. */
export function readPageRequest(page: PageRequest): {
  limit: number;
  offset: number;
  after: CursorKey | null;
} {
  const limit = page.limit === undefined ? DEFAULT_PAGE_SIZE : checkInteger('limit', page.limit, 1);
  const offset = page.offset === undefined ? 0 : checkInteger('offset', page.offset, 0);
  const cursor = page.cursor ?? null;
  if (cursor !== null && offset > 0) {
    throw new FlowTrackError(ErrorCode.BAD_REQUEST, 'give either a cursor or an offset, not both');
  }
  return {
    limit: Math.min(limit, MAX_PAGE_SIZE),
    offset,
    after: cursor === null ? null : decodeCursor(cursor),
  };
}

/**
 * Cuts the `limit + 1` rows a query fetched to `limit` and makes the cursor of the next page
 * from the last one kept (the extra row only tells that there is a next page).
 */
export function toPage<R, T>(
  rows: R[],
  limit: number,
  key: (row: R) => CursorKey,
  map: (row: R) => T,
): Page<T> {
  const kept = rows.slice(0, limit);
  const last = kept.at(-1);
  return {
    items: kept.map(map),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(key(last)) : null,
  };
}

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

export function decodeCursor(cursor: string): CursorKey {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = null;
  }
  if (
    Array.isArray(key) &&
    key.length === 2 &&
    Number.isSafeInteger(key[0]) &&
    (Number.isSafeInteger(key[1]) || typeof key[1] === 'string')
  ) {
    return [key[0] as number, key[1] as number | string];
  }
  throw new FlowTrackError(
    ErrorCode.BAD_REQUEST,
    'the page cursor is not one this server gave out: start again from the first page',
  );
}

/** `value` if it is a whole number within [min, max], else a BAD_REQUEST naming the filter. */
export function checkInteger(
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `${name} must be a whole number from ${min} to ${max}, not ${String(value)}`,
    );
  }
  return value;
}
