/** The hub's side of the bus: where it takes sensors' flows from, whether it is connected, its counts. */

import type { HubState } from '../../api/api-types';
import { Panel, PanelEmpty } from '../../components/Panel';
import { formatCount } from '../../lib/format';

export function HubPanel({ hub }: { hub: HubState | null }) {
  return (
    <Panel
      title="Hub"
      aside={
        hub && (
          <span className={`badge ${hub.connected ? 'link-open' : 'badge-warn'}`}>
            {hub.connected ? 'connected' : 'not connected'}
          </span>
        )
      }
    >
      {hub === null ? (
        <PanelEmpty title="This server is not a hub (start it with --bus nats://...)">
          As a hub, it stores the flows and alerts that <code>flowtrack sensor</code> hosts send over NATS
          JetStream (<code>bus.url</code> in the configuration).
        </PanelEmpty>
      ) : (
        <>
          <p className="sensor-where">
            {hub.connected ? 'Connected to ' : 'Not connected to '}
            <code>{hub.url}</code>
            {!hub.connected && ': sensors keep their flows on disk until it is back.'}
          </p>
          <dl className="sensor-counts">
            <Count label="Batches stored" value={hub.batches} />
            <Count
              label="Duplicates skipped"
              value={hub.duplicates}
              title="Batches delivered again by the bus and stored only once"
            />
            <Count label="Flows received" value={hub.flows} />
            <Count label="Alerts received" value={hub.alerts} />
          </dl>
          <p className="panel-note">Counted since this server started.</p>
        </>
      )}
    </Panel>
  );
}

/** A count with its label; "–" for a count the server left out. */
export function Count({
  label,
  value,
  title,
  warnAbove,
}: {
  label: string;
  value: number | undefined;
  title?: string;
  /** Shown as a warning when the count is above it. */
  warnAbove?: number;
}) {
  const known = typeof value === 'number' && Number.isFinite(value);
  const warn = known && warnAbove !== undefined && value > warnAbove;
  return (
    <div className="sensor-count" {...(title !== undefined && { title })}>
      <dt>{label}</dt>
      <dd className={warn ? 'sensor-warn' : undefined}>{known ? formatCount(value) : '–'}</dd>
    </div>
  );
}
