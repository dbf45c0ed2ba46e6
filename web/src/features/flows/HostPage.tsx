/** Placeholder: replaced by the page's own work. */

export function HostPage({ address }: { address: string }) {
  return <h1>Host {address}</h1>;
}
