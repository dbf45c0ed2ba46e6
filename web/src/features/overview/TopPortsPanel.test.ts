import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { TopPortsPanel, type PortRow } from './TopPortsPanel';

const render = (rows: readonly PortRow[] | null): string =>
  renderToStaticMarkup(createElement(TopPortsPanel, { rows }));

describe('TopPortsPanel', () => {
  it('lists each port with its service, bytes and flows, linking to its flows', () => {
    const html = render([
      { protocol: 'tcp', port: 443, packets: 9000, bytes: 5_000_000, flows: 1200 },
      { protocol: 'udp', port: 40123, packets: 10, bytes: 600, flows: 3 },
    ]);
    expect(html).toContain('aria-label="Top ports"');
    expect(html).toContain('href="/flows?port=443&amp;protocol=tcp"');
    expect(html).toContain('href="/flows?port=40123&amp;protocol=udp"');
    expect(html).toContain('443/tcp');
    expect(html).toContain('>HTTPS<');
    // An uncommon port is not given a guessed name.
    expect(html.match(/tag-muted/g)).toHaveLength(1);
  });

  it('says why it is empty: waiting, or no TCP or UDP traffic in the range', () => {
    expect(render(null)).toContain('Waiting for traffic');
    expect(render([])).toContain('No TCP or UDP traffic in this range');
    expect(render([])).not.toContain('<table');
  });
});
