/**
 * The host's sockets with the processes that hold them, as `ss -tunap` lists them: listening ones
 * (what this host offers) and connections, with a text filter over both. For analysts and admins
 * only, as the API decides: command lines can hold what a viewer should not read. Refreshed every
 * 5 s; socket and process text is shown as text only.
 */

import { useId, useState } from 'react';
import { ApiError } from '../../api/api-client';
import { useCan } from '../../api/session';
import { Panel, PanelEmpty } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatProcess, formatTimestamp } from '../../lib/format';
import {
  endpointText,
  filterSockets,
  ownerCommands,
  ownerNames,
  ownerPids,
  ownerUsers,
  SOCKET_ROW_LIMIT,
  sortConnections,
  sortListening,
} from './socket-view';
import type { SocketEntry, SocketSnapshot } from './system-types';
import { useSockets } from './use-system';

export function SocketsPanel() {
  const canSee = useCan('analyst');
  return (
    <Panel title="Sockets">
      {canSee ? (
        <SocketLists />
      ) : (
        <PanelEmpty title="Sockets need the analyst role">
          The listening sockets and connections of this host name their processes and command lines, so
          analysts and admins see them here. Ask an admin for the analyst role if you need them.
        </PanelEmpty>
      )}
    </Panel>
  );
}

function SocketLists() {
  const sockets = useSockets(true);
  const [filter, setFilter] = useState('');
  const filterId = useId();
  if (sockets.data === undefined && sockets.error instanceof ApiError && sockets.error.status === 404) {
    return (
      <PanelEmpty title="This server does not read its sockets">
        Set <code>system.enabled</code> and <code>system.processes</code> to true in the configuration and
        restart <code>flowtrack serve</code> to list them here.
      </PanelEmpty>
    );
  }
  return (
    <QueryView query={sockets} loadingLines={6}>
      {(snapshot) => (
        <>
          <div className="toolbar system-socket-tools">
            <label className="field" htmlFor={filterId}>
              Filter
              <input
                id={filterId}
                type="search"
                value={filter}
                placeholder="nginx, :443, estab, alice"
                onChange={(event) => {
                  setFilter(event.target.value);
                }}
              />
            </label>
            <span className="panel-note">
              Read <time dateTime={new Date(snapshot.at).toISOString()}>{formatTimestamp(snapshot.at)}</time>
            </span>
          </div>
          <SocketTables snapshot={snapshot} filter={filter} />
        </>
      )}
    </QueryView>
  );
}

function SocketTables({ snapshot, filter }: { snapshot: SocketSnapshot; filter: string }) {
  const listening = sortListening(filterSockets(snapshot.listening, filter));
  const connections = sortConnections(filterSockets(snapshot.connections, filter));
  const filtered = filter.trim() !== '';
  return (
    <div className="stack system-sockets">
      <section aria-label="Listening sockets">
        <h3 className="system-subtitle">
          Listening{' '}
          <span className="system-muted">
            {countText(listening.length, snapshot.listening.length, filtered)}
          </span>
        </h3>
        {listening.length === 0 ? (
          <PanelEmpty title={filtered ? 'No listening socket matches the filter' : 'Nothing listens'}>
            {filtered
              ? 'Clear or change the filter to see more.'
              : 'No TCP or UDP port is open on this host.'}
          </PanelEmpty>
        ) : (
          <div className="table-scroll">
            <table
              className="table system-table"
              aria-label="Listening sockets"
              data-testid="system-listening"
            >
              <thead>
                <tr>
                  <th scope="col">Proto</th>
                  <th scope="col">Local address</th>
                  <th scope="col">Process</th>
                  <th scope="col" className="num">
                    PID
                  </th>
                  <th scope="col">User</th>
                </tr>
              </thead>
              <tbody>
                {listening.slice(0, SOCKET_ROW_LIMIT).map((entry) => (
                  <tr key={socketKey(entry)}>
                    <td>{entry.protocol}</td>
                    <td className="mono system-nowrap">
                      {endpointText(entry.localAddress, entry.localPort)}
                    </td>
                    <td className="mono" title={ownerCommands(entry.owners) || undefined}>
                      {entry.owners.length === 0 ? <NoProcess /> : ownerNames(entry.owners)}
                    </td>
                    <td className="num">{ownerPids(entry.owners)}</td>
                    <td>{ownerUsers(entry)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <MoreRows shown={listening.length} />
      </section>
      <section aria-label="Connections">
        <h3 className="system-subtitle">
          Connections{' '}
          <span className="system-muted">
            {countText(connections.length, snapshot.connections.length, filtered)}
          </span>
        </h3>
        {connections.length === 0 ? (
          <PanelEmpty title={filtered ? 'No connection matches the filter' : 'No connections'}>
            {filtered
              ? 'Clear or change the filter to see more.'
              : 'This host has no open TCP connection now.'}
          </PanelEmpty>
        ) : (
          <div className="table-scroll">
            <table className="table system-table" aria-label="Connections" data-testid="system-connections">
              <thead>
                <tr>
                  <th scope="col">Proto</th>
                  <th scope="col">Local</th>
                  <th scope="col">Remote</th>
                  <th scope="col">State</th>
                  <th scope="col">Process</th>
                </tr>
              </thead>
              <tbody>
                {connections.slice(0, SOCKET_ROW_LIMIT).map((entry) => (
                  <tr key={socketKey(entry)}>
                    <td>{entry.protocol}</td>
                    <td className="mono system-nowrap">
                      {endpointText(entry.localAddress, entry.localPort)}
                    </td>
                    <td className="mono system-nowrap">
                      {endpointText(entry.remoteAddress, entry.remotePort)}
                    </td>
                    <td>{entry.state}</td>
                    <td className="mono" title={ownerCommands(entry.owners) || undefined}>
                      <OwnerText entry={entry} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <MoreRows shown={connections.length} />
      </section>
    </div>
  );
}

/** The first process holding a connection, "curl (4242, alice)", and how many more. */
function OwnerText({ entry }: { entry: SocketEntry }) {
  const [first] = entry.owners;
  if (first === undefined) return <NoProcess />;
  const more = entry.owners.length - 1;
  return (
    <>
      {formatProcess(first)}
      {more > 0 && <span className="system-muted"> +{more}</span>}
    </>
  );
}

function NoProcess() {
  return (
    <span
      className="system-muted"
      title="No process FlowTrack can see holds it: another namespace's, the kernel's, or just closed"
    >
      –
    </span>
  );
}

function MoreRows({ shown }: { shown: number }) {
  if (shown <= SOCKET_ROW_LIMIT) return null;
  return (
    <p className="panel-note">
      The first {formatCount(SOCKET_ROW_LIMIT)} of {formatCount(shown)} are shown: filter to find the others.
    </p>
  );
}

function countText(shown: number, total: number, filtered: boolean): string {
  return filtered ? `${formatCount(shown)} of ${formatCount(total)}` : formatCount(total);
}

/** A socket's inode is unique while it lives; the endpoints keep rows apart if the kernel reuses one. */
function socketKey(entry: SocketEntry): string {
  return `${entry.inode} ${entry.protocol} ${entry.localAddress} ${entry.localPort} ${entry.remoteAddress} ${entry.remotePort}`;
}
