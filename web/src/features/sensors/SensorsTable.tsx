/**
 * The table of sensors and exporters: each name links to its flows; contact is a badge ("in
 * contact", "silent for 3 min"); times are relative with the absolute one beside; a sensor shows
 * its buffer, drops and capture interfaces, an exporter its counts, from its latest report.
 */

import type { SensorRow } from '../../api/api-types';
import { formatBitRate, formatBytes, formatCount, formatSi } from '../../lib/format';
import { Link } from '../../lib/router';
import { contactText, kindText, whenText } from './sensor-format';
import { sensorFlowsPath } from './sensor-filter';
import {
  interfacesLeftOut,
  readExporterCounts,
  readSensorHealth,
  type InterfaceHealth,
  type SensorHealthView,
} from './sensor-health';

export function SensorsTable({ rows, now }: { rows: readonly SensorRow[]; now: number }) {
  return (
    <div className="table-scroll">
      <table className="table sensor-table" aria-label="Sensors">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Contact</th>
            <th scope="col">Last contact</th>
            <th scope="col">First seen</th>
            <th
              scope="col"
              className="num"
              title="Messages kept on the sensor's disk until the hub takes them"
            >
              Buffered
            </th>
            <th scope="col" className="num" title="Messages the sensor's full buffer had to let go">
              Dropped
            </th>
            <th scope="col">Interfaces or counts</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <SensorTableRow key={row.name} row={row} now={now} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SensorTableRow({ row, now }: { row: SensorRow; now: number }) {
  const contact = contactText(row, now);
  const last = whenText(row.lastContactMs, now);
  const first = whenText(row.firstSeenMs, now);
  const health = row.kind === 'sensor' ? readSensorHealth(row.health) : null;
  return (
    <tr>
      <th scope="row" className="sensor-name">
        <Link to={sensorFlowsPath(row.name)} title={`The flows from ${row.name}`}>
          {row.name}
        </Link>
        {health && (health.hostname !== undefined || health.version !== undefined) && (
          <span className="sensor-sub">
            {[health.hostname, health.version === undefined ? undefined : `v${health.version}`]
              .filter((part) => part !== undefined)
              .join(' · ')}
          </span>
        )}
      </th>
      <td>{kindText(row.kind)}</td>
      <td>
        <span className={`tag ${contact.inContact ? 'tag-ok' : 'tag-medium'}`} title={contact.title}>
          {contact.badge}
        </span>
      </td>
      <td className="sensor-time">
        {last.relative}
        <time className="sensor-sub" dateTime={isoTime(row.lastContactMs)}>
          {last.absolute}
        </time>
      </td>
      <td className="sensor-time">
        <time dateTime={isoTime(row.firstSeenMs)} title={first.relative}>
          {first.absolute}
        </time>
      </td>
      {row.kind === 'sensor' ? <BufferCells health={health} /> : <NoBufferCells />}
      <td>
        {row.kind === 'sensor' ? (
          <Interfaces health={health} leftOut={interfacesLeftOut(row.health)} />
        ) : (
          <ExporterCounts health={row.health} />
        )}
      </td>
    </tr>
  );
}

function BufferCells({ health }: { health: SensorHealthView | null }) {
  const dropped = health?.droppedMessages;
  return (
    <>
      <td
        className="num"
        {...(health?.bufferedBytes !== undefined && { title: formatBytes(health.bufferedBytes) })}
      >
        {health?.bufferedMessages === undefined ? '–' : formatCount(health.bufferedMessages)}
      </td>
      <td className={dropped !== undefined && dropped > 0 ? 'num sensor-warn' : 'num'}>
        {dropped === undefined ? '–' : formatCount(dropped)}
      </td>
    </>
  );
}

/** An exporter sends over UDP as it goes: it keeps no buffer the hub could see. */
function NoBufferCells() {
  return (
    <>
      <td className="num sensor-none" title="An exporter keeps no buffer">
        –
      </td>
      <td className="num sensor-none" title="An exporter keeps no buffer">
        –
      </td>
    </>
  );
}

function Interfaces({ health, leftOut }: { health: SensorHealthView | null; leftOut: number }) {
  if (health === null) return <span className="sensor-none">No report yet</span>;
  if (health.interfaces.length === 0)
    return <span className="sensor-none">No capture interface reported</span>;
  return (
    <>
      <ul className="sensor-interfaces">
        {health.interfaces.map((i, index) => (
          // A report could name an interface twice: the place tells them apart.
          <InterfaceItem key={`${i.name} ${index}`} capture={i} />
        ))}
        {leftOut > 0 && <li className="sensor-none">and {formatCount(leftOut)} more</li>}
      </ul>
      {health.packetsPerSecond !== undefined && (
        <span className="sensor-sub">
          {formatSi(health.packetsPerSecond)} packets/s
          {health.bytesPerSecond !== undefined && `, ${formatBitRate(health.bytesPerSecond)}`}
        </span>
      )}
    </>
  );
}

function InterfaceItem({ capture }: { capture: InterfaceHealth }) {
  const drops = capture.kernelDropped ?? 0;
  return (
    <li>
      <span className={`state-dot ${stateClass(capture.state)}`} aria-hidden="true" />{' '}
      <span className="mono">{capture.name}</span> {capture.state}
      {capture.packets !== undefined && (
        <span className="sensor-none"> · {formatCount(capture.packets)} packets</span>
      )}
      {drops > 0 && <span className="sensor-warn"> · {formatCount(drops)} dropped by the kernel</span>}
      {capture.failure !== undefined && <span className="sensor-failure">{capture.failure}</span>}
    </li>
  );
}

/** The dot's colour of the states styles.css knows; another sensor's version may say others. */
function stateClass(state: string): string {
  return ['running', 'starting', 'restarting', 'failed'].includes(state) ? `state-${state}` : '';
}

function ExporterCounts({ health }: { health: unknown }) {
  const counts = readExporterCounts(health);
  if (counts.length === 0) return <span className="sensor-none">No counts reported</span>;
  return (
    <span>
      {counts.map((c, i) => (
        <span key={c.key}>
          {i > 0 && ' · '}
          {formatCount(c.value)} {c.label}
        </span>
      ))}
    </span>
  );
}

function isoTime(ms: number): string {
  const date = new Date(ms);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}
