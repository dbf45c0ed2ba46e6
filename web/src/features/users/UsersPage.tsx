/** Placeholder: replaced by the page's own work. */

export function UsersPage() {
  return <h1>UsersPage</h1>;
}
