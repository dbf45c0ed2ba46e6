/** Placeholder: replaced by the page's own work. */

export function BackupsPage() {
  return <h1>BackupsPage</h1>;
}
