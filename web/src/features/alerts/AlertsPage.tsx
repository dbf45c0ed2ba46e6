/** Placeholder: replaced by the page's own work. */

export function AlertsPage() {
  return <h1>AlertsPage</h1>;
}
