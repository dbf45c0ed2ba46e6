/**
 * /sensors: where flows come from besides this host. At the top, what takes them: the hub's side
 * of the bus (FlowTrack sensors send over NATS JetStream) and the NetFlow/IPFIX collector (routers
 * export to it), each with its counts or how to switch it on. Below, every sensor and exporter the
 * server has heard from: in contact or silent and since when, its buffer and drops, its capture
 * interfaces or its counts, and a link to its flows. Refreshed every 5 s. Names and reports come
 * from other hosts and are shown as text only.
 */

import './sensors.css';
import type { UseQueryResult } from '@tanstack/react-query';
import type { SensorsView } from '../../api/api-types';
import { Panel, PanelEmpty, PanelError, PanelLoading, StaleBadge } from '../../components/Panel';
import { useNow } from '../../lib/use-now';
import { CollectorPanel } from './CollectorPanel';
import { HubPanel } from './HubPanel';
import { SensorsTable } from './SensorsTable';
import { useSensors } from './use-sensors';

/** How often the list and the page's clock move on: a sensor reports every 5 s. */
const REFRESH_MS = 5000;

export function SensorsPage() {
  const sensors = useSensors(REFRESH_MS);
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Sensors</h1>
        {sensors.data && sensors.isError && <StaleBadge why={sensors.error.message} />}
      </header>
      <SensorsBody sensors={sensors} />
    </div>
  );
}

function SensorsBody({ sensors }: { sensors: UseQueryResult<SensorsView> }) {
  const now = useNow(REFRESH_MS);
  if (sensors.data === undefined) {
    return (
      <Panel title="Sensors and exporters">
        {sensors.isError ? (
          <PanelError message={sensors.error.message} onRetry={() => void sensors.refetch()} />
        ) : (
          <PanelLoading lines={5} />
        )}
      </Panel>
    );
  }
  const { hub, collector } = sensors.data;
  // A server of another version may leave a part out: read as "none" rather than failing.
  const rows = Array.isArray(sensors.data.sensors) ? sensors.data.sensors : [];
  return (
    <>
      <div className="sensor-intake">
        <HubPanel hub={hub ?? null} />
        <CollectorPanel collector={collector ?? null} />
      </div>
      <Panel title="Sensors and exporters">
        {rows.length === 0 ? (
          <PanelEmpty title="No sensor or exporter has been heard from yet">
            Start a sensor with <code>flowtrack sensor --hub nats://THIS-HUB:4222</code> on each host that
            should capture
            {hub === null ? ' (this server must be the hub: flowtrack serve --bus nats://…)' : ''}, or point a
            router&rsquo;s NetFlow/IPFIX export at{' '}
            {collector ? <code>{collector.listen}</code> : 'the collector (collector.enabled)'}.
          </PanelEmpty>
        ) : (
          <SensorsTable rows={rows} now={now} />
        )}
      </Panel>
    </>
  );
}
