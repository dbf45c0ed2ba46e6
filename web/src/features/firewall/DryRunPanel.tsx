/**
 * In a dry run, what enforcement would have done: the latest changes the dry-run backend would
 * have made to the kernel, newest first, so an admin can judge the policy before enforcing it.
 */

import { formatTimestamp } from '../../lib/format';
import { Panel, PanelEmpty } from '../../components/Panel';
import { dryRunText, formatAgo } from './firewall-format';
import type { DryRunAction } from './firewall-types';

const SHOWN = 15;

export function DryRunPanel({ actions, now }: { actions: readonly DryRunAction[]; now: number }) {
  return (
    <Panel title="What enforcement would have done">
      {actions.length === 0 ? (
        <PanelEmpty title="Nothing yet">
          Each rule added, lifted or expired shows here as the change the kernel would have seen.
        </PanelEmpty>
      ) : (
        <>
          <ol className="fw-log">
            {actions.slice(0, SHOWN).map((action, i) => (
              <li key={`${action.at} ${i}`}>
                <time
                  dateTime={new Date(action.at).toISOString()}
                  title={formatTimestamp(action.at, 'minute')}
                >
                  {formatAgo(action.at, now)}
                </time>
                <span className="fw-log-text">{dryRunText(action)}</span>
              </li>
            ))}
          </ol>
          <p className="panel-note">
            The latest {Math.min(actions.length, SHOWN)} changes; nothing of this reached the kernel.
          </p>
        </>
      )}
    </Panel>
  );
}
