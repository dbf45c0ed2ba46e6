import { describe, expect, it } from 'vitest';
import { formatIp, formatIpv4, formatIpv6, parseIp } from './ip-address.js';

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

describe('parseIp', () => {
  it('reads back what formatIp writes, for random IPv4 and IPv6 addresses and zero runs', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed;
    };
    for (let i = 0; i < 2000; i++) {
      const version = i % 2 === 0 ? 4 : 6;
      // Zero words in half the IPv6 cases, so that '::' lands at the start, middle and end.
      const words = Uint32Array.from({ length: 4 }, (_, w) =>
        version === 4 && w > 0 ? 0 : (next() & 1) === 1 ? 0 : next(),
      );
      const text = formatIp(version, words);
      const parsed = parseIp(text);
      expect(parsed, text).not.toBeNull();
      expect(parsed?.version).toBe(version);
      expect([...(parsed?.words ?? [])], text).toEqual([...words]);
    }
  });

  it('reads the IPv4-mapped and upper-case forms', () => {
    expect([...(parseIp('::ffff:192.0.2.1')?.words ?? [])]).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect([...(parseIp('2001:DB8::1')?.words ?? [])]).toEqual([0x20010db8, 0, 0, 1]);
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', '1.2.3', '256.1.1.1', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', 'host'])
      expect(parseIp(bad), bad).toBeNull();
  });
});
