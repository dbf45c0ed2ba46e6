/** Placeholder: replaced by the page's own work. */

export function AlertDetailPage({ id }: { id: string }) {
  return <h1>Alert {id}</h1>;
}
