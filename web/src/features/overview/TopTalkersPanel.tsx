/** The busiest hosts: over the live minute (from the stream) or over the window (from the rollups). */

import { Panel, PanelEmpty } from '../../components/Panel';
import { formatBitRate, formatBytes, formatCount } from '../../lib/format';
import { Link } from '../../lib/router';

export interface TalkerRow {
  address: string;
  bytes: number;
  packets: number;
}

export function TopTalkersPanel({ rows, live }: { rows: readonly TalkerRow[] | null; live: boolean }) {
  const most = Math.max(1, ...(rows ?? []).map((r) => r.bytes));
  return (
    <Panel title="Top talkers">
      {rows === null || rows.length === 0 ? (
        <PanelEmpty title={rows === null ? 'Waiting for traffic' : 'No traffic in this range'}>
          Hosts that send and receive the most bytes show up here.
        </PanelEmpty>
      ) : (
        <div className="table-scroll">
          <table className="table talkers" aria-label="Top talkers">
            <thead>
              <tr>
                <th scope="col">Host</th>
                <th scope="col" className="num">
                  {live ? 'Bytes in the last minute' : 'Bytes'}
                </th>
                <th scope="col" className="num">
                  Packets
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => (
                <tr key={row.address}>
                  <td className="mono">
                    <Link to={`/hosts/${encodeURIComponent(row.address)}`}>{row.address}</Link>
                    <svg className="share" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
                      <rect width={(100 * row.bytes) / most} height="4" rx="2" />
                    </svg>
                  </td>
                  <td
                    className="num"
                    title={live ? `${formatBitRate(row.bytes / 60)} on average` : undefined}
                  >
                    {formatBytes(row.bytes)}
                  </td>
                  <td className="num">{formatCount(row.packets)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
