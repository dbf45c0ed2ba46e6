/**
 * The Logs page's tabs (WAI-ARIA tabs with automatic activation): one button per log; the chosen
 * one is the only tab in the Tab order, and arrow keys, Home and End move between them.
 */

import { useRef, type KeyboardEvent } from 'react';
import { LOG_TITLES, tabAfterKey } from './log-rows';
import { LOGS, type LogName } from './log-types';

/** The ids that tie each tab to the panel it controls. */
export function tabId(log: LogName): string {
  return `logs-tab-${log}`;
}

export function panelId(log: LogName): string {
  return `logs-panel-${log}`;
}

export function LogTabs({ current, onSelect }: { current: LogName; onSelect: (log: LogName) => void }) {
  const buttons = useRef<(HTMLButtonElement | null)[]>([]);
  const onKeyDown = (event: KeyboardEvent<HTMLButtonElement>, index: number): void => {
    const next = tabAfterKey(index, event.key, LOGS.length);
    const log = next === null ? undefined : LOGS[next];
    if (next === null || log === undefined) return;
    event.preventDefault();
    onSelect(log);
    buttons.current[next]?.focus();
  };
  return (
    <div className="log-tabs" role="tablist" aria-label="Logs">
      {LOGS.map((log, index) => {
        const selected = log === current;
        return (
          <button
            key={log}
            ref={(element) => {
              buttons.current[index] = element;
            }}
            type="button"
            role="tab"
            id={tabId(log)}
            aria-selected={selected}
            // Only the chosen log's panel exists.
            aria-controls={selected ? panelId(log) : undefined}
            tabIndex={selected ? 0 : -1}
            className="log-tab"
            onClick={() => {
              onSelect(log);
            }}
            onKeyDown={(event) => {
              onKeyDown(event, index);
            }}
          >
            {LOG_TITLES[log]}
          </button>
        );
      })}
    </div>
  );
}
