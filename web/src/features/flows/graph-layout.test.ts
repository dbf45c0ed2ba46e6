import { describe, expect, it } from 'vitest';
import type { GraphEdge, GraphNode } from './flow-types';
import { layoutGraph } from './graph-layout';

const node = (address: string, bytes: number): GraphNode => ({ address, bytes, packets: 1, flows: 1 });
const edge = (a: string, b: string, bytes: number): GraphEdge => ({ a, b, bytes, packets: 1, flows: 1 });

/** A hub with eight spokes, and a separate pair: the shape of a busy server and its clients. */
const NODES = [
  node('10.0.0.1', 1_000_000),
  ...Array.from({ length: 8 }, (_, i) => node(`10.0.1.${i}`, 10_000 * (i + 1))),
  node('192.0.2.1', 5000),
  node('192.0.2.2', 4000),
];
const EDGES = [
  ...Array.from({ length: 8 }, (_, i) => edge('10.0.0.1', `10.0.1.${i}`, 10_000 * (i + 1))),
  edge('192.0.2.1', '192.0.2.2', 4000),
];

const distance = (a: { x: number; y: number }, b: { x: number; y: number }) =>
  Math.hypot(a.x - b.x, a.y - b.y);

describe('layoutGraph', () => {
  it('draws the same picture for the same graph', () => {
    expect(layoutGraph(NODES, EDGES)).toEqual(layoutGraph(NODES, EDGES));
  });

  it('keeps every circle whole inside the box, apart from the others', () => {
    const layout = layoutGraph(NODES, EDGES, { width: 400, height: 300 });
    expect(layout.nodes).toHaveLength(NODES.length);
    for (const n of layout.nodes) {
      expect(n.x - n.r).toBeGreaterThanOrEqual(0);
      expect(n.x + n.r).toBeLessThanOrEqual(400);
      expect(n.y - n.r).toBeGreaterThanOrEqual(0);
      expect(n.y + n.r).toBeLessThanOrEqual(300);
    }
    for (const [i, a] of layout.nodes.entries())
      for (const b of layout.nodes.slice(i + 1))
        expect(distance(a, b), `${a.address} ${b.address}`).toBeGreaterThan(1);
  });

  it('sizes hosts and edges by their bytes, and labels the largest', () => {
    const layout = layoutGraph(NODES, EDGES, { labels: 3 });
    const radii = layout.nodes.map((n) => n.r);
    expect(radii[0]).toBe(24);
    // The spokes grow with their bytes.
    expect(radii.slice(1, 9)).toEqual([...radii.slice(1, 9)].sort((a, b) => a - b));
    expect(layout.edges.map((e) => e.width).slice(0, 8)).toEqual(
      [...layout.edges.map((e) => e.width).slice(0, 8)].sort((a, b) => a - b),
    );
    // In the nodes' own order (the API's), whichever is largest.
    expect(layout.nodes.filter((n) => n.labelled).map((n) => n.address)).toEqual([
      '10.0.0.1',
      '10.0.1.6',
      '10.0.1.7',
    ]);
  });

  it('draws each edge between its hosts and puts linked hosts nearer than others', () => {
    const layout = layoutGraph(NODES, EDGES);
    const at = new Map(layout.nodes.map((n) => [n.address, n]));
    for (const e of layout.edges) {
      expect({ x: e.x1, y: e.y1 }).toEqual({ x: at.get(e.a)!.x, y: at.get(e.a)!.y });
      expect({ x: e.x2, y: e.y2 }).toEqual({ x: at.get(e.b)!.x, y: at.get(e.b)!.y });
    }
    const pair = distance(at.get('192.0.2.1')!, at.get('192.0.2.2')!);
    const apart = distance(at.get('192.0.2.1')!, at.get('10.0.1.0')!);
    expect(pair).toBeLessThan(apart);
  });

  it('leaves out edges to hosts it does not have and loops, and copes with nothing', () => {
    const layout = layoutGraph(NODES.slice(0, 2), [
      edge('10.0.0.1', '10.0.1.0', 10),
      edge('10.0.0.1', '203.0.113.9', 10),
      edge('10.0.0.1', '10.0.0.1', 10),
    ]);
    expect(layout.edges.map((e) => [e.a, e.b])).toEqual([['10.0.0.1', '10.0.1.0']]);
    expect(layoutGraph([], [])).toEqual({ width: 720, height: 420, nodes: [], edges: [] });
    const one = layoutGraph([node('10.0.0.1', 0)], []);
    expect(one.nodes[0]).toMatchObject({ x: 360, y: 210, r: 5 });
  });
});
