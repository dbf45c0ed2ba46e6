/**
 * /system: the health of the host FlowTrack runs on. The newest sample (from the live feed's
 * `health` events as they come, else /api/system_health at the probe's pace): host, CPU, memory,
 * file systems, disks, interfaces and the busiest processes, with the resource rules raised now as
 * a banner. Then the same over a range (charts), and for analysts the host's sockets and their
 * processes.
 */

import './system.css';
import type { UseQueryResult } from '@tanstack/react-query';
import { Panel, PanelEmpty, PanelError, PanelLoading, StaleBadge } from '../../components/Panel';
import { Link } from '../../lib/router';
import { CpuPanel } from './CpuPanel';
import { DisksPanel } from './DisksPanel';
import { FileSystemsPanel } from './FileSystemsPanel';
import { HealthChartsPanel } from './HealthChartsPanel';
import { HostSummary } from './HostSummary';
import { InterfacesPanel } from './InterfacesPanel';
import { MemoryPanel } from './MemoryPanel';
import { ProcessesPanel } from './ProcessesPanel';
import { SocketsPanel } from './SocketsPanel';
import { newestSample, resourceAlertText } from './system-format';
import type { HostSample, SystemHealth } from './system-types';
import { useHealthStream, type HealthStream } from './use-health-stream';
import { useSystemHealth } from './use-system';

export function SystemPage() {
  const stream = useHealthStream();
  const health = useSystemHealth(stream.status === 'open');
  const sample = newestSample(health.data?.host ?? null, stream.sample);
  return (
    <div className="stack system" data-testid="system-page">
      <header className="page-header">
        <h1>System</h1>
        <div className="system-header-badges">
          {health.data && health.isError && <StaleBadge why={health.error.message} />}
          {health.data?.intervalSeconds !== null && <LinkBadge stream={stream} />}
        </div>
      </header>
      <SystemBody health={health} sample={sample} />
    </div>
  );
}

function SystemBody({ health, sample }: { health: UseQueryResult<SystemHealth>; sample: HostSample | null }) {
  if (health.data === undefined) {
    return (
      <Panel title="Host">
        {health.isError ? (
          <PanelError message={health.error.message} onRetry={() => void health.refetch()} />
        ) : (
          <PanelLoading lines={4} />
        )}
      </Panel>
    );
  }
  const data = health.data;
  if (data.intervalSeconds === null && sample === null) {
    return (
      <Panel title="Host">
        <PanelEmpty title="This server does not watch its host">
          It runs with <code>system.enabled: false</code>, so there are no CPU, memory, disk or socket figures
          to show. Set it to true in the configuration and restart <code>flowtrack serve</code>.
        </PanelEmpty>
      </Panel>
    );
  }
  return (
    <>
      <ResourceBanner raised={data.resourceAlerts} />
      {sample === null ? (
        <Panel title="Host">
          <PanelEmpty title="No sample yet">
            The host is sampled every {data.intervalSeconds ?? '–'} s; its figures show here with the first
            sample.
          </PanelEmpty>
        </Panel>
      ) : (
        <>
          <HostSummary sample={sample} health={data} />
          <div className="system-pair">
            <CpuPanel cpu={sample.cpu} firstSample={sample.intervalSeconds === 0} />
            <MemoryPanel memory={sample.memory} />
          </div>
          <FileSystemsPanel fileSystems={sample.fileSystems} />
          <InterfacesPanel interfaces={sample.interfaces} />
          <DisksPanel disks={sample.disks} />
          <ProcessesPanel topCpu={sample.processes.topCpu} topMemory={sample.processes.topMemory} />
        </>
      )}
      <HealthChartsPanel />
      <SocketsPanel />
    </>
  );
}

/** The resource rules raised now, with the way to their alerts. */
function ResourceBanner({ raised }: { raised: readonly string[] }) {
  if (raised.length === 0) return null;
  return (
    <div className="system-banner" role="alert">
      <strong>Resource limits reached:</strong> {raised.map(resourceAlertText).join('; ')}.{' '}
      <Link to="/alerts?type=resource&status=open">See the alerts</Link>
    </div>
  );
}

function LinkBadge({ stream }: { stream: HealthStream }) {
  const text =
    stream.status === 'open' ? 'Live' : stream.status === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <span
      className={`badge link-${stream.status}`}
      title={stream.problem ?? 'New figures arrive with each sample of the host'}
    >
      {text}
    </span>
  );
}
