/** Placeholder: replaced by the page's own work. */

export function FlowsPage() {
  return <h1>FlowsPage</h1>;
}
