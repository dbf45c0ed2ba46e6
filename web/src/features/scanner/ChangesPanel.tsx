/**
 * What changed since the previous done run of the same targets and ports: ports found open now
 * that were not then (each also raised an `exposure` alert), and ports open then that are not now.
 */

import { Panel, PanelEmpty } from '../../components/Panel';
import { Link } from '../../lib/router';
import { portLabel, scanPath } from './scan-format';
import type { OpenPort, ScanDiff } from './scan-types';

export function ChangesPanel({ diff }: { diff: ScanDiff | null }) {
  return (
    <Panel title="Changes since the previous run">
      {diff === null ? (
        <PanelEmpty title="First run of these targets and ports">
          The next run of the same targets and ports is compared with this one.
        </PanelEmpty>
      ) : (
        <>
          <p className="scan-baseline">
            Compared with <Link to={scanPath(diff.baselineId)}>the previous run</Link>.
          </p>
          {diff.opened.length === 0 && diff.closed.length === 0 ? (
            <PanelEmpty title="No changes">The same ports are open as in the previous run.</PanelEmpty>
          ) : (
            <div className="scan-changes">
              <PortList title="Opened" ports={diff.opened} none="No port newly open." />
              <PortList title="Closed" ports={diff.closed} none="No port closed since." />
            </div>
          )}
        </>
      )}
    </Panel>
  );
}

function PortList({ title, ports, none }: { title: string; ports: readonly OpenPort[]; none: string }) {
  return (
    <section aria-label={`${title} ports`}>
      <h3 className="scan-h3">
        {title} ({ports.length})
      </h3>
      {ports.length === 0 ? (
        <p className="scan-muted">{none}</p>
      ) : (
        <ul className="scan-port-list">
          {ports.map((port) => (
            <li key={`${port.address} ${portLabel(port)}`}>
              <span className="mono">
                {port.address} {portLabel(port)}
              </span>
              {port.service !== undefined && <span className="scan-service"> {port.service}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
