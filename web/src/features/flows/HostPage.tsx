/**
 * /hosts/:address: one host over a chosen range (15 minutes to 7 days, `?range=` in the URL):
 * its traffic over time, totals, top peers and ports, the alerts that name it, and the firewall
 * blocks in force on it. Every figure links onward: a peer to its own page, a port to its flows,
 * an alert to its page, a block to the firewall page.
 */

import { useState } from 'react';
import { ApiError } from '../../api/api-client';
import { queryString, useApiQuery } from '../../api/queries';
import { Panel, PanelEmpty } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatBytes, formatProcess } from '../../lib/format';
import { Link, useQueryParams } from '../../lib/router';
import { parseAddress, sourceCovers } from './address-match';
import { flowsPagePath } from './flow-filters';
import { alertPath, formatTime, hostPath } from './flow-format';
import type {
  FirewallRuleView,
  HostAlert,
  HostAlertPage,
  HostPort,
  HostView,
  TrafficView,
} from './flow-types';
import { DEFAULT_HOST_RANGE, HOST_RANGES, hostRangeOf, hostWindow, type HostRange } from './host-range';
import { TrafficChart } from './TrafficChart';
import './flows.css';

/** Peers and ports listed per table. */
const TOP = 10;
/** Alerts read per side (the host as source, as destination). */
const ALERTS = 25;

interface Period {
  from: number;
  to: number;
}

export function HostPage({ address }: { address: string }) {
  const [query, setQuery] = useQueryParams();
  const range = hostRangeOf(query.get('range'));
  // The period is fixed when the page opens or the range changes, not at every render: the
  // queries keep one key, and "Refresh" moves it to now.
  const [now, setNow] = useState(() => Date.now());
  const period = hostWindow(range, now);
  const valid = parseAddress(address) !== null;

  return (
    <div className="stack">
      <header className="page-header">
        <h1>
          Host <span className="mono">{address}</span>
        </h1>
        {valid && (
          <div className="toolbar host-toolbar">
            <label className="field">
              Time range
              <select
                value={range.id}
                onChange={(e) => {
                  setQuery({ range: e.target.value === DEFAULT_HOST_RANGE ? undefined : e.target.value });
                  setNow(Date.now());
                }}
              >
                {HOST_RANGES.map((r) => (
                  <option key={r.id} value={r.id}>
                    {r.label}
                  </option>
                ))}
              </select>
            </label>
            <button
              type="button"
              className="button-quiet"
              onClick={() => {
                setNow(Date.now());
              }}
            >
              Refresh
            </button>
            <Link
              className="button-quiet"
              to={flowsPagePath({ address, from: String(period.from), to: String(period.to) })}
            >
              Its flows
            </Link>
          </div>
        )}
      </header>
      {valid ? (
        <>
          <HostTraffic address={address} range={range} period={period} />
          <div className="host-grid">
            <HostPeers address={address} period={period} />
            <HostPorts address={address} period={period} />
            <HostProcesses address={address} period={period} />
            <HostAlerts address={address} />
            <HostBlocks address={address} />
          </div>
        </>
      ) : (
        <section className="panel">
          <PanelEmpty title="Not an address">
            <code>{address}</code> is not an IPv4 or IPv6 address. <Link to="/flows">Search the flows</Link>{' '}
            for a host instead.
          </PanelEmpty>
        </section>
      )}
    </div>
  );
}

/** The host's summary (totals, peers, ports) for the period: one request the panels share. */
function useHostSummary(address: string, period: Period) {
  return useApiQuery<HostView>(
    `/api/hosts/${encodeURIComponent(address)}${queryString({ from: period.from, to: period.to, top: TOP })}`,
  );
}

function HostTraffic({ address, range, period }: { address: string; range: HostRange; period: Period }) {
  const traffic = useApiQuery<TrafficView>(
    `/api/traffic${queryString({
      host: address,
      from: period.from,
      to: period.to,
      bucketSeconds: range.bucketSeconds,
      top: 1,
    })}`,
  );
  const summary = useHostSummary(address, period);
  return (
    <Panel title="Traffic">
      <QueryView
        query={traffic}
        loadingLines={4}
        isEmpty={(t) => t.series.every((b) => b.bytes === 0)}
        empty={{
          title: `No traffic of ${address} in this range`,
          hint: 'Choose a longer range, or check that capture sees this host.',
        }}
      >
        {(t) => (
          <TrafficChart series={t.series} label={`Traffic of ${address}, ${range.label.toLowerCase()}`} />
        )}
      </QueryView>
      {summary.data && (
        <dl className="host-totals">
          <div>
            <dt>Sent</dt>
            <dd>{formatBytes(summary.data.totals.bytesSent)}</dd>
          </div>
          <div>
            <dt>Received</dt>
            <dd>{formatBytes(summary.data.totals.bytesReceived)}</dd>
          </div>
          <div>
            <dt>Packets</dt>
            <dd>{formatCount(summary.data.totals.packets)}</dd>
          </div>
          <div>
            <dt>Flows</dt>
            <dd>{formatCount(summary.data.totals.flows)}</dd>
          </div>
        </dl>
      )}
      <p className="panel-note">
        {range.label}, from {formatTime(period.from * 1000)} to {formatTime(period.to * 1000)}. The chart
        counts each minute&apos;s share of a flow; the totals count the flows active in the range.
      </p>
    </Panel>
  );
}

function HostPeers({ address, period }: { address: string; period: Period }) {
  const summary = useHostSummary(address, period);
  return (
    <Panel title="Top peers">
      <QueryView
        query={summary}
        isEmpty={(s) => s.peers.length === 0}
        empty={{ title: 'No peers in this range', hint: 'This host had no flows in the range.' }}
      >
        {(s) => (
          <div className="table-scroll">
            <table className="table" aria-label={`Top peers of ${address}`}>
              <thead>
                <tr>
                  <th scope="col">Peer</th>
                  <th scope="col" className="num">
                    Sent
                  </th>
                  <th scope="col" className="num">
                    Received
                  </th>
                  <th scope="col" className="num">
                    Flows
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.peers.map((peer) => (
                  <tr key={peer.address}>
                    <td className="mono">
                      <Link to={hostPath(peer.address)}>{peer.address}</Link>
                    </td>
                    <td className="num">{formatBytes(peer.bytesSent)}</td>
                    <td className="num">{formatBytes(peer.bytesReceived)}</td>
                    <td className="num">{formatCount(peer.flows)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </Panel>
  );
}

/** The processes on FlowTrack's host behind this host's flows: "curl (4242, alice)". */
function HostProcesses({ address, period }: { address: string; period: Period }) {
  const summary = useHostSummary(address, period);
  return (
    <Panel title="Processes">
      <QueryView
        query={summary}
        isEmpty={(s) => s.processes.length === 0}
        empty={{
          title: 'No process seen',
          hint: "Processes are named for flows of the host FlowTrack runs on, when the monitor saw the flow's socket.",
        }}
      >
        {(s) => (
          <div className="table-scroll">
            <table className="table" aria-label={`Processes behind the flows of ${address}`}>
              <thead>
                <tr>
                  <th scope="col">Process</th>
                  <th scope="col" className="num">
                    Bytes
                  </th>
                  <th scope="col" className="num">
                    Flows
                  </th>
                </tr>
              </thead>
              <tbody>
                {s.processes.map((p) => (
                  <tr key={`${p.pid}-${p.name}-${p.user}`}>
                    <td className="mono">{formatProcess(p)}</td>
                    <td className="num">{formatBytes(p.bytes)}</td>
                    <td className="num">{formatCount(p.flows)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
    </Panel>
  );
}

function HostPorts({ address, period }: { address: string; period: Period }) {
  const summary = useHostSummary(address, period);
  return (
    <Panel title="Top ports">
      <QueryView
        query={summary}
        isEmpty={(s) => s.localPorts.length === 0 && s.remotePorts.length === 0}
        empty={{ title: 'No TCP, UDP or SCTP flows in this range' }}
      >
        {(s) => (
          <div className="host-ports">
            <PortTable
              caption="Its own ports"
              hint="services it offers, or its source ports"
              ports={s.localPorts}
              address={address}
              period={period}
            />
            <PortTable
              caption="Its peers' ports"
              hint="services it used"
              ports={s.remotePorts}
              address={address}
              period={period}
            />
          </div>
        )}
      </QueryView>
    </Panel>
  );
}

function PortTable({
  caption,
  hint,
  ports,
  address,
  period,
}: {
  caption: string;
  hint: string;
  ports: readonly HostPort[];
  address: string;
  period: Period;
}) {
  return (
    <div className="table-scroll">
      <table className="table">
        <caption>
          {caption} <span className="muted">({hint})</span>
        </caption>
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
          {ports.length === 0 ? (
            <tr>
              <td colSpan={3} className="muted">
                None
              </td>
            </tr>
          ) : (
            ports.map((p) => (
              <tr key={`${p.protocol}/${p.port}`}>
                <td className="mono">
                  <Link
                    to={flowsPagePath({
                      address,
                      port: String(p.port),
                      protocol: p.protocol,
                      from: String(period.from),
                      to: String(period.to),
                    })}
                    title={`The flows of ${address} on ${p.protocol} port ${p.port}`}
                  >
                    {p.port}/{p.protocol}
                  </Link>
                </td>
                <td className="num">{formatBytes(p.bytes)}</td>
                <td className="num">{formatCount(p.flows)}</td>
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

function HostAlerts({ address }: { address: string }) {
  const asSource = useApiQuery<HostAlertPage>(
    `/api/anomalies${queryString({ src: address, limit: ALERTS })}`,
  );
  const asTarget = useApiQuery<HostAlertPage>(
    `/api/anomalies${queryString({ dst: address, limit: ALERTS })}`,
  );
  return (
    <Panel title="Alerts">
      <QueryView query={asSource} loadingLines={3}>
        {(src) => (
          <QueryView
            query={asTarget}
            loadingLines={3}
            isEmpty={(dst) => src.items.length === 0 && dst.items.length === 0}
            empty={{ title: `No alert names ${address}`, hint: 'Neither as the source nor as the target.' }}
          >
            {(dst) => <AlertList alerts={mergeAlerts(src.items, dst.items)} address={address} />}
          </QueryView>
        )}
      </QueryView>
    </Panel>
  );
}

function AlertList({ alerts, address }: { alerts: readonly HostAlert[]; address: string }) {
  return (
    <ul className="host-alerts">
      {alerts.map((alert) => (
        <li key={alert.id}>
          <span className={`tag tag-${alert.severity}`}>{alert.severity}</span>{' '}
          <Link to={alertPath(alert.id)}>{alert.summary}</Link>
          <span className="muted">
            {' '}
            {alert.src === address ? 'as source' : 'as target'} · {alert.status} · {formatTime(alert.end)}
          </span>
        </li>
      ))}
    </ul>
  );
}

/** Both lists as one, each alert once, the most recent first (as the API orders each). */
function mergeAlerts(a: readonly HostAlert[], b: readonly HostAlert[]): HostAlert[] {
  const byId = new Map<string, HostAlert>();
  for (const alert of [...a, ...b]) byId.set(alert.id, alert);
  return [...byId.values()].sort((x, y) => y.end - x.end || (x.id < y.id ? -1 : 1));
}

function HostBlocks({ address }: { address: string }) {
  const rules = useApiQuery<{ items: FirewallRuleView[] }>('/api/firewall/rules');
  // A server without a firewall answers 404 with why: that is an empty state, not a failure.
  if (rules.error instanceof ApiError && rules.error.status === 404 && rules.data === undefined) {
    return (
      <Panel title="Blocks">
        <PanelEmpty title="No firewall on this server">{rules.error.message}</PanelEmpty>
      </Panel>
    );
  }
  return (
    <Panel title="Blocks" aside={<Link to="/firewall">Firewall rules</Link>}>
      <QueryView
        query={rules}
        isEmpty={(r) => blocksOn(r.items, address).length === 0}
        empty={{ title: `Nothing blocks ${address}`, hint: 'No block in force has a source that covers it.' }}
      >
        {(r) => (
          <ul className="host-blocks">
            {blocksOn(r.items, address).map((rule) => (
              <li key={rule.id}>
                <span className="tag tag-high">block</span> <span className="mono">{rule.source}</span>
                {rule.comment && <> — {rule.comment}</>}
                <span className="muted">
                  {' '}
                  by {rule.createdBy}
                  {rule.expiresAt === null
                    ? ', until lifted'
                    : `, until ${formatTime(rule.expiresAt * 1000)}`}
                </span>
                {rule.alertId !== null && (
                  <>
                    {' '}
                    <Link to={alertPath(rule.alertId)}>its alert</Link>
                  </>
                )}
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </Panel>
  );
}

function blocksOn(rules: readonly FirewallRuleView[], address: string): FirewallRuleView[] {
  return rules.filter((r) => r.kind === 'block' && r.source !== null && sourceCovers(r.source, address));
}
