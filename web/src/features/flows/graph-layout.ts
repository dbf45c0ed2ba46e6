/**
 * Places the talk graph's hosts with d3-force, run to the end here (a fixed number of ticks,
 * synchronously) so the page renders one still picture with React: no animation to follow, no
 * DOM handed to d3. Deterministic for a given graph (the simulation's random source is seeded),
 * so a refetch of the same answer draws the same picture. Pure apart from d3's own arithmetic.
 */

import {
  forceCollide,
  forceLink,
  forceManyBody,
  forceSimulation,
  forceX,
  forceY,
  type SimulationLinkDatum,
  type SimulationNodeDatum,
} from 'd3-force';
import type { GraphEdge, GraphNode } from './flow-types';

export interface PlacedNode extends GraphNode {
  x: number;
  y: number;
  /** Radius: the area grows with the bytes. */
  r: number;
  /** Whether its address is written beside it (the largest only, so labels stay readable). */
  labelled: boolean;
}

export interface PlacedEdge extends GraphEdge {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Stroke width: grows with the bytes. */
  width: number;
}

export interface GraphLayout {
  width: number;
  height: number;
  nodes: PlacedNode[];
  edges: PlacedEdge[];
}

export interface LayoutOptions {
  width?: number;
  height?: number;
  /** Simulation steps: 300 is d3's own default run (alpha decays to its minimum). */
  ticks?: number;
  /** Hosts whose address is written beside them, the largest first. */
  labels?: number;
}

const MIN_RADIUS = 5;
const MAX_RADIUS = 24;
const MIN_WIDTH = 1;
const MAX_WIDTH = 7;
/** Space kept between the drawing and its box's edge (for the circles' strokes and labels). */
const MARGIN = 8;
/** How much a small graph may be spread out to fill the box. */
const MAX_GROWTH = 2.5;

interface SimNode extends SimulationNodeDatum {
  address: string;
  r: number;
}

interface SimLink extends SimulationLinkDatum<SimNode> {
  length: number;
}

/**
 * The positions of `nodes` and the segments of `edges` in a `width` x `height` box. Edges naming
 * a host that is not among the nodes, and loops, are left out. Nodes keep their given order
 * (the API's: most bytes first), which is also the order they are tabbed through.
 */
export function layoutGraph(
  nodes: readonly GraphNode[],
  edges: readonly GraphEdge[],
  { width = 720, height = 420, ticks = 300, labels = 12 }: LayoutOptions = {},
): GraphLayout {
  const maxBytes = Math.max(1, ...nodes.map((n) => n.bytes));
  const radius = (bytes: number) =>
    MIN_RADIUS + (MAX_RADIUS - MIN_RADIUS) * Math.sqrt(Math.max(0, bytes) / maxBytes);
  const simNodes: SimNode[] = nodes.map((n) => ({ address: n.address, r: radius(n.bytes) }));
  const byAddress = new Map(simNodes.map((n) => [n.address, n]));
  const kept = edges.filter((e) => e.a !== e.b && byAddress.has(e.a) && byAddress.has(e.b));
  const links: SimLink[] = kept.map((e) => ({
    source: e.a,
    target: e.b,
    length: 40 + (byAddress.get(e.a)?.r ?? 0) + (byAddress.get(e.b)?.r ?? 0),
  }));

  forceSimulation(simNodes)
    .randomSource(seededRandom(0x5eed))
    .force(
      'link',
      forceLink<SimNode, SimLink>(links)
        .id((n) => n.address)
        .distance((l) => l.length),
    )
    .force('charge', forceManyBody<SimNode>().strength(-260))
    .force(
      'collide',
      forceCollide<SimNode>((n) => n.r + 6),
    )
    // Pull every host, linked or not, toward the middle, the box's shape in mind.
    .force('x', forceX<SimNode>(0).strength(0.05))
    .force('y', forceY<SimNode>(0).strength(0.05 * (width / height)))
    .stop()
    .tick(ticks);

  const fit = fitter(simNodes, width, height);
  const placed = new Map<string, PlacedNode>();
  const labelled = new Set(
    [...nodes]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, labels)
      .map((n) => n.address),
  );
  const placedNodes = nodes.map((n, i) => {
    const sim = simNodes[i]!;
    const [x, y] = fit(sim);
    const node: PlacedNode = { ...n, x, y, r: round(sim.r), labelled: labelled.has(n.address) };
    placed.set(n.address, node);
    return node;
  });
  const maxEdge = Math.max(1, ...kept.map((e) => e.bytes));
  const placedEdges = kept.map((e) => {
    const a = placed.get(e.a)!;
    const b = placed.get(e.b)!;
    return {
      ...e,
      x1: a.x,
      y1: a.y,
      x2: b.x,
      y2: b.y,
      width: round(MIN_WIDTH + (MAX_WIDTH - MIN_WIDTH) * Math.sqrt(Math.max(0, e.bytes) / maxEdge)),
    };
  });
  return { width, height, nodes: placedNodes, edges: placedEdges };
}

/**
 * Maps the simulation's coordinates into the box: centred and scaled to fill it with the circles
 * whole (grown at most MAX_GROWTH times, so a pair of hosts is not stretched across the page).
 */
function fitter(nodes: readonly SimNode[], width: number, height: number): (n: SimNode) => [number, number] {
  if (nodes.length === 0) return () => [width / 2, height / 2];
  const xs = nodes.map((n) => n.x ?? 0);
  const ys = nodes.map((n) => n.y ?? 0);
  const maxR = Math.max(...nodes.map((n) => n.r));
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const room = (size: number) => Math.max(1, size - 2 * (MARGIN + maxR));
  const scale = Math.min(
    MAX_GROWTH,
    room(width) / Math.max(1, maxX - minX),
    room(height) / Math.max(1, maxY - minY),
  );
  const midX = (minX + maxX) / 2;
  const midY = (minY + maxY) / 2;
  return (n) => {
    const x = width / 2 + ((n.x ?? 0) - midX) * scale;
    const y = height / 2 + ((n.y ?? 0) - midY) * scale;
    return [
      round(clamp(x, n.r + MARGIN, width - n.r - MARGIN)),
      round(clamp(y, n.r + MARGIN, height - n.r - MARGIN)),
    ];
  };
}

/** A linear congruential generator: d3's own jiggle then repeats from run to run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function clamp(value: number, min: number, max: number): number {
  return min > max ? (min + max) / 2 : Math.min(max, Math.max(min, value));
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
