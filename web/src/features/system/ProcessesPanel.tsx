/** The busiest processes of the host: the ten using the most CPU and the ten holding the most memory. */

import { Panel, PanelEmpty } from '../../components/Panel';
import { formatBytes } from '../../lib/format';
import { formatPercent } from './system-format';
import type { ProcessSample } from './system-types';

export function ProcessesPanel({
  topCpu,
  topMemory,
}: {
  topCpu: readonly ProcessSample[];
  topMemory: readonly ProcessSample[];
}) {
  return (
    <Panel title="Top processes">
      {topCpu.length === 0 && topMemory.length === 0 ? (
        <PanelEmpty title="No processes seen">The probe could not read /proc of any process.</PanelEmpty>
      ) : (
        <div className="system-pair">
          <ProcessTable title="By CPU" processes={topCpu} />
          <ProcessTable title="By memory" processes={topMemory} />
        </div>
      )}
      <p className="panel-note">CPU is the share of one core: a process busy on two cores shows 200%.</p>
    </Panel>
  );
}

function ProcessTable({ title, processes }: { title: string; processes: readonly ProcessSample[] }) {
  return (
    <div className="table-scroll">
      <table className="table system-table" aria-label={`Top processes ${title.toLowerCase()}`}>
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col" className="num">
              PID
            </th>
            <th scope="col">Name</th>
            <th scope="col">User</th>
            <th scope="col" className="num">
              CPU
            </th>
            <th scope="col" className="num">
              RSS
            </th>
          </tr>
        </thead>
        <tbody>
          {processes.map((p) => (
            <tr key={p.pid}>
              <td className="num">{p.pid}</td>
              <td className="mono">{p.name}</td>
              <td>{p.user}</td>
              <td className="num">{formatPercent(p.cpuPercent)}</td>
              <td className="num" title={`${formatPercent(p.memoryPercent)} of memory`}>
                {formatBytes(p.rssBytes)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
