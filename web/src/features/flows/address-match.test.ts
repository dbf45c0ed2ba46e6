import { describe, expect, it } from 'vitest';
import { parseAddress, sourceCovers } from './address-match';

describe('sourceCovers', () => {
  it('matches an address by itself and by the prefixes that hold it', () => {
    expect(sourceCovers('203.0.113.7', '203.0.113.7')).toBe(true);
    expect(sourceCovers('203.0.113.0/24', '203.0.113.7')).toBe(true);
    expect(sourceCovers('203.0.113.0/25', '203.0.113.200')).toBe(false);
    expect(sourceCovers('10.0.0.0/8', '10.255.1.2')).toBe(true);
    expect(sourceCovers('0.0.0.0/0', '192.0.2.1')).toBe(true);
    expect(sourceCovers('203.0.113.7/32', '203.0.113.8')).toBe(false);
  });

  it('reads IPv6 in any spelling and never matches across families', () => {
    expect(sourceCovers('2001:db8:77::/48', '2001:db8:77:1::5')).toBe(true);
    expect(sourceCovers('2001:DB8:0:0:0:0:0:1', '2001:db8::1')).toBe(true);
    expect(sourceCovers('2001:db8::/32', '2001:db9::1')).toBe(false);
    expect(sourceCovers('::ffff:192.0.2.0/120', '::ffff:192.0.2.9')).toBe(true);
    expect(sourceCovers('::/0', '192.0.2.1')).toBe(false);
    expect(sourceCovers('192.0.2.0/24', '::ffff:192.0.2.9')).toBe(false);
  });

  it('matches nothing for what is not an address or prefix', () => {
    for (const bad of [
      '',
      'host.example',
      '192.0.2.0/33',
      '192.0.2.0/x',
      '1.2.3.4/8/8',
      'fe80::1%eth0',
      '1:2:3:4:5:6:7:8:9',
    ])
      expect(sourceCovers(bad, '192.0.2.1'), bad).toBe(false);
    expect(parseAddress('256.1.1.1')).toBeNull();
    expect(parseAddress('1::2::3')).toBeNull();
    expect(parseAddress('::')).toEqual({ bits: 128, value: 0n });
  });
});
