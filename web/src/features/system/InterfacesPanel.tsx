/**
 * Each network interface's traffic per second over the last interval, with its errors and drops
 * (any above zero in the warning colour: a bad cable, a full ring buffer); totals in the tooltip.
 */

import { Panel, PanelEmpty } from '../../components/Panel';
import { formatBytes, formatCount } from '../../lib/format';
import { formatByteRate, formatPerSecond } from './system-format';
import type { InterfaceSample } from './system-types';

export function InterfacesPanel({ interfaces }: { interfaces: readonly InterfaceSample[] }) {
  return (
    <Panel title="Network interfaces">
      {interfaces.length === 0 ? (
        <PanelEmpty title="No interfaces seen">The probe found no interface in /proc/net/dev.</PanelEmpty>
      ) : (
        <div className="table-scroll">
          <table className="table system-table" aria-label="Network interfaces">
            <thead>
              <tr>
                <th scope="col">Interface</th>
                <th scope="col" className="num">
                  Received
                </th>
                <th scope="col" className="num">
                  Sent
                </th>
                <th scope="col" className="num">
                  Packets in
                </th>
                <th scope="col" className="num">
                  Packets out
                </th>
                <th scope="col" className="num">
                  Errors in / out
                </th>
                <th scope="col" className="num">
                  Drops in / out
                </th>
              </tr>
            </thead>
            <tbody>
              {interfaces.map((i) => (
                <tr key={i.name}>
                  <th
                    scope="row"
                    className="mono"
                    title={`Since it came up: ${formatBytes(i.rxBytes)} received, ${formatBytes(i.txBytes)} sent`}
                  >
                    {i.name}
                  </th>
                  <td className="num">{formatByteRate(i.rxBytesPerSecond)}</td>
                  <td className="num">{formatByteRate(i.txBytesPerSecond)}</td>
                  <td className="num">{formatPerSecond(i.rxPacketsPerSecond)}</td>
                  <td className="num">{formatPerSecond(i.txPacketsPerSecond)}</td>
                  <td
                    className={i.rxErrorsPerSecond + i.txErrorsPerSecond > 0 ? 'num system-warn' : 'num'}
                    title={`Since it came up: ${formatCount(i.rxErrors)} in, ${formatCount(i.txErrors)} out`}
                  >
                    {formatPerSecond(i.rxErrorsPerSecond)} / {formatPerSecond(i.txErrorsPerSecond)}
                  </td>
                  <td
                    className={i.rxDropsPerSecond + i.txDropsPerSecond > 0 ? 'num system-warn' : 'num'}
                    title={`Since it came up: ${formatCount(i.rxDrops)} in, ${formatCount(i.txDrops)} out`}
                  >
                    {formatPerSecond(i.rxDropsPerSecond)} / {formatPerSecond(i.txDropsPerSecond)}
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
