/** What the colours of the protocol layers mean. */

import { PROTOCOLS } from '../../lib/live-rates';

const NAMES = { tcp: 'TCP', udp: 'UDP', icmp: 'ICMP', other: 'Other' } as const;

export function ProtocolLegend() {
  return (
    <ul className="legend" aria-label="Protocols">
      {PROTOCOLS.map((p) => (
        <li key={p}>
          <span className={`legend-swatch proto-${p}`} aria-hidden="true" />
          {NAMES[p]}
        </li>
      ))}
    </ul>
  );
}
