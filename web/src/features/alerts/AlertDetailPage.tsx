/**
 * One alert (/alerts/:id): what happened and between whom, its status, who has it and what was
 * done about it (its history), the incidents it is part of, the figures and sample flows the
 * detector kept, and what to do next: look at the flows behind it, download its packets,
 * acknowledge, resolve, reopen, assign or comment on it, mute similar alerts, or (admins) block
 * its source. Refreshed every 5 s, as an ongoing attack keeps growing the alert. An alert a sensor
 * raised names it, and its flows link goes to that sensor's flows. Alert text and comments are
 * shown as text only.
 */

import { useState, type ReactNode } from 'react';
import './alerts.css';
import { ApiError } from '../../api/api-client';
import { useApiQuery } from '../../api/queries';
import { useCan } from '../../api/session';
import { Panel, PanelEmpty } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import {
  counterLabel,
  exposureScanPath,
  flowsPath,
  formatDuration,
  formatFigure,
  hostPath,
  microsToMs,
} from './alert-format';
import { severityText } from './alert-lifecycle';
import type {
  AlertDetail,
  AlertIncident,
  AlertWithHistory,
  CreatedFirewallRule,
  SuppressionRuleView,
} from './alert-types';
import { AlertHistory } from './AlertHistory';
import { AlertStatusTag, SeverityTag } from './AlertTags';
import { AlertTriage } from './AlertTriage';
import { BlockSource } from './BlockSource';
import { EvidenceDownload } from './EvidenceDownload';
import { MuteSimilar } from './MuteSimilar';
import { alertApiPath } from './use-alert-api';
import { withSensor } from '../sensors/sensor-filter';

/** The Alert rules page (suppression rules and severity overrides). */
const RULES_PATH = '/alerts/rules';

export function AlertDetailPage({ id }: { id: string }) {
  const alert = useApiQuery<AlertWithHistory>(alertApiPath(id), 5000);
  const missing =
    alert.data === undefined && alert.error instanceof ApiError && alert.error.status === 404
      ? alert.error
      : null;
  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="alert-back">
        <Link to="/alerts">← All alerts</Link>
      </nav>
      {missing !== null ? (
        <section className="panel state state-empty">
          <h1>No such alert</h1>
          <p className="state-hint">{missing.message}</p>
          <p>
            <Link to="/alerts">Back to the alert list</Link>
          </p>
        </section>
      ) : (
        <QueryView query={alert} loadingLines={8}>
          {(data) => <AlertView alert={data} />}
        </QueryView>
      )}
    </div>
  );
}

function AlertView({ alert }: { alert: AlertWithHistory }) {
  const canAct = useCan('analyst');
  const canBlock = useCan('admin');
  const [blocked, setBlocked] = useState<CreatedFirewallRule | null>(null);
  const [muted, setMuted] = useState<SuppressionRuleView | null>(null);
  const start = microsToMs(alert.start);
  const end = microsToMs(alert.end);
  const src = alert.src;
  const scanPath = exposureScanPath(alert);
  return (
    <>
      <header className="page-header">
        <h1 className="alert-title">
          <span className="mono">{alert.type}</span> <SeverityTag severity={alert.severity} />
          {alert.detectedSeverity != null && alert.detectedSeverity !== alert.severity && (
            <span className="alert-detected">(detector said {alert.detectedSeverity})</span>
          )}
        </h1>
        <div className="alert-header-actions">
          {canAct && <MuteSimilar alert={alert} onMuted={setMuted} />}
          {canBlock && src !== null && (
            <BlockSource alert={{ id: alert.id, src, summary: alert.summary }} onBlocked={setBlocked} />
          )}
        </div>
      </header>
      {blocked && (
        <p className="notice alert-blocked" role="status">
          Blocked until {blocked.expiresAt === null ? 'lifted' : <Time ms={blocked.expiresAt} />} — see{' '}
          <Link to="/firewall">Firewall</Link>
        </p>
      )}
      {muted && (
        <p className="notice alert-done" role="status">
          Similar alerts muted until <Time ms={muted.expiresAt} /> by rule #{muted.id} — see{' '}
          <Link to={RULES_PATH}>Alert rules</Link>
        </p>
      )}
      {alert.suppressedBy != null && (
        <p className="notice alert-muted-notice">
          Muted by rule #{alert.suppressedBy}: nobody is notified of it, and the alert list hides it unless
          asked. <Link to={RULES_PATH}>Alert rules</Link>
        </p>
      )}

      <section className="panel" aria-label="Summary">
        <p className="alert-summary-text">{alert.summary}</p>
        <dl className="alert-facts">
          <Fact label="Status">
            <span className="alert-status">
              <AlertStatusTag status={alert.status} />
              <StatusText alert={alert} />
            </span>
          </Fact>
          <Fact label="Severity">{severityText(alert.severity, alert.detectedSeverity)}</Fact>
          <Fact label="Assigned to">{alert.assignee ?? <span className="alert-muted">nobody</span>}</Fact>
          <Fact label="Source">
            <HostLink address={alert.src} />
          </Fact>
          <Fact label="Destination">
            <HostLink address={alert.dst} />
          </Fact>
          {alert.sensor != null && alert.sensor !== '' && (
            <Fact label="Sensor">
              <Link className="mono" to="/sensors" title="The sensors and whether they are in contact">
                {alert.sensor}
              </Link>
            </Fact>
          )}
          <Fact label="Started">
            <Time ms={start} />
          </Fact>
          <Fact label="Last seen">
            <Time ms={end} /> <span className="alert-muted">({formatDuration(end - start)} in all)</span>
          </Fact>
          <Fact label="Reports merged">{formatCount(alert.updates)}</Fact>
          <Fact label="Last changed">
            <Time ms={alert.updatedAt} />
          </Fact>
          <Fact label="Alert id">
            <span className="mono">{alert.id}</span>
          </Fact>
        </dl>
        <div className="alert-next">
          {scanPath !== null && <Link to={scanPath}>The scan that found it</Link>}
          <Link to={withSensor(flowsPath(alert), alert.sensor ?? undefined)}>Flows behind this alert</Link>
          {/* The packets (payloads included) are for analysts: the API refuses viewers. */}
          {canAct && <EvidenceDownload alertId={alert.id} />}
        </div>
      </section>

      {canAct && <AlertTriage alert={alert} />}

      <AlertHistory alertId={alert.id} history={alert.history} canComment={canAct} />

      <Panel title="In incidents">
        <Incidents incidents={alert.incidents} />
        {canAct && (
          <p>
            <Link to={`/incidents/new?alert=${encodeURIComponent(alert.id)}`}>
              Report an incident with this alert
            </Link>
          </p>
        )}
      </Panel>

      <Panel title="Figures">
        <Figures alert={alert} />
      </Panel>

      <Panel title="Sample flows">
        <SampleFlows alert={alert} />
      </Panel>

      {alert.evidence.topSources.length > 0 && (
        <Panel title="Top sources">
          <div className="table-scroll">
            <table className="table" aria-label="Top sources">
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col" className="num">
                    Packets
                  </th>
                </tr>
              </thead>
              <tbody>
                {alert.evidence.topSources.map((source) => (
                  <tr key={source.address}>
                    <td className="mono">
                      <Link to={hostPath(source.address)}>{source.address}</Link>
                    </td>
                    <td className="num">{formatCount(source.packets)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </Panel>
      )}
    </>
  );
}

function Figures({ alert }: { alert: AlertDetail }) {
  const counters = Object.entries(alert.counters);
  const { thresholds } = alert.evidence;
  if (counters.length === 0 && thresholds.length === 0)
    return <PanelEmpty title="No figures">The detector reported none for this alert.</PanelEmpty>;
  return (
    <>
      {counters.length > 0 && (
        <dl className="alert-facts alert-counters">
          {counters.map(([key, value]) => (
            <Fact key={key} label={counterLabel(key)} title={key}>
              {formatFigure(value)}
            </Fact>
          ))}
        </dl>
      )}
      {thresholds.length > 0 && (
        <div className="table-scroll">
          <table className="table alert-thresholds" aria-label="Thresholds">
            <caption>What crossed a threshold</caption>
            <thead>
              <tr>
                <th scope="col">Measure</th>
                <th scope="col" className="num">
                  Value
                </th>
                <th scope="col" className="num">
                  Threshold
                </th>
              </tr>
            </thead>
            <tbody>
              {thresholds.map((t, i) => (
                <tr key={`${t.metric} ${i}`}>
                  <th scope="row" title={t.metric}>
                    {counterLabel(t.metric)}
                  </th>
                  <td className="num">{formatFigure(t.value)}</td>
                  <td className="num">{formatFigure(t.threshold)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function SampleFlows({ alert }: { alert: AlertDetail }) {
  const flows = alert.evidence.sampleFlows;
  if (flows.length === 0)
    return (
      <PanelEmpty title="No sample flows kept">
        This detector keeps none for this kind of alert; the flows behind it are on the Flows page.
      </PanelEmpty>
    );
  return (
    <div className="table-scroll">
      <table className="table" aria-label="Sample flows">
        <thead>
          <tr>
            <th scope="col">Protocol</th>
            <th scope="col">Client</th>
            <th scope="col">Server</th>
            <th scope="col" className="num">
              Packets
            </th>
            <th scope="col" className="num">
              Bytes
            </th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {flows.map((flow, i) => (
            // Two sample flows may share endpoints (a retried connection): the index tells them apart.
            <tr key={`${flow.protocol} ${flow.client} ${flow.server} ${i}`}>
              <td>{flow.protocol}</td>
              <td className="mono">{flow.client}</td>
              <td className="mono">{flow.server}</td>
              <td className="num">{formatCount(flow.packets)}</td>
              <td className="num">{formatCount(flow.bytes)}</td>
              <td>{flow.state}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Who acknowledged and resolved the alert, each as one run of text ("Acknowledged by ana at …"),
 * so it reads and is found as one.
 */
function StatusText({ alert }: { alert: AlertDetail }) {
  return (
    <>
      <span>
        {alert.acknowledgedBy === null ? (
          'Not acknowledged yet'
        ) : (
          <>
            Acknowledged by {alert.acknowledgedBy}
            {alert.acknowledgedAt !== null && (
              <>
                {' '}
                at <Time ms={alert.acknowledgedAt} />
              </>
            )}
          </>
        )}
      </span>
      {alert.status === 'resolved' && alert.resolvedBy !== null && (
        <span>
          Resolved by {alert.resolvedBy}
          {alert.resolvedAt !== null && (
            <>
              {' '}
              at <Time ms={alert.resolvedAt} />
            </>
          )}
        </span>
      )}
    </>
  );
}

function Incidents({ incidents }: { incidents: readonly AlertIncident[] }) {
  if (incidents.length === 0)
    return (
      <PanelEmpty title="Not in any incident">
        An analyst reports an incident with it, or links it from an incident&rsquo;s page.
      </PanelEmpty>
    );
  return (
    <ul className="alert-incidents">
      {incidents.map((incident) => (
        <li key={incident.id}>
          <Link to={`/incidents/${incident.id}`}>
            #{incident.id} {incident.title}
          </Link>{' '}
          <span className="tag tag-muted">{incident.status}</span>
        </li>
      ))}
    </ul>
  );
}

function HostLink({ address }: { address: string | null }) {
  if (address === null) return <span className="alert-muted">none (many or not applicable)</span>;
  return (
    <Link className="mono" to={hostPath(address)}>
      {address}
    </Link>
  );
}

/** One term of a definition list, grouped so the list can lay out as a grid. */
function Fact({ label, title, children }: { label: string; title?: string; children: ReactNode }) {
  return (
    <div className="alert-fact">
      <dt {...(title !== undefined && { title })}>{label}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Time({ ms }: { ms: number }) {
  return <time dateTime={new Date(ms).toISOString()}>{formatTimestamp(ms)}</time>;
}
