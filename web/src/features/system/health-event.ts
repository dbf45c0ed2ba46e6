/**
 * The stream's `health` event (`{ type: 'health', sample }`, one each probe interval) as a host
 * sample, checked enough that the page can draw it: a newer or broken server's event that lacks
 * what the page reads is dropped, not drawn half. Pure.
 */

import type { ServerSentEvent } from '../../lib/sse-parser';
import type { HostSample } from './system-types';

/** The sample an event carries, or null for another event or one this page cannot read. */
export function healthSampleOf(event: ServerSentEvent): HostSample | null {
  if (event.type !== 'health') return null;
  let body: unknown;
  try {
    body = JSON.parse(event.data);
  } catch {
    return null;
  }
  if (!isRecord(body)) return null;
  const sample = body.sample;
  return isHostSample(sample) ? sample : null;
}

function isHostSample(value: unknown): value is HostSample {
  if (!isRecord(value)) return false;
  const { at, hostname, load, cpu, memory, fileSystems, disks, interfaces, processes } = value;
  return (
    typeof at === 'number' &&
    typeof hostname === 'string' &&
    Array.isArray(load) &&
    isRecord(cpu) &&
    typeof cpu.percent === 'number' &&
    Array.isArray(cpu.perCore) &&
    isRecord(memory) &&
    typeof memory.percent === 'number' &&
    Array.isArray(fileSystems) &&
    Array.isArray(disks) &&
    Array.isArray(interfaces) &&
    isRecord(processes) &&
    Array.isArray(processes.topCpu) &&
    Array.isArray(processes.topMemory)
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
