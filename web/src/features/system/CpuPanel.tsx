/**
 * CPU now: the busy share of all cores with its split (user, system, waiting for disk, stolen by
 * the hypervisor), and one bar a core, so one core pinned by one process stands out.
 */

import { Panel } from '../../components/Panel';
import { formatPercent, isNearFull } from './system-format';
import type { CpuSample } from './system-types';
import { UsageBar } from './UsageBar';

/** Drawing units a core's bar takes, gap included. */
const CORE_WIDTH = 10;
const CORES_HEIGHT = 40;

export function CpuPanel({ cpu, firstSample }: { cpu: CpuSample; firstSample: boolean }) {
  return (
    <Panel title="CPU">
      <div data-testid="system-cpu">
        <p className="system-figure">
          <span
            className={isNearFull(cpu.percent) ? 'system-figure-value system-warn' : 'system-figure-value'}
          >
            {formatPercent(cpu.percent)}
          </span>{' '}
          <span className="system-figure-label">busy, {cpu.perCore.length} cores</span>
        </p>
        <UsageBar percent={cpu.percent} />
        <p className="system-split">
          <span>user {formatPercent(cpu.user)}</span>
          <span>system {formatPercent(cpu.system)}</span>
          <span title="Idle while waiting for a disk">I/O wait {formatPercent(cpu.iowait)}</span>
          <span title="Time the hypervisor gave another machine">steal {formatPercent(cpu.steal)}</span>
        </p>
        <CoreBars perCore={cpu.perCore} />
        {firstSample && (
          <p className="panel-note">The first sample after a start: rates show from the next one.</p>
        )}
      </div>
    </Panel>
  );
}

function CoreBars({ perCore }: { perCore: readonly number[] }) {
  if (perCore.length === 0) return null;
  const width = perCore.length * CORE_WIDTH;
  return (
    <svg
      className="system-cores"
      viewBox={`0 0 ${width} ${CORES_HEIGHT}`}
      preserveAspectRatio="none"
      role="img"
      aria-label={`Per core: ${perCore.map((p, i) => `cpu${i} ${formatPercent(p)}`).join(', ')}`}
    >
      {perCore.map((percent, i) => {
        const height = (Math.min(100, Math.max(0, percent)) / 100) * CORES_HEIGHT;
        return (
          <g key={i} className={isNearFull(percent) ? 'system-core system-core-warn' : 'system-core'}>
            <title>{`cpu${i}: ${formatPercent(percent)}`}</title>
            <rect
              className="system-core-track"
              x={i * CORE_WIDTH + 1}
              width={CORE_WIDTH - 2}
              height={CORES_HEIGHT}
            />
            <rect
              className="system-core-fill"
              x={i * CORE_WIDTH + 1}
              y={CORES_HEIGHT - height}
              width={CORE_WIDTH - 2}
              height={height}
            />
          </g>
        );
      })}
    </svg>
  );
}
