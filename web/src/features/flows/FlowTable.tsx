/**
 * The flow list: one page of GET /api/flows for the page's filters and sort, with cursor paging.
 * The sortable headers are buttons (keyboard and screen readers reach them) and their <th>
 * carries aria-sort. The caller remounts it when the filters or sort change, which starts the
 * paging again from the first page. A Sensor column shows where each flow came from once any
 * sensor or exporter exists (a server on its own has only its own flows).
 */

import { useApiQuery } from '../../api/queries';
import { CursorPager, useCursorPaging } from '../../components/CursorPager';
import { QueryView } from '../../components/QueryView';
import { formatBytes, formatCount, formatProcess } from '../../lib/format';
import { Link } from '../../lib/router';
import { ariaSort, flowsApiPath, type FlowView } from './flow-filters';
import { formatDuration, formatTime, hasPorts, hostPath, isoTime } from './flow-format';
import type { Flow, FlowPage, FlowSort } from './flow-types';
import { SensorSource } from '../sensors/SensorSource';
import { useAnySensor } from '../sensors/use-sensors';

const SORT_TITLES: Record<FlowSort, string> = {
  time: 'Sort by when the flow ended (its last packet)',
  bytes: 'Sort by bytes, both directions',
  packets: 'Sort by packets, both directions',
  duration: 'Sort by how long the flow lasted',
};

export function FlowTable({ view, onSort }: { view: FlowView; onSort: (column: FlowSort) => void }) {
  const paging = useCursorPaging();
  const flows = useApiQuery<FlowPage>(flowsApiPath(view, paging.cursor));
  const anySensor = useAnySensor();
  const filtered = Object.keys(view.filters).length > 0;
  const header = (column: FlowSort, label: string, numeric = false) => {
    const sorted = ariaSort(view, column);
    return (
      <th scope="col" aria-sort={sorted} className={numeric ? 'num' : undefined}>
        <button
          type="button"
          className="sort-button"
          title={SORT_TITLES[column]}
          onClick={() => onSort(column)}
        >
          {label}
          <span className="sort-mark" aria-hidden="true">
            {sorted === 'ascending' ? '▲' : sorted === 'descending' ? '▼' : '↕'}
          </span>
        </button>
      </th>
    );
  };
  return (
    <QueryView
      query={flows}
      loadingLines={8}
      isEmpty={(page) => page.items.length === 0 && paging.pageNumber === 1}
      empty={{
        title: filtered ? 'No flows match these filters' : 'No flows stored yet',
        hint: filtered
          ? 'Widen the time range or clear a filter. Flows are stored when they end, so a connection still open is not listed yet.'
          : 'Flows appear here as they end, once capture is running.',
      }}
    >
      {(page) => {
        const showSensor = anySensor || page.items.some((flow) => flow.sensor != null);
        return (
          <>
            <div className="table-scroll">
              <table className="table flow-table" aria-label="Flows">
                <thead>
                  <tr>
                    {header('time', 'Start → end')}
                    <th scope="col">Source</th>
                    <th scope="col">Destination</th>
                    <th scope="col">Protocol</th>
                    {header('packets', 'Packets', true)}
                    {header('bytes', 'Bytes', true)}
                    {header('duration', 'Duration', true)}
                    <th scope="col">State</th>
                    <th scope="col" title="The process on this host that made or accepted the flow">
                      Process
                    </th>
                    {showSensor && (
                      <th scope="col" title="The sensor or exporter the flow came from">
                        Sensor
                      </th>
                    )}
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((flow) => (
                    <FlowRow key={flow.id} flow={flow} showSensor={showSensor} />
                  ))}
                </tbody>
              </table>
            </div>
            {page.items.length === 0 && <p className="panel-note">No more flows.</p>}
            <CursorPager paging={paging} nextCursor={page.nextCursor} />
          </>
        );
      }}
    </QueryView>
  );
}

function FlowRow({ flow, showSensor }: { flow: Flow; showSensor: boolean }) {
  const packets = flow.packetsToServer + flow.packetsToClient;
  const bytes = flow.bytesToServer + flow.bytesToClient;
  return (
    <tr>
      <td className="mono nowrap">
        <time dateTime={isoTime(flow.firstSeenUs)}>{formatTime(flow.firstSeenUs)}</time>
        <span className="muted">
          {' → '}
          <time dateTime={isoTime(flow.lastSeenUs)} title={`Last packet ${formatTime(flow.lastSeenUs)}`}>
            {endClock(flow.firstSeenUs, flow.lastSeenUs)}
          </time>
        </span>
      </td>
      <td className="mono nowrap">
        <Endpoint address={flow.srcAddr} port={flow.srcPort} protocol={flow.protocol} />
      </td>
      <td className="mono nowrap">
        <Endpoint address={flow.dstAddr} port={flow.dstPort} protocol={flow.protocol} />
      </td>
      <td>{flow.protocol}</td>
      <td
        className="num"
        title={`${formatCount(flow.packetsToServer)} to the server, ${formatCount(flow.packetsToClient)} back`}
      >
        {formatCount(packets)}
      </td>
      <td
        className="num"
        title={`${formatCount(flow.bytesToServer)} B to the server, ${formatCount(flow.bytesToClient)} B back`}
      >
        {formatBytes(bytes)}
      </td>
      <td className="num nowrap">{formatDuration(flow.lastSeenUs - flow.firstSeenUs)}</td>
      <td>
        <span className={`tag ${stateTag(flow.state)}`} title={`Ended: ${flow.endReason}`}>
          {flow.state}
        </span>
      </td>
      <td className="mono nowrap">{flow.process ? formatProcess(flow.process) : ''}</td>
      {showSensor && (
        <td className="nowrap">
          <SensorSource sensor={flow.sensor} />
        </td>
      )}
    </tr>
  );
}

/** An address linked to its host page, with its port where the protocol has ports. */
function Endpoint({ address, port, protocol }: { address: string; port: number; protocol: string }) {
  const link = <Link to={hostPath(address)}>{address}</Link>;
  if (!hasPorts(protocol)) return link;
  // Brackets around an IPv6 address keep its colons apart from the port's (RFC 3986).
  return address.includes(':') ? (
    <>
      [{link}]:{port}
    </>
  ) : (
    <>
      {link}:{port}
    </>
  );
}

/** The tag colour of a flow state: refused and half-open ones stand out. */
function stateTag(state: string): string {
  switch (state) {
    case 'rejected':
    case 'closed-rst':
      return 'tag-high';
    case 'attempted':
      return 'tag-medium';
    case 'established':
    case 'closed-fin':
      return 'tag-ok';
    default:
      return 'tag-muted';
  }
}

/** The end of a flow as a clock time, with its date only when that differs from the start's. */
function endClock(firstUs: number, lastUs: number): string {
  const [startDay = ''] = formatTime(firstUs).split(' ');
  const [endDay = '', clock = ''] = formatTime(lastUs).split(' ');
  return endDay === startDay ? clock : `${endDay} ${clock}`;
}
