/**
 * Paging for the API's cursor pages ({ items, nextCursor }): the pages seen so far are a stack of
 * cursors, so "Newer" goes back exactly and "Older" asks the server for the next page.
 */

import { useState } from 'react';

export interface CursorPaging {
  /** The cursor of the page to show (undefined: the first). */
  cursor: string | undefined;
  pageNumber: number;
  older: (nextCursor: string) => void;
  newer: () => void;
  reset: () => void;
}

export function useCursorPaging(): CursorPaging {
  const [stack, setStack] = useState<string[]>([]);
  return {
    cursor: stack.at(-1),
    pageNumber: stack.length + 1,
    older: (nextCursor) => {
      setStack((s) => [...s, nextCursor]);
    },
    newer: () => {
      setStack((s) => s.slice(0, -1));
    },
    reset: () => {
      setStack([]);
    },
  };
}

export function CursorPager({ paging, nextCursor }: { paging: CursorPaging; nextCursor: string | null }) {
  return (
    <nav className="pager" aria-label="Pages">
      <button
        type="button"
        className="button-quiet"
        disabled={paging.pageNumber === 1}
        onClick={paging.newer}
      >
        ← Newer
      </button>
      <span className="pager-page">Page {paging.pageNumber}</span>
      <button
        type="button"
        className="button-quiet"
        disabled={nextCursor === null}
        onClick={() => {
          if (nextCursor !== null) paging.older(nextCursor);
        }}
      >
        Older →
      </button>
    </nav>
  );
}
