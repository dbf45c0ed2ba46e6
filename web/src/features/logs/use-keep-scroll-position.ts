/**
 * Keeps the line a reader is looking at where it is on screen when a live refresh adds lines above
 * it: the first visible row is remembered (on scroll and after each change), and after the rows
 * change the window scrolls by however far that row moved. A reader at the top of the table is
 * left there, so new lines come into view. Browsers' own scroll anchoring would do the same on
 * some engines and not others, so the page turns it off (logs.css) and this does it everywhere.
 */

import { useEffect, useLayoutEffect, useRef, type RefObject } from 'react';

interface Anchor {
  key: string;
  /** Its top edge relative to the viewport. */
  top: number;
  /** Whether it was the first row: the reader is at the top of the table. */
  first: boolean;
}

function firstVisibleRow(body: HTMLElement): Anchor | null {
  const rows = body.querySelectorAll<HTMLElement>('tr[data-key]');
  for (const [index, row] of Array.from(rows).entries()) {
    const box = row.getBoundingClientRect();
    if (box.bottom > 0) return { key: row.dataset.key ?? '', top: box.top, first: index === 0 };
  }
  return null;
}

/** `body`: the table's <tbody>, whose rows carry `data-key`; `rows`: changes when the rows do. */
export function useKeepScrollPosition(body: RefObject<HTMLElement | null>, rows: unknown): void {
  const anchor = useRef<Anchor | null>(null);

  useLayoutEffect(() => {
    const element = body.current;
    if (element === null) return;
    const saved = anchor.current;
    if (saved !== null && !saved.first) {
      const row = Array.from(element.querySelectorAll<HTMLElement>('tr[data-key]')).find(
        (r) => r.dataset.key === saved.key,
      );
      if (row !== undefined) {
        const moved = row.getBoundingClientRect().top - saved.top;
        if (Math.abs(moved) >= 1) window.scrollBy(0, moved);
      }
    }
    anchor.current = firstVisibleRow(element);
  }, [body, rows]);

  useEffect(() => {
    const remember = (): void => {
      if (body.current !== null) anchor.current = firstVisibleRow(body.current);
    };
    window.addEventListener('scroll', remember, { passive: true });
    window.addEventListener('resize', remember, { passive: true });
    return () => {
      window.removeEventListener('scroll', remember);
      window.removeEventListener('resize', remember);
    };
  }, [body]);
}
