/**
 * A done scan's findings, most serious first: each with its risk, where it is, the service and
 * what the exposure rules say of it (why it matters and how to fix it, folded). Informational
 * findings (open ports no rule marks as a risk) are folded together below. On the server's own
 * addresses an admin can close a finding's port with a firewall rule.
 */

import { useState } from 'react';
import { Panel, PanelEmpty } from '../../components/Panel';
import { Link } from '../../lib/router';
import { ClosePortDialog } from './ClosePortDialog';
import { portKey } from './close-port';
import { isOnLocalHost, portLabel, splitFindings } from './scan-format';
import type { CreatedCloseRule, Finding, HostReport } from './scan-types';
import { RiskTag } from './ScanTags';

export function FindingsPanel({
  scanId,
  findings,
  hosts,
  canClose,
}: {
  scanId: string;
  findings: readonly Finding[];
  hosts: readonly HostReport[];
  /** Admins: the firewall API refuses everyone else. */
  canClose: boolean;
}) {
  const [closing, setClosing] = useState<Finding | null>(null);
  const [closed, setClosed] = useState<ReadonlyMap<string, CreatedCloseRule>>(new Map());
  const [lastClosed, setLastClosed] = useState<{ label: string; rule: CreatedCloseRule } | null>(null);
  const { worth, info } = splitFindings(findings);

  const item = (finding: Finding) => (
    <FindingItem
      key={`${finding.address} ${portLabel(finding)} ${finding.ruleId}`}
      finding={finding}
      closable={canClose && isOnLocalHost(finding, hosts)}
      closedBy={closed.get(portKey(finding)) ?? null}
      onClose={setClosing}
    />
  );

  return (
    <Panel
      title="Findings"
      aside={
        worth.length > 0 && (
          <span className="badge">
            {worth.length} to look at{info.length > 0 && `, ${info.length} informational`}
          </span>
        )
      }
    >
      {lastClosed !== null && (
        <p className="notice scan-closed" role="status">
          Port {lastClosed.label} closed (rule {lastClosed.rule.id}) — see{' '}
          <Link to="/firewall">Firewall</Link>
        </p>
      )}
      {findings.length === 0 ? (
        <PanelEmpty title="No open ports found">
          Nothing answered on the ports scanned, so there is nothing to judge.
        </PanelEmpty>
      ) : (
        <>
          {worth.length === 0 ? (
            <PanelEmpty title="Nothing risky found">
              The open ports below are informational: no exposure rule marks them as a risk.
            </PanelEmpty>
          ) : (
            <ol className="scan-findings" aria-label="Findings">
              {worth.map(item)}
            </ol>
          )}
          {info.length > 0 && (
            <details className="scan-info-findings" open={worth.length === 0}>
              <summary>
                {info.length} informational finding{info.length === 1 ? '' : 's'}
              </summary>
              <ol className="scan-findings" aria-label="Informational findings">
                {info.map(item)}
              </ol>
            </details>
          )}
        </>
      )}
      {canClose && (
        <ClosePortDialog
          scanId={scanId}
          finding={closing}
          onCancel={() => {
            setClosing(null);
          }}
          onClosed={(finding, rule) => {
            setClosing(null);
            setClosed((map) => new Map(map).set(portKey(finding), rule));
            setLastClosed({ label: portLabel(finding), rule });
          }}
        />
      )}
    </Panel>
  );
}

function FindingItem({
  finding,
  closable,
  closedBy,
  onClose,
}: {
  finding: Finding;
  closable: boolean;
  closedBy: CreatedCloseRule | null;
  onClose: (finding: Finding) => void;
}) {
  return (
    <li className="scan-finding">
      <div className="scan-finding-head">
        <RiskTag risk={finding.risk} />
        <span className="mono scan-where">
          {finding.address} {portLabel(finding)}
        </span>
        <span className="scan-service">{finding.service}</span>
        <span className="scan-finding-title">{finding.title}</span>
        {closable &&
          (closedBy === null ? (
            <button
              type="button"
              className="button-quiet scan-close-port"
              aria-label={`Close port ${portLabel(finding)}`}
              onClick={() => {
                onClose(finding);
              }}
            >
              Close port
            </button>
          ) : (
            <span className="tag tag-ok">closed (rule {closedBy.id})</span>
          ))}
      </div>
      <details className="scan-why">
        <summary>Why it matters and how to fix it</summary>
        <dl>
          <dt>Why</dt>
          <dd>{finding.why}</dd>
          <dt>Fix</dt>
          <dd>{finding.fix}</dd>
        </dl>
      </details>
    </li>
  );
}
