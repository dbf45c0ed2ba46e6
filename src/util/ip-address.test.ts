import { describe, expect, it } from 'vitest';
import { formatIpv4, formatIpv6 } from './ip-address.js';

function words(...groups: number[]): Uint32Array {
  const w = new Uint32Array(4);
  for (let i = 0; i < 4; i++) w[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return w;
}

describe('formatIpv4', () => {
  it('prints a dotted quad, including addresses with the top bit set', () => {
    expect(formatIpv4(0xc0000201)).toBe('192.0.2.1');
    expect(formatIpv4(0xffffffff)).toBe('255.255.255.255');
    expect(formatIpv4(0)).toBe('0.0.0.0');
  });
});

describe('formatIpv6 (RFC 5952)', () => {
  it('compresses the longest run of zero groups, the first when tied', () => {
    expect(formatIpv6(words(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1))).toBe('2001:db8::1:0:0:1');
    expect(formatIpv6(words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1))).toBe('2001:db8::1');
  });
  it('does not compress a single zero group', () => {
    expect(formatIpv6(words(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1))).toBe('2001:db8:0:1:1:1:1:1');
  });
  it('prints the unspecified and loopback addresses', () => {
    expect(formatIpv6(words(0, 0, 0, 0, 0, 0, 0, 0))).toBe('::');
    expect(formatIpv6(words(0, 0, 0, 0, 0, 0, 0, 1))).toBe('::1');
  });
  it('keeps IPv4-mapped addresses dotted', () => {
    expect(formatIpv6(words(0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201))).toBe('::ffff:192.0.2.1');
  });
});
