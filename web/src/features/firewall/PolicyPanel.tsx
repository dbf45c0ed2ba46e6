/**
 * The firewall's policy as the server runs it: enforcing or dry run (said plainly: in a dry run no
 * packet is dropped), the backend, automatic blocking (with the kill switch for admins), which
 * alerts block and for how long, what the policy held back or refused, and the allow-list and
 * protected ports, which only the configuration file sets.
 */

import type { UseQueryResult } from '@tanstack/react-query';
import { useId } from 'react';
import { Panel } from '../../components/Panel';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatTimestamp } from '../../lib/format';
import { Link } from '../../lib/router';
import { alertPath, escalationSteps, formatAgo, durationLabel } from './firewall-format';
import type { FirewallStatus } from './firewall-types';
import { useSetAutoBlock } from './use-firewall';

const BACKEND_CHOICE: Record<FirewallStatus['configuredBackend'], string> = {
  auto: 'nftables where it works, else iptables with ipset',
  nftables: 'nftables',
  iptables: 'iptables with ipset',
};

export function PolicyPanel({
  status,
  now,
  canAdmin,
}: {
  status: UseQueryResult<FirewallStatus>;
  now: number;
  canAdmin: boolean;
}) {
  return (
    <Panel title="Policy">
      <QueryView query={status} loadingLines={8}>
        {(data) => <PolicyFacts status={data} now={now} canAdmin={canAdmin} />}
      </QueryView>
    </Panel>
  );
}

function PolicyFacts({ status, now, canAdmin }: { status: FirewallStatus; now: number; canAdmin: boolean }) {
  const { autoBlock, counts } = status;
  const dryRun = status.mode === 'dry-run';
  return (
    <>
      <dl className="fw-facts">
        <dt>Mode</dt>
        <dd>
          {dryRun ? (
            <span className="tag tag-muted">dry run</span>
          ) : (
            <span className="tag tag-ok">enforcing</span>
          )}
          <p className="fw-note">
            {dryRun ? (
              <>
                Nothing reaches the kernel&apos;s firewall: rules are kept, checked and listed, and no packet
                is dropped. Set <code>firewall.mode: enforce</code> in the configuration file and restart to
                enforce them.
              </>
            ) : (
              'The rules below are applied to the kernel’s firewall.'
            )}
          </p>
        </dd>
        <dt>Backend</dt>
        <dd>
          {dryRun ? (
            <>
              dry-run; enforcing would use {BACKEND_CHOICE[status.configuredBackend]}{' '}
              <span className="fw-muted">(firewall.backend: {status.configuredBackend})</span>
            </>
          ) : (
            <span className="mono">{status.backend}</span>
          )}
        </dd>
        <dt>Automatic blocking</dt>
        <dd>
          {canAdmin ? (
            <AutoBlockSwitch enabled={autoBlock.enabled} />
          ) : (
            <span className={autoBlock.enabled ? 'tag tag-ok' : 'tag tag-muted'}>
              {autoBlock.enabled ? 'on' : 'off'}
            </span>
          )}
          <p className="fw-note">
            {autoBlock.enabled
              ? `${formatCount(autoBlock.blocksLastMinute)} of at most ${formatCount(autoBlock.maxPerMinute)} new blocks in the last minute.`
              : 'Switched off: no alert blocks anything; rules already in force stay until they end.'}
          </p>
        </dd>
        <dt>Blocks on</dt>
        <dd>
          <AlertFilter status={status} />
        </dd>
        <dt>Block lengths</dt>
        <dd>
          <ol className="fw-steps">
            {escalationSteps(autoBlock.durations).map((step) => (
              <li key={step.when}>
                <span className="fw-muted">{step.when}:</span> {step.lasts}
              </li>
            ))}
          </ol>
          <p className="fw-note">
            Counted per source; blocks older than {durationLabel(autoBlock.forgetAfter)} are forgotten. IPv6
            attackers are blocked by their /{autoBlock.ipv6PrefixLength}.
          </p>
        </dd>
        <dt>Since the server started</dt>
        <dd>
          <ul className="fw-counts">
            <li>
              <strong>{formatCount(counts.blocked)}</strong> blocked
            </li>
            <li className={counts.cappedOut > 0 ? 'fw-warn' : undefined}>
              <strong>{formatCount(counts.cappedOut)}</strong> held back by the per-minute cap
            </li>
            <li className={counts.refused > 0 ? 'fw-warn' : undefined}>
              <strong>{formatCount(counts.refused)}</strong> refused (protected addresses)
            </li>
            <li className={counts.failed > 0 ? 'fw-bad' : undefined}>
              <strong>{formatCount(counts.failed)}</strong> failed
            </li>
          </ul>
        </dd>
        {status.lastReconcile !== null && (
          <>
            <dt>Checked against the kernel</dt>
            <dd>
              {formatAgo(status.lastReconcile.at, now)}
              {status.lastReconcile.missing.length + status.lastReconcile.stale.length > 0 &&
                `: ${formatCount(status.lastReconcile.missing.length)} re-applied, ${formatCount(status.lastReconcile.stale.length)} stale removed`}
            </dd>
          </>
        )}
      </dl>
      {status.lastError !== null && (
        <p className="form-error fw-gap" role="status">
          Last error: {status.lastError}
        </p>
      )}
      {status.recentRefusals.length > 0 && <Refusals status={status} now={now} />}
      <ConfiguredLists status={status} />
    </>
  );
}

/** The kill switch: a switch labelled "Automatic blocking", audited by the server. */
function AutoBlockSwitch({ enabled }: { enabled: boolean }) {
  const setAutoBlock = useSetAutoBlock();
  const hintId = useId();
  // Shows the position asked for until the server answers, then the server's.
  const checked = setAutoBlock.isPending ? setAutoBlock.variables : enabled;
  return (
    <>
      <label className="fw-switch">
        <input
          type="checkbox"
          role="switch"
          checked={checked}
          disabled={setAutoBlock.isPending}
          aria-describedby={hintId}
          onChange={(e) => {
            setAutoBlock.mutate(e.target.checked);
          }}
        />
        Automatic blocking
        <span className={checked ? 'tag tag-ok' : 'tag tag-muted'} aria-hidden="true">
          {checked ? 'on' : 'off'}
        </span>
      </label>
      <span id={hintId} className="visually-hidden">
        Off stops new automatic blocks at once; kept across restarts and audited.
      </span>
      {setAutoBlock.isError && (
        <p className="form-error" role="alert">
          {setAutoBlock.error.message}
        </p>
      )}
    </>
  );
}

function AlertFilter({ status }: { status: FirewallStatus }) {
  const { alertTypes, minSeverity, minSeverityByType } = status.autoBlock;
  const overrides = Object.entries(minSeverityByType).filter(
    (entry): entry is [string, NonNullable<(typeof entry)[1]>] =>
      entry[1] !== undefined && alertTypes.includes(entry[0]),
  );
  if (alertTypes.length === 0)
    return <span className="fw-muted">no alert type (nothing is blocked automatically)</span>;
  return (
    <>
      <ul className="fw-chips">
        {alertTypes.map((type) => (
          <li key={type} className="mono">
            {type}
          </li>
        ))}
      </ul>
      <p className="fw-note">
        Alerts of severity <strong>{minSeverity}</strong> or worse
        {overrides.length > 0 &&
          `; ${overrides.map(([type, severity]) => `${type} from ${severity}`).join(', ')}`}
        . Each blocks its attacker.
      </p>
    </>
  );
}

function Refusals({ status, now }: { status: FirewallStatus; now: number }) {
  return (
    <section className="fw-gap" aria-label="Refused automatic blocks">
      <h3 className="fw-h3">Refused automatic blocks</h3>
      <div className="table-scroll">
        <table className="table" aria-label="Refused automatic blocks">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Address</th>
              <th scope="col">Alert</th>
              <th scope="col">Why not</th>
            </tr>
          </thead>
          <tbody>
            {status.recentRefusals.slice(0, 10).map((r) => (
              <tr key={`${r.at} ${r.alertId}`}>
                <td title={formatTimestamp(r.at, 'minute')}>{formatAgo(r.at, now)}</td>
                <td className="mono">{r.address}</td>
                <td>
                  <Link className="mono" to={alertPath(r.alertId)}>
                    {r.alertId}
                  </Link>
                </td>
                <td>{r.reason}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

/** The allow-list and protected ports: read-only here, the configuration file sets them. */
function ConfiguredLists({ status }: { status: FirewallStatus }) {
  return (
    <section className="fw-gap" aria-label="Never blocked, never closed">
      <h3 className="fw-h3">Never blocked, never closed</h3>
      <dl className="fw-facts">
        <dt>Allow-list</dt>
        <dd>
          {status.allowList.length === 0 ? (
            <span className="fw-muted">empty</span>
          ) : (
            <ul className="fw-chips">
              {status.allowList.map((source) => (
                <li key={source} className="mono">
                  {source}
                </li>
              ))}
            </ul>
          )}
        </dd>
        <dt>Protected ports</dt>
        <dd>
          <ul className="fw-chips">
            {status.protectedPorts.map((port) => (
              <li key={port} className="mono">
                {port}
              </li>
            ))}
          </ul>
        </dd>
      </dl>
      <p className="panel-note">
        Set in the configuration file (<code>firewall.allowList</code>, <code>firewall.protectedPorts</code>;
        the API&apos;s own port is always protected) and read at start. Loopback, this host&apos;s addresses,
        its gateways and DNS servers and where signed-in admins connect from are never blocked either; an
        allow rule adds a source for as long as it is in force.
      </p>
    </section>
  );
}
