/**
 * The busiest TCP and UDP services of the window (from the port rollups: each flow counted under
 * its server's port, in the minute of its last packet), each opening its flows. Looks like the
 * top talkers beside it; never guesses a service name beyond service-names.ts' short list.
 */

import { queryString } from '../../api/queries';
import { Panel, PanelEmpty } from '../../components/Panel';
import { formatBytes, formatCount } from '../../lib/format';
import { Link } from '../../lib/router';
import { serviceName } from './service-names';

export interface PortRow {
  protocol: string;
  port: number;
  packets: number;
  bytes: number;
  flows: number;
}

export function TopPortsPanel({ rows }: { rows: readonly PortRow[] | null }) {
  const most = Math.max(1, ...(rows ?? []).map((r) => r.bytes));
  return (
    <Panel title="Top ports">
      {rows === null || rows.length === 0 ? (
        <PanelEmpty title={rows === null ? 'Waiting for traffic' : 'No TCP or UDP traffic in this range'}>
          The services (server ports) with the most bytes show up here.
        </PanelEmpty>
      ) : (
        <div className="table-scroll">
          {/* `talkers` for the share bar under each row: the same look as the top talkers. */}
          <table className="table talkers" aria-label="Top ports">
            <thead>
              <tr>
                <th scope="col">Port</th>
                <th scope="col" className="num">
                  Bytes
                </th>
                <th scope="col" className="num">
                  Flows
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((row) => {
                const service = serviceName(row.protocol, row.port);
                return (
                  <tr key={`${row.protocol}/${row.port}`}>
                    <td className="mono">
                      <Link
                        to={`/flows${queryString({ port: row.port, protocol: row.protocol })}`}
                        title={`The flows on ${row.protocol} port ${row.port}`}
                      >
                        {row.port}/{row.protocol}
                      </Link>
                      {service !== null && (
                        <>
                          {' '}
                          <span className="tag tag-muted">{service}</span>
                        </>
                      )}
                      <svg
                        className="share"
                        viewBox="0 0 100 4"
                        preserveAspectRatio="none"
                        aria-hidden="true"
                      >
                        <rect width={(100 * row.bytes) / most} height="4" rx="2" />
                      </svg>
                    </td>
                    <td className="num" title={`${formatCount(row.packets)} packets`}>
                      {formatBytes(row.bytes)}
                    </td>
                    <td className="num">{formatCount(row.flows)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </Panel>
  );
}
