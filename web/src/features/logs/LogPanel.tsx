/**
 * The entries of the log shown, a page at a time, newest first. On the first page it is live by
 * default: fetched again every 2 s, new lines arriving at the top while the line being read stays
 * where it is. Paging back to older entries turns live off (those pages do not change); turning it
 * on again returns to the newest page. Mounted afresh for each view, so paging starts over when a
 * filter changes.
 */

import { useState } from 'react';
import { CursorPager, useCursorPaging, type CursorPaging } from '../../components/CursorPager';
import { QueryView } from '../../components/QueryView';
import { formatCount } from '../../lib/format';
import { LOG_COLUMNS, LOG_TITLES } from './log-rows';
import { isFiltered, type LogView } from './log-view';
import { LogTable } from './LogTable';
import { LIVE_REFRESH_MS, useLogPage } from './use-log-page';

const EMPTY_HINTS = {
  server: 'The server writes here as it starts, serves and stops.',
  security: 'Failed sign-ins, bad tokens, refused requests and bad input are recorded here.',
  audit: 'Every change made through FlowTrack, and every sign-in, is recorded here.',
} as const;

export function LogPanel({ view }: { view: LogView }) {
  const paging = useCursorPaging();
  const [liveWanted, setLiveWanted] = useState(true);
  const live = liveWanted && paging.pageNumber === 1;
  const query = useLogPage(view, paging.cursor, live);

  const pager: CursorPaging = {
    ...paging,
    older: (nextCursor) => {
      setLiveWanted(false);
      paging.older(nextCursor);
    },
  };

  return (
    <>
      <div className="log-status">
        <button
          type="button"
          className="button-quiet live-toggle"
          aria-pressed={live}
          onClick={() => {
            if (live) setLiveWanted(false);
            else {
              setLiveWanted(true);
              paging.reset();
            }
          }}
        >
          <span className="live-dot" aria-hidden="true" />
          Live
        </button>
        <span className="log-status-text">
          {live
            ? `New entries appear at the top (every ${LIVE_REFRESH_MS / 1000} s).`
            : paging.pageNumber > 1
              ? 'Older entries: Live shows the newest again.'
              : 'Paused.'}
          {query.dataUpdatedAt > 0 && (
            <>
              {' '}
              Updated{' '}
              <time dateTime={new Date(query.dataUpdatedAt).toISOString()}>{clock(query.dataUpdatedAt)}</time>
              .
            </>
          )}
        </span>
      </div>

      {view.problems.length > 0 ? (
        <div className="form-error" role="alert">
          <p className="log-problem-title">Change the filters to show this log:</p>
          <ul>
            {view.problems.map((problem) => (
              <li key={problem}>{problem}</li>
            ))}
          </ul>
        </div>
      ) : (
        <QueryView
          query={query}
          loadingLines={8}
          isEmpty={(page) => page.rows.length === 0 && paging.pageNumber === 1}
          empty={
            isFiltered(view)
              ? {
                  title: 'No entries match these filters',
                  hint: 'Widen the time range or clear the filters.',
                }
              : { title: 'No entries yet', hint: EMPTY_HINTS[view.log] }
          }
        >
          {(page) => (
            <>
              <LogTable
                label={LOG_TITLES[view.log]}
                columns={LOG_COLUMNS[view.log]}
                rows={page.rows}
                live={live}
                busy={query.isPlaceholderData}
              />
              {page.skippedLines > 0 && (
                <p className="panel-note">
                  {formatCount(page.skippedLines)} lines of the log files were not log entries (damaged or cut
                  short) and were skipped.
                </p>
              )}
              <CursorPager paging={pager} nextCursor={page.nextCursor} />
            </>
          )}
        </QueryView>
      )}
    </>
  );
}

function clock(ms: number): string {
  return new Date(ms).toLocaleTimeString();
}
