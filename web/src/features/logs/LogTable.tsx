/**
 * A log as a table, newest first: one row per entry, its cells as plain text (never HTML: the text
 * comes from whoever reached the server), and a button per row that shows the entry's details
 * (all fields, or the audit event's before and after) as preformatted JSON text.
 */

import { Fragment, useId, useRef, useState } from 'react';
import { formatLogTime, freshKeys, type LogRow } from './log-rows';
import { useKeepScrollPosition } from './use-keep-scroll-position';

export function LogTable({
  label,
  columns,
  rows,
  live,
  busy,
}: {
  /** The table's accessible name ("Server log"). */
  label: string;
  /** Headers after "Time". */
  columns: readonly string[];
  rows: readonly LogRow[];
  /** Lines a live refresh brings in are marked for a moment. */
  live: boolean;
  /** The next page or a changed filter is loading; the rows shown are the previous ones. */
  busy: boolean;
}) {
  const idPrefix = useId();
  const body = useRef<HTMLTableSectionElement>(null);
  const [open, setOpen] = useState<ReadonlySet<string>>(() => new Set());
  // The rows of the last render, to mark what a live refresh added (state, not a ref: it is
  // read while rendering).
  const [shown, setShown] = useState({ rows, fresh: new Set<string>() });
  if (shown.rows !== rows) setShown({ rows, fresh: live ? freshKeys(shown.rows, rows) : new Set() });
  useKeepScrollPosition(body, rows);

  const toggle = (key: string): void => {
    setOpen((current) => {
      const next = new Set(current);
      if (!next.delete(key)) next.add(key);
      return next;
    });
  };

  return (
    <div className="table-scroll">
      <table className="table log-table" aria-label={label} aria-busy={busy}>
        <thead>
          <tr>
            <th scope="col">Time</th>
            {columns.map((column) => (
              <th key={column} scope="col">
                {column}
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody ref={body}>
          {rows.map((row, index) => {
            const detailId = `${idPrefix}-detail-${index}`;
            const expanded = open.has(row.key);
            const time = formatLogTime(row.timeMs);
            return (
              <Fragment key={row.key}>
                <tr data-key={row.key} className={shown.fresh.has(row.key) ? 'log-row-new' : undefined}>
                  <td className="mono log-time">
                    <time
                      dateTime={Number.isFinite(row.timeMs) ? new Date(row.timeMs).toISOString() : undefined}
                    >
                      {time}
                    </time>
                  </td>
                  {row.cells.map((cell, i) => (
                    <td
                      key={columns[i] ?? i}
                      className={[cell.mono && 'mono', cell.wide ? 'log-wide' : 'log-cell']
                        .filter(Boolean)
                        .join(' ')}
                    >
                      {cell.tag === undefined ? (
                        cell.text
                      ) : (
                        <span className={`tag ${cell.tag}`}>{cell.text}</span>
                      )}
                    </td>
                  ))}
                  <td className="log-expand">
                    {row.details.length > 0 && (
                      <button
                        type="button"
                        className="button-quiet"
                        aria-expanded={expanded}
                        aria-controls={detailId}
                        onClick={() => {
                          toggle(row.key);
                        }}
                      >
                        {expanded ? 'Hide' : row.detailLabel}
                        <span className="visually-hidden"> of the entry at {time}</span>
                      </button>
                    )}
                  </td>
                </tr>
                {row.details.length > 0 && (
                  <tr id={detailId} className="log-detail" hidden={!expanded}>
                    {expanded && (
                      <td colSpan={columns.length + 2}>
                        <div className="log-detail-parts">
                          {row.details.map((detail) => (
                            <section key={detail.title} aria-label={detail.title}>
                              <h3>{detail.title}</h3>
                              <pre className="mono">{detail.text}</pre>
                            </section>
                          ))}
                        </div>
                      </td>
                    )}
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
