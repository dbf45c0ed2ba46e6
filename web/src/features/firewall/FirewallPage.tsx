/** Placeholder: replaced by the page's own work. */

export function FirewallPage() {
  return <h1>FirewallPage</h1>;
}
