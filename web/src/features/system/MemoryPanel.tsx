/** Memory and swap now: used of total, as `free` counts used (total less what is available). */

import { Panel } from '../../components/Panel';
import { formatPercent, isNearFull, usedOfTotal } from './system-format';
import type { MemorySample } from './system-types';
import { UsageBar } from './UsageBar';

export function MemoryPanel({ memory }: { memory: MemorySample }) {
  return (
    <Panel title="Memory">
      <div className="system-meters">
        <Meter
          label="Memory"
          percent={memory.percent}
          detail={usedOfTotal(memory.usedBytes, memory.totalBytes)}
        />
        {memory.swapTotalBytes > 0 ? (
          <Meter
            label="Swap"
            percent={memory.swapPercent}
            detail={usedOfTotal(memory.swapUsedBytes, memory.swapTotalBytes)}
          />
        ) : (
          <p className="panel-note">No swap on this host.</p>
        )}
      </div>
    </Panel>
  );
}

function Meter({ label, percent, detail }: { label: string; percent: number; detail: string }) {
  return (
    <div className="system-meter">
      <p className="system-figure">
        <span className="system-figure-label">{label}</span>{' '}
        <span className={isNearFull(percent) ? 'system-figure-value system-warn' : 'system-figure-value'}>
          {formatPercent(percent)}
        </span>{' '}
        <span className="system-figure-label">{detail}</span>
      </p>
      <UsageBar percent={percent} />
    </div>
  );
}
