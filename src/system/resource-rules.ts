/**
 * Threshold rules on the host's vital signs, with hysteresis: a rule is raised once its value has
 * stayed at or above `raise` for `forSeconds`, and cleared once it has stayed below `clear` (lower
 * than `raise`) for as long. A value hovering at the limit therefore raises once and stays raised,
 * instead of flapping with every sample. Pure: readings and times come in, events go out; the
 * system monitor turns them into `resource` alerts.
 */

import type { Severity } from '../alerts/alert.js';
import type { HostSample } from './host-sample.js';

export const RESOURCE_METRICS = [
  'cpu',
  'memory',
  'swap',
  'disk',
  'interface_errors',
  'capture_drops',
] as const;
export type ResourceMetric = (typeof RESOURCE_METRICS)[number];

export interface ThresholdRule {
  enabled: boolean;
  /** At or above this for `forSeconds`: raised. */
  raise: number;
  /** Below this for `forSeconds`: cleared. */
  clear: number;
  forSeconds: number;
}

/** One rule per metric; percentages for cpu, memory, swap and disk, per second for the others. */
export type ResourceRules = Record<ResourceMetric, ThresholdRule>;

/** One value judged against its metric's rule; `subject` tells a disk or interface apart. */
export interface ResourceReading {
  metric: ResourceMetric;
  /** The mount point or interface; null for the host as a whole. */
  subject: string | null;
  value: number;
}

export interface ResourceEvent {
  kind: 'raised' | 'worse' | 'cleared';
  metric: ResourceMetric;
  subject: string | null;
  value: number;
  /** The highest value since the rule was first at or above `raise`. */
  peak: number;
  /** When the value first reached `raise` (epoch ms). */
  since: number;
  /** Why a rule was cleared: the value fell, or its subject (a disk, an interface) is gone. */
  reason?: 'recovered' | 'gone';
  rule: ThresholdRule;
}

interface RuleState {
  aboveSince: number | null;
  belowSince: number | null;
  raised: boolean;
  peak: number;
}

/** What each metric's value is, for summaries. */
export const METRIC_LABELS: Record<ResourceMetric, { name: string; unit: '%' | '/s' }> = {
  cpu: { name: 'CPU busy', unit: '%' },
  memory: { name: 'memory used', unit: '%' },
  swap: { name: 'swap used', unit: '%' },
  disk: { name: 'disk full', unit: '%' },
  interface_errors: { name: 'interface errors and drops', unit: '/s' },
  capture_drops: { name: 'packets lost by capture', unit: '/s' },
};

/** The readings of one sample, plus capture's losses per second by interface. */
export function readingsOf(sample: HostSample, captureDrops: ReadonlyMap<string, number>): ResourceReading[] {
  const readings: ResourceReading[] = [
    { metric: 'cpu', subject: null, value: sample.cpu.percent },
    { metric: 'memory', subject: null, value: sample.memory.percent },
  ];
  if (sample.memory.swapTotalBytes > 0) {
    readings.push({ metric: 'swap', subject: null, value: sample.memory.swapPercent });
  }
  for (const fs of sample.fileSystems)
    readings.push({ metric: 'disk', subject: fs.mount, value: fs.percent });
  // The first sample has no rates yet: nothing to judge the rate rules by.
  if (sample.intervalSeconds > 0) {
    for (const i of sample.interfaces) {
      readings.push({
        metric: 'interface_errors',
        subject: i.name,
        value: i.rxErrorsPerSecond + i.txErrorsPerSecond + i.rxDropsPerSecond + i.txDropsPerSecond,
      });
    }
  }
  for (const [name, perSecond] of captureDrops) {
    readings.push({ metric: 'capture_drops', subject: name, value: perSecond });
  }
  return readings;
}

/** How serious a raised rule is: percentages get worse towards 100, losses of packets are high. */
export function severityOf(metric: ResourceMetric, value: number, rule: ThresholdRule): Severity {
  if (metric === 'capture_drops') return 'high';
  if (metric === 'interface_errors') return 'medium';
  if (metric === 'disk' && value >= 99) return 'critical';
  return value >= (rule.raise + 100) / 2 ? 'high' : 'medium';
}

export class ResourceWatch {
  private readonly states = new Map<string, RuleState>();

  constructor(private readonly rules: ResourceRules) {}

  /** Judges one round of readings taken at `at` (epoch ms); returns what changed. */
  observe(readings: readonly ResourceReading[], at: number): ResourceEvent[] {
    const events: ResourceEvent[] = [];
    const seen = new Set<string>();
    for (const r of readings) {
      const rule = this.rules[r.metric];
      if (!rule.enabled || !Number.isFinite(r.value)) continue;
      const key = keyOf(r.metric, r.subject);
      seen.add(key);
      let state = this.states.get(key);
      if (!state) {
        if (r.value < rule.raise) continue;
        state = { aboveSince: null, belowSince: null, raised: false, peak: r.value };
        this.states.set(key, state);
      }
      const holdMs = rule.forSeconds * 1000;
      if (!state.raised) {
        if (r.value >= rule.raise) {
          state.aboveSince ??= at;
          state.peak = Math.max(state.peak, r.value);
          if (at - state.aboveSince >= holdMs) {
            state.raised = true;
            events.push(eventOf('raised', r, state, rule));
          }
        } else {
          // Fell back before it held long enough: forgotten.
          this.states.delete(key);
        }
        continue;
      }
      if (r.value < rule.clear) {
        state.belowSince ??= at;
        if (at - state.belowSince >= holdMs) {
          events.push({ ...eventOf('cleared', r, state, rule), reason: 'recovered' });
          this.states.delete(key);
        }
        continue;
      }
      state.belowSince = null;
      if (r.value > state.peak) {
        state.peak = r.value;
        events.push(eventOf('worse', r, state, rule));
      }
    }
    // A raised disk or interface that is no longer there has nothing left to watch.
    for (const [key, state] of this.states) {
      if (seen.has(key)) continue;
      this.states.delete(key);
      if (!state.raised) continue;
      const [metric, subject] = parseKey(key);
      const rule = this.rules[metric];
      events.push({
        kind: 'cleared',
        metric,
        subject,
        value: 0,
        peak: state.peak,
        since: state.aboveSince ?? at,
        reason: 'gone',
        rule,
      });
    }
    return events;
  }

  /** The rules raised now, as `metric` or `metric:subject`. */
  raised(): string[] {
    return [...this.states].filter(([, s]) => s.raised).map(([key]) => key);
  }
}

function eventOf(
  kind: ResourceEvent['kind'],
  r: ResourceReading,
  state: RuleState,
  rule: ThresholdRule,
): ResourceEvent {
  return {
    kind,
    metric: r.metric,
    subject: r.subject,
    value: r.value,
    peak: state.peak,
    since: state.aboveSince ?? 0,
    rule,
  };
}

function keyOf(metric: ResourceMetric, subject: string | null): string {
  return subject === null ? metric : `${metric}:${subject}`;
}

function parseKey(key: string): [ResourceMetric, string | null] {
  const colon = key.indexOf(':');
  if (colon < 0) return [key as ResourceMetric, null];
  return [key.slice(0, colon) as ResourceMetric, key.slice(colon + 1)];
}
