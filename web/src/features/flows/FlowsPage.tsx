/**
 * /flows: every stored flow, filtered by host, port, protocol, state, size, time and the sensor
 * it came from, sorted by time, bytes, packets or duration, a page at a time, under a graph of who
 * talks to whom. The filters and the sort are the URL's query
 * (`/flows?address=10.0.0.5&port=22&sort=bytes`, `/flows?sensor=edge-1`), so other pages link
 * straight to a selection and a view can be bookmarked or shared.
 */

import { useQueryParams } from '../../lib/router';
import { filterChanges, flowsApiPath, readFlowView, sortChanges } from './flow-filters';
import { FlowFilterForm } from './FlowFilterForm';
import { FlowTable } from './FlowTable';
import { TalkGraphPanel } from './TalkGraphPanel';
import './flows.css';

export function FlowsPage() {
  const [query, setQuery] = useQueryParams();
  const view = readFlowView(query);
  return (
    <div className="stack">
      <header className="page-header">
        <h1>Flows</h1>
      </header>
      <FlowFilterForm
        filters={view.filters}
        onApply={(values) => {
          setQuery(filterChanges(values));
        }}
      />
      <TalkGraphPanel view={view} />
      <section className="panel" aria-label="Flow list">
        {/* A new list for new filters or a new sort: its paging starts again at the first page. */}
        <FlowTable
          key={flowsApiPath(view)}
          view={view}
          onSort={(column) => {
            setQuery(sortChanges(view, column));
          }}
        />
      </section>
    </div>
  );
}
