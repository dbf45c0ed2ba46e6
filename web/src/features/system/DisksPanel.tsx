/** Each whole disk's reads and writes per second over the last interval, and how busy it was. */

import { Panel, PanelEmpty } from '../../components/Panel';
import { formatByteRate, formatPercent, formatPerSecond, isNearFull } from './system-format';
import type { DiskIoSample } from './system-types';

export function DisksPanel({ disks }: { disks: readonly DiskIoSample[] }) {
  return (
    <Panel title="Disk I/O">
      {disks.length === 0 ? (
        <PanelEmpty title="No disks seen">The probe found no disk in /proc/diskstats.</PanelEmpty>
      ) : (
        <div className="table-scroll">
          <table className="table system-table" aria-label="Disk I/O">
            <thead>
              <tr>
                <th scope="col">Disk</th>
                <th scope="col" className="num">
                  Read
                </th>
                <th scope="col" className="num">
                  Write
                </th>
                <th scope="col" className="num">
                  Reads
                </th>
                <th scope="col" className="num">
                  Writes
                </th>
                <th scope="col" className="num" title="Share of the interval the disk was busy">
                  Busy
                </th>
              </tr>
            </thead>
            <tbody>
              {disks.map((d) => (
                <tr key={d.device}>
                  <th scope="row" className="mono">
                    {d.device}
                  </th>
                  <td className="num">{formatByteRate(d.readBytesPerSecond)}</td>
                  <td className="num">{formatByteRate(d.writeBytesPerSecond)}</td>
                  <td className="num">{formatPerSecond(d.readsPerSecond)}</td>
                  <td className="num">{formatPerSecond(d.writesPerSecond)}</td>
                  <td className={isNearFull(d.busyPercent) ? 'num system-warn' : 'num'}>
                    {formatPercent(d.busyPercent)}
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
