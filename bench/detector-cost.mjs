#!/usr/bin/env node
/**
 * What each detector costs, in-process: reads the capture into memory once, then runs the engine
 * (decode, flows, traffic summary) alone and with each detector set, round-robin, and prints the
 * best CPU time of each and what it adds to the engine alone. No I/O is timed, so the figures show
 * the packet path only; on a shared machine run several rounds (the best is kept).
 *
 *   npm run build && node bench/detector-cost.mjs FILE [--sets none,all,port_scan,...] [--rounds N]
 *
 * A set is `none` (the engine alone), `nosummary` (the engine without the traffic summary), `all`,
 * or detector names joined by `+` (see `flowtrack detectors`).
 */

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CaptureParser } from '../dist/capture/capture-parser.js';
import { PacketDecoder } from '../dist/decode/packet-decoder.js';
import { DEFAULT_FLOW_OPTIONS, FlowTable } from '../dist/flows/flow-table.js';
import { TrafficSummaryBuilder } from '../dist/analyze/traffic-summary.js';
import { AlertTracker } from '../dist/alerts/alert-tracker.js';
import { DetectionEngine } from '../dist/detect/detection-engine.js';
import { DETECTOR_FACTORIES } from '../dist/detect/detector-registry.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { sets: { type: 'string' }, rounds: { type: 'string', default: '3' } },
});
const [file] = positionals;
if (!file) {
  console.error('usage: node bench/detector-cost.mjs FILE [--sets none,all,NAME+NAME] [--rounds N]');
  process.exit(1);
}
const sets = (values.sets ?? ['none', 'all', ...DETECTOR_FACTORIES.map((f) => f.name)].join(',')).split(',');
const rounds = Number(values.rounds);
const capture = readFileSync(file);

function factoriesOf(set) {
  if (set === 'none' || set === 'nosummary') return [];
  if (set === 'all') return DETECTOR_FACTORIES;
  return set.split('+').map((name) => {
    const f = DETECTOR_FACTORIES.find((d) => d.name === name);
    if (!f) throw new Error(`no detector ${name}`);
    return f;
  });
}

/** One pass over the capture, as analyze-capture.ts wires it; returns CPU milliseconds. */
function run(set) {
  const withSummary = set !== 'nosummary';
  const summary = new TrafficSummaryBuilder({ top: 10, hostCapacity: 65536 });
  const alerts = new AlertTracker();
  const factories = factoriesOf(set);
  const engine = factories.length
    ? new DetectionEngine(factories.map((f) => f.create({ ...f.defaults }, alerts)))
    : null;
  const table = new FlowTable(DEFAULT_FLOW_OPTIONS, (t, slot, reason) => {
    engine?.onFlowEnd(t, slot, reason);
    if (withSummary) summary.addFlow(t, slot, reason);
  });
  const decoder = new PacketDecoder();
  const event = { packet: decoder, ts: 0, frameBytes: 0, flows: table, slot: -1, newFlow: false };
  const parser = new CaptureParser((pkt) => {
    decoder.decode(pkt.linkType, pkt.data, pkt.offset, pkt.capLen);
    if (withSummary) summary.addPacket(decoder, pkt.tsMicros, pkt.origLen, pkt.capLen);
    let slot = -1;
    const created = table.flowsCreated;
    if (decoder.ipVersion !== 0) slot = table.add(decoder, pkt.tsMicros, pkt.origLen);
    if (engine) {
      event.ts = pkt.tsMicros;
      event.frameBytes = pkt.origLen;
      event.slot = slot;
      event.newFlow = table.flowsCreated !== created;
      engine.onPacket(event);
    }
  });
  const start = process.cpuUsage();
  const chunk = 512 * 1024;
  for (let o = 0; o < capture.length; o += chunk) parser.push(capture.subarray(o, o + chunk));
  parser.end();
  engine?.finish(table.now);
  table.flush();
  if (withSummary) summary.build(table.evicted, table.fragmentsJoined);
  const cpu = process.cpuUsage(start);
  return { ms: (cpu.user + cpu.system) / 1000, alerts: alerts.alerts().length };
}

const best = new Map();
for (let r = 0; r < rounds; r++) {
  for (const set of sets) {
    const result = run(set);
    const prev = best.get(set);
    if (!prev || result.ms < prev.ms) best.set(set, result);
  }
  process.stderr.write(`detector-cost: round ${r + 1} of ${rounds} done\n`);
}
const engineMs = best.get('none')?.ms;
console.log('| set | CPU ms (best) | over the engine alone | alerts |\n|---|---:|---:|---:|');
for (const [set, { ms, alerts }] of best) {
  const over = engineMs === undefined ? '' : (ms - engineMs).toFixed(0);
  console.log(`| ${set} | ${ms.toFixed(0)} | ${over} | ${alerts} |`);
}
