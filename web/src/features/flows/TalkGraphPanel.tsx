/**
 * "Who talks to whom": the hosts with the most bytes under the flow page's filters and the pairs
 * among them, placed once by graph-layout.ts and drawn as plain SVG. Each host is a link to its
 * page (Tab reaches them, largest first); the pairs are also listed as text for those who cannot
 * see the drawing. Collapsible, and not fetched while collapsed.
 */

import { useMemo, useState } from 'react';
import { useApiQuery } from '../../api/queries';
import { QueryView } from '../../components/QueryView';
import { formatCount, formatBytes } from '../../lib/format';
import { Link } from '../../lib/router';
import { GRAPH_HOSTS, graphApiPath, type FlowView } from './flow-filters';
import { formatTime, hostPath } from './flow-format';
import type { FlowGraphView } from './flow-types';
import { layoutGraph } from './graph-layout';

export function TalkGraphPanel({ view }: { view: FlowView }) {
  const [open, setOpen] = useState(true);
  const graph = useApiQuery<FlowGraphView>(open ? graphApiPath(view) : null);
  const ranged = view.filters.from !== undefined || view.filters.to !== undefined;
  return (
    <section className="panel" aria-labelledby="talk-graph-title">
      <header className="panel-header">
        <h2 id="talk-graph-title">Who talks to whom</h2>
        <button
          type="button"
          className="button-quiet"
          aria-expanded={open}
          aria-controls="talk-graph-body"
          onClick={() => {
            setOpen((o) => !o);
          }}
        >
          {open ? 'Hide' : 'Show'}
        </button>
      </header>
      {open && (
        <div id="talk-graph-body">
          <QueryView
            query={graph}
            loadingLines={4}
            isEmpty={(g) => g.nodes.length === 0}
            empty={{
              title: 'No traffic to draw',
              hint: ranged
                ? 'No flow matches these filters in this time range.'
                : 'No flow matches in the last hour: set a time range to look further back.',
            }}
          >
            {(g) => (
              <>
                <TalkGraph graph={g} />
                <p className="panel-note">
                  The {Math.min(GRAPH_HOSTS, g.nodes.length)} hosts with the most bytes{' '}
                  {ranged ? 'from ' : 'in the last hour, from '}
                  {formatTime(g.from * 1000)} to {formatTime(g.to * 1000)}
                  {Object.keys(view.filters).some((k) => k !== 'from' && k !== 'to') &&
                    ', under the filters above'}
                  ; a circle&apos;s area is its bytes, a line&apos;s width the bytes between two hosts. Select
                  a host to open it.
                </p>
              </>
            )}
          </QueryView>
        </div>
      )}
    </section>
  );
}

function TalkGraph({ graph }: { graph: FlowGraphView }) {
  const layout = useMemo(() => layoutGraph(graph.nodes, graph.edges), [graph]);
  return (
    <>
      {/* On a phone the drawing keeps a readable size and scrolls sideways, as tables do. */}
      <div className="talk-graph-scroll">
        <svg
          className="talk-graph"
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          role="group"
          aria-label={`${layout.nodes.length} hosts and ${layout.edges.length} pairs that talked`}
        >
          <g className="talk-graph-edges" aria-hidden="true">
            {layout.edges.map((e) => (
              <line key={`${e.a} ${e.b}`} x1={e.x1} y1={e.y1} x2={e.x2} y2={e.y2} strokeWidth={e.width}>
                <title>
                  {e.a} ↔ {e.b}: {formatBytes(e.bytes)} in {formatCount(e.flows)} flows
                </title>
              </line>
            ))}
          </g>
          {layout.nodes.map((n) => (
            <Link
              key={n.address}
              to={hostPath(n.address)}
              className="talk-graph-node"
              aria-label={`${n.address}: ${formatBytes(n.bytes)} in ${formatCount(n.flows)} flows`}
            >
              <title>
                {n.address}: {formatBytes(n.bytes)}
              </title>
              <circle cx={n.x} cy={n.y} r={n.r} />
              {n.labelled && (
                <text y={n.y + n.r + 12} {...labelAnchor(n.x, n.r, layout.width)}>
                  {n.address}
                </text>
              )}
            </Link>
          ))}
        </svg>
      </div>
      {layout.edges.length > 0 && (
        <details className="talk-graph-pairs">
          <summary>The pairs as a list</summary>
          <ul>
            {layout.edges.map((e) => (
              <li key={`${e.a} ${e.b}`}>
                <Link to={hostPath(e.a)}>{e.a}</Link> ↔ <Link to={hostPath(e.b)}>{e.b}</Link>:{' '}
                {formatBytes(e.bytes)} in {formatCount(e.flows)} flows
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}

/** Where a label goes under its circle: centred, or inward near a side so it is not cut off. */
function labelAnchor(
  x: number,
  r: number,
  width: number,
): { x: number; textAnchor: 'start' | 'middle' | 'end' } {
  if (x < 80) return { x: x - r, textAnchor: 'start' };
  if (x > width - 80) return { x: x + r, textAnchor: 'end' };
  return { x, textAnchor: 'middle' };
}
