#!/usr/bin/env node
/**
 * What grew between two V8 heap snapshots (.heapsnapshot, e.g. from dashboard-bench.mjs
 * --snapshots): objects counted and their own sizes summed by type and constructor name, the
 * largest growth first.
 *
 *   node bench/heap-diff.mjs BEFORE.heapsnapshot AFTER.heapsnapshot [--top N]
 */

import { readFileSync } from 'node:fs';

function summarize(file) {
  const snapshot = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const width = fields.length;
  const at = (name) => fields.indexOf(name);
  const [typeAt, nameAt, sizeAt] = [at('type'), at('name'), at('self_size')];
  const groups = new Map();
  const nodes = snapshot.nodes;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt]];
    const name =
      type === 'string' || type === 'concatenated string' ? '(string)' : snapshot.strings[nodes[i + nameAt]];
    const key = `${type} ${String(name).slice(0, 80)}`;
    const g = groups.get(key) ?? { count: 0, bytes: 0 };
    g.count++;
    g.bytes += nodes[i + sizeAt];
    groups.set(key, g);
  }
  return groups;
}

const [beforeFile, afterFile, ...rest] = process.argv.slice(2);
if (!beforeFile || !afterFile) throw new Error('usage: node bench/heap-diff.mjs BEFORE AFTER [--top N]');
const top = rest[0] === '--top' ? Number(rest[1]) : 25;
const before = summarize(beforeFile);
const after = summarize(afterFile);
const rows = [];
for (const [key, a] of after) {
  const b = before.get(key) ?? { count: 0, bytes: 0 };
  rows.push({ key, count: a.count - b.count, bytes: a.bytes - b.bytes, total: a.count });
}
for (const [key, b] of before)
  if (!after.has(key)) rows.push({ key, count: -b.count, bytes: -b.bytes, total: 0 });
rows.sort((x, y) => y.bytes - x.bytes);
const sum = rows.reduce((n, r) => n + r.bytes, 0);
console.log(`self size change: ${(sum / 1024).toFixed(1)} KiB`);
console.log('  bytes      objects  now     type and constructor');
for (const r of rows.slice(0, top)) {
  console.log(
    `${String(r.bytes).padStart(9)} ${String(r.count).padStart(8)} ${String(r.total).padStart(8)}   ${r.key}`,
  );
}
