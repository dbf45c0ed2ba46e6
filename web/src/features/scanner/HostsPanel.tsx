/**
 * A done scan's hosts, each with its port table (port, state, service, what the service said of
 * itself) and nmap's "Not shown" line for the ports counted rather than listed. Hosts that did not
 * answer (a scan without discovery) are folded together at the end.
 */

import { Panel, PanelEmpty } from '../../components/Panel';
import { formatCount } from '../../lib/format';
import { notShownText, portDetails, portLabel } from './scan-format';
import type { HostReport } from './scan-types';

export function HostsPanel({ hosts, addresses }: { hosts: readonly HostReport[]; addresses: number }) {
  const up = hosts.filter((host) => host.up);
  const down = hosts.filter((host) => !host.up);
  return (
    <Panel title="Hosts">
      {up.length === 0 ? (
        <PanelEmpty title="No host answered">
          {addresses === 1
            ? 'The address did not answer on any port scanned.'
            : `None of the ${formatCount(addresses)} addresses answered. A host that drops every probe is missed: untick “Only hosts that answer” to scan every address.`}
        </PanelEmpty>
      ) : (
        <div className="scan-hosts">
          {up.map((host) => (
            <HostPorts key={host.address} host={host} />
          ))}
        </div>
      )}
      {down.length > 0 && (
        <details className="scan-down">
          <summary>
            {formatCount(down.length)} address{down.length === 1 ? '' : 'es'} did not answer
          </summary>
          <p className="mono scan-down-list">{down.map((host) => host.address).join(', ')}</p>
        </details>
      )}
    </Panel>
  );
}

function HostPorts({ host }: { host: HostReport }) {
  return (
    <section className="scan-host" aria-label={`Host ${host.address}`}>
      <h3 className="scan-h3">
        <span className="mono">{host.address}</span>
        {host.hostName !== undefined && <span className="scan-muted"> ({host.hostName})</span>}
        {host.local && <span className="tag tag-muted">this server</span>}
      </h3>
      {host.ports.length > 0 && (
        <div className="table-scroll">
          <table className="table scan-port-table" aria-label={`Ports of ${host.address}`}>
            <thead>
              <tr>
                <th scope="col">Port</th>
                <th scope="col">State</th>
                <th scope="col">Service</th>
                <th scope="col">Product and version, or banner</th>
              </tr>
            </thead>
            <tbody>
              {host.ports.map((port) => (
                <tr key={portLabel(port)}>
                  <td className="mono">{portLabel(port)}</td>
                  <td className={port.state === 'open' ? 'scan-state-open' : 'scan-muted'}>{port.state}</td>
                  <td>{port.service?.name ?? ''}</td>
                  <td className="scan-details">{portDetails(port)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {host.notShown.map((n) => (
        <p key={`${n.protocol} ${n.state}`} className="scan-not-shown">
          {notShownText(n)}
        </p>
      ))}
      {host.ports.length === 0 && host.notShown.length === 0 && (
        <p className="scan-muted">No ports scanned.</p>
      )}
    </section>
  );
}
