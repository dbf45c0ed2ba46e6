/** The NetFlow/IPFIX collector: where it listens for routers' exports, and what came and was dropped. */

import type { CollectorState } from '../../api/api-types';
import { Panel, PanelEmpty } from '../../components/Panel';
import { Count } from './HubPanel';

export function CollectorPanel({ collector }: { collector: CollectorState | null }) {
  return (
    <Panel
      title="NetFlow/IPFIX collector"
      aside={collector && <span className="badge link-open">listening</span>}
    >
      {collector === null ? (
        <PanelEmpty title="NetFlow/IPFIX collector off (collector.enabled)">
          Set <code>collector.enabled: true</code> and list the routers in <code>collector.exporters</code> to
          take NetFlow v5, v9 and IPFIX over UDP.
        </PanelEmpty>
      ) : (
        <>
          <p className="sensor-where">
            Listening on <code>{collector.listen}</code> (UDP)
          </p>
          <dl className="sensor-counts">
            <Count label="Datagrams" value={collector.datagrams} />
            <Count label="Records" value={collector.records} />
            <Count
              label="Dropped"
              value={collector.dropped}
              warnAbove={0}
              title="What the collector could not use: from a router not in collector.exporters, malformed, or past its limits"
            />
          </dl>
        </>
      )}
    </Panel>
  );
}
