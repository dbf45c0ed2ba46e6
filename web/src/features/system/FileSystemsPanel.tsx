/** The mounted file systems, as `df -h` lists them, fullest first; 90% and over in the warning colour. */

import { Panel, PanelEmpty } from '../../components/Panel';
import { formatBytes } from '../../lib/format';
import { formatPercent, isNearFull } from './system-format';
import type { FileSystemSample } from './system-types';
import { UsageBar } from './UsageBar';

export function FileSystemsPanel({ fileSystems }: { fileSystems: readonly FileSystemSample[] }) {
  const rows = [...fileSystems].sort((a, b) => b.percent - a.percent || a.mount.localeCompare(b.mount));
  return (
    <Panel title="File systems">
      {rows.length === 0 ? (
        <PanelEmpty title="No file systems seen">
          The probe found no mounted block device or tmpfs it could read.
        </PanelEmpty>
      ) : (
        <div className="table-scroll">
          <table className="table system-table" aria-label="File systems" data-testid="system-filesystems">
            <thead>
              <tr>
                <th scope="col">Mount</th>
                <th scope="col">Device</th>
                <th scope="col">Type</th>
                <th scope="col" className="num">
                  Size
                </th>
                <th scope="col" className="num">
                  Used
                </th>
                <th scope="col" className="num">
                  Avail
                </th>
                <th scope="col" className="system-use-col">
                  Use
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((fs) => (
                <tr key={fs.mount} className={isNearFull(fs.percent) ? 'system-row-warn' : undefined}>
                  <th scope="row" className="mono">
                    {fs.mount}
                  </th>
                  <td className="mono">{fs.device}</td>
                  <td>{fs.type}</td>
                  <td className="num">{formatBytes(fs.sizeBytes)}</td>
                  <td className="num">{formatBytes(fs.usedBytes)}</td>
                  <td className="num">{formatBytes(fs.availableBytes)}</td>
                  <td className="system-use" title={`Inodes ${formatPercent(fs.inodesPercent)} used`}>
                    <span className="system-use-text">{formatPercent(fs.percent)}</span>
                    <UsageBar percent={fs.percent} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
