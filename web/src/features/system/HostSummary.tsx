/**
 * The host at a glance: its name, up time, load and process count from the newest sample, and the
 * FlowTrack service's own figures beside them.
 */

import { Panel } from '../../components/Panel';
import { formatBytes, formatCount, formatTimestamp } from '../../lib/format';
import { formatLoad, formatUptime } from './system-format';
import type { HostSample, SystemHealth } from './system-types';

export function HostSummary({ sample, health }: { sample: HostSample; health: SystemHealth }) {
  const [load1, load5, load15] = sample.load;
  return (
    <Panel
      title="Host"
      aside={
        <span className="panel-note system-sampled">
          Sampled <time dateTime={new Date(sample.at).toISOString()}>{formatTimestamp(sample.at)}</time>
        </span>
      }
    >
      <dl className="system-facts">
        <div>
          <dt>Host name</dt>
          <dd className="mono" data-testid="system-hostname">
            {sample.hostname}
          </dd>
        </div>
        <div>
          <dt>Up</dt>
          <dd>{formatUptime(sample.uptimeSeconds)}</dd>
        </div>
        <div>
          <dt title="Processes running or waiting for a CPU (and for disk), averaged over 1, 5 and 15 minutes">
            Load 1 / 5 / 15 min
          </dt>
          <dd>
            {formatLoad(load1)} / {formatLoad(load5)} / {formatLoad(load15)}
          </dd>
        </div>
        <div>
          <dt>Processes</dt>
          <dd>{formatCount(sample.processes.total)}</dd>
        </div>
        <div>
          <dt>FlowTrack</dt>
          <dd title={`pid ${health.process.pid}, Node.js ${health.process.node}`}>
            up {formatUptime(health.uptimeSeconds)}, {formatBytes(health.process.rssBytes)}
          </dd>
        </div>
        <div>
          <dt>Database</dt>
          <dd title={`schema version ${health.database.schemaVersion}`}>
            {health.database.dialect}, {formatBytes(health.database.sizeBytes)}
          </dd>
        </div>
      </dl>
    </Panel>
  );
}
