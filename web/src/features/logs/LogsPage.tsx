/** Placeholder: replaced by the page's own work. */

export function LogsPage() {
  return <h1>LogsPage</h1>;
}
