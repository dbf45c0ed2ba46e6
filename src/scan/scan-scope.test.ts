import { networkInterfaces } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { formatIpv6, parseIp } from '../util/ip-address.js';
import {
  defaultScanScope,
  describeScope,
  outsideScope,
  scopeFrom,
  type HostInterfaces,
} from './scan-scope.js';
import { parseTargets } from './scan-targets.js';
import type { ScanTarget } from './scan-types.js';

/** A host with loopback, an office LAN, a public IPv6 prefix with a link-local address, and a VPN. */
const HOST: HostInterfaces = {
  lo: [
    { address: '127.0.0.1', netmask: '255.0.0.0' },
    { address: '::1', netmask: 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff' },
  ],
  eth0: [
    { address: '10.1.2.3', netmask: '255.255.255.0' },
    { address: '2001:db8:1:2::3', netmask: 'ffff:ffff:ffff:ffff::' },
    { address: 'fe80::a00:27ff:fe4e:66a1', netmask: 'ffff:ffff:ffff:ffff::' },
  ],
  wg0: [{ address: '172.16.9.1', netmask: '255.255.255.255' }],
  down0: undefined,
};

const target = (address: string): ScanTarget => ({ address, family: address.includes(':') ? 6 : 4 });
const outside = (addresses: string[], scope = defaultScanScope(HOST)): string[] =>
  outsideScope(addresses.map(target), scope).map((t) => t.address);

function failure(run: () => unknown): FlowTrackError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(FlowTrackError);
    return err as FlowTrackError;
  }
  throw new Error('expected a FlowTrackError');
}

describe('defaultScanScope', () => {
  it('is this host, loopback and the connected networks, without repeats', () => {
    expect(describeScope(defaultScanScope(HOST))).toEqual([
      '127.0.0.0/8',
      '::1',
      '127.0.0.1',
      '10.1.2.3',
      '2001:db8:1:2::3',
      'fe80::a00:27ff:fe4e:66a1',
      '172.16.9.1',
      '10.1.2.0/24',
      '2001:db8:1:2::/64',
    ]);
  });

  it("covers the host's own addresses, loopback and the LAN", () => {
    expect(
      outside([
        '127.0.0.1',
        '127.255.255.254',
        '::1',
        '10.1.2.3',
        '10.1.2.0',
        '10.1.2.255',
        '2001:db8:1:2::9',
        'fe80::a00:27ff:fe4e:66a1',
        '172.16.9.1',
      ]),
    ).toEqual([]);
  });

  it('leaves out the rest: other networks, neighbours on link-local, the far side of a VPN', () => {
    const others = [
      '10.1.3.1',
      '10.1.1.255',
      '8.8.8.8',
      '255.255.255.255',
      '2001:db8:1:3::1',
      'fe80::1',
      '172.16.9.2',
      '::2',
      '0.0.0.0',
    ];
    expect(outside(others)).toEqual(others);
  });

  it('checks an IPv4-mapped IPv6 address as the IPv4 address it reaches', () => {
    expect(outside(['::ffff:10.1.2.9', '::ffff:192.0.2.1'])).toEqual(['::ffff:192.0.2.1']);
  });

  it('keeps a wide connected network as the kernel says, and skips a netmask that is no prefix', () => {
    const scope = defaultScanScope({
      eth0: [
        { address: '10.200.3.4', netmask: '255.252.0.0' },
        { address: '192.0.2.9', netmask: '255.0.255.0' },
        { address: '198.51.100.9', netmask: '0.0.0.0' },
        { address: 'not-an-address', netmask: '255.255.255.0' },
        { address: '203.0.113.9', netmask: 'ffff::' },
      ],
    });
    expect(describeScope(scope)).toEqual([
      '127.0.0.0/8',
      '::1',
      '10.200.3.4',
      '192.0.2.9',
      '198.51.100.9',
      '203.0.113.9',
      '10.200.0.0/14',
    ]);
  });

  it("reads this machine's interfaces by default", () => {
    const own = Object.values(networkInterfaces())
      .flat()
      .flatMap((a) => (a ? [a.address.replace(/%.*$/, '')] : []));
    const scope = defaultScanScope();
    expect(outsideScope(own.map(target), scope)).toEqual([]);
    expect(outside(['127.0.0.1', '::1'], scope)).toEqual([]);
  });
});

describe('scopeFrom', () => {
  it("is the default when the admin lists nothing, or lists 'local' and 'connected'", () => {
    const expected = describeScope(defaultScanScope(HOST));
    expect(describeScope(scopeFrom({}, HOST))).toEqual(expected);
    expect(describeScope(scopeFrom({ allowedNetworks: ['Local', ' connected '] }, HOST))).toEqual(expected);
  });

  it("replaces the default with the admin's networks, written canonically", () => {
    const scope = scopeFrom({ allowedNetworks: ['192.0.2.0/24', '198.51.100.7', '2001:DB8:0::/48'] }, HOST);
    expect(describeScope(scope)).toEqual(['192.0.2.0/24', '198.51.100.7', '2001:db8::/48']);
    expect(outside(['192.0.2.200', '198.51.100.7', '2001:db8:0:ffff::1'], scope)).toEqual([]);
    expect(outside(['127.0.0.1', '10.1.2.3', '198.51.100.8', '2001:db9::1'], scope)).toEqual([
      '127.0.0.1',
      '10.1.2.3',
      '198.51.100.8',
      '2001:db9::1',
    ]);
  });

  it('mixes keywords and networks', () => {
    const scope = scopeFrom({ allowedNetworks: ['local', '10.0.0.0/8'] }, HOST);
    expect(describeScope(scope)).not.toContain('2001:db8:1:2::/64');
    expect(outside(['127.0.0.1', '10.9.9.9', '2001:db8:1:2::9'], scope)).toEqual(['2001:db8:1:2::9']);
  });

  it('allows nothing for an empty list', () => {
    expect(outside(['127.0.0.1', '10.1.2.3'], scopeFrom({ allowedNetworks: [] }, HOST))).toEqual([
      '127.0.0.1',
      '10.1.2.3',
    ]);
  });

  it('takes 0.0.0.0/0 and ::/0 as an explicit choice to allow everything', () => {
    const scope = scopeFrom({ allowedNetworks: ['0.0.0.0/0', '::/0'] }, HOST);
    expect(describeScope(scope)).toEqual(['0.0.0.0/0', '::/0']);
    expect(outside(['8.8.8.8', '255.255.255.255', '0.0.0.0', '2606:4700::1111', '::'], scope)).toEqual([]);
  });

  it('covers the edges of a prefix exactly', () => {
    const scope = scopeFrom({ allowedNetworks: ['192.0.2.6/31', '2001:db8::/127', '255.255.255.255'] }, HOST);
    expect(
      outside(
        ['192.0.2.5', '192.0.2.6', '192.0.2.7', '192.0.2.8', '2001:db8::1', '2001:db8::2', '255.255.255.255'],
        scope,
      ),
    ).toEqual(['192.0.2.5', '192.0.2.8', '2001:db8::2']);
  });

  it('reports every bad entry at once with BAD_CONFIG and what to write', () => {
    const err = failure(() =>
      scopeFrom({ allowedNetworks: ['10.0.0.0/8', 'intranet', '10.1.2.3/24', '192.0.2.0/33'] }, HOST),
    );
    expect(err.code).toBe(ErrorCode.BAD_CONFIG);
    expect(err.message).toMatch(/^scan\.allowedNetworks: /);
    expect(err.message).toMatch(/"intranet" is not an IP address or prefix/);
    expect(err.message).toMatch(
      /"10\.1\.2\.3\/24" has bits set past its prefix length: the prefix is 10\.1\.2\.0\/24/,
    );
    expect(err.message).toMatch(/"192\.0\.2\.0\/33" must be a whole number from 1 to 32/);
    expect(err.message).toMatch(/the keyword "local" \(this host\) or "connected"/);
  });
});

describe('outsideScope', () => {
  it('keeps the order of the targets it returns and counts an unreadable address as outside', () => {
    const scope = scopeFrom({ allowedNetworks: ['10.0.0.0/8'] }, HOST);
    expect(outside(['192.0.2.1', '10.0.0.1', 'garbage', '10.0.0.256', '2001:db8::1'], scope)).toEqual([
      '192.0.2.1',
      'garbage',
      '10.0.0.256',
      '2001:db8::1',
    ]);
  });

  it('reads every spelling of an IPv6 address alike, as parseIp does', () => {
    const scope = scopeFrom({ allowedNetworks: ['2001:db8::/32', '::ffff:0:0/96'] }, HOST);
    let seed = 7;
    const next = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let round = 0; round < 500; round++) {
      const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? 0 : next()));
      if (round % 2 === 0) [groups[0], groups[1]] = [0x2001, 0xdb8];
      const inside = groups[0] === 0x2001 && groups[1] === 0xdb8;
      const full = groups.map((g) => g.toString(16).padStart(4, '0')).join(':');
      const words = Uint32Array.from(
        [0, 1, 2, 3],
        (k) => ((groups[2 * k]! << 16) | groups[2 * k + 1]!) >>> 0,
      );
      for (const spelling of [
        full,
        full.toUpperCase(),
        formatIpv6(words),
        groups.map((g) => g.toString(16)).join(':'),
      ]) {
        expect(parseIp(spelling), spelling).not.toBeNull();
        expect(outside([spelling], scope).length, spelling).toBe(inside ? 0 : 1);
      }
    }
    expect(outside(['::ffff:198.51.100.1', '0:0:0:0:0:ffff:c633:6401', '2001:db8::1%eth0'], scope)).toEqual(
      [],
    );
  });

  it('counts every malformed IPv6 spelling as outside, even of a scope that allows everything', () => {
    const everything = scopeFrom({ allowedNetworks: ['0.0.0.0/0', '::/0'] }, HOST);
    const malformed = [
      '',
      ':',
      ':::',
      ':1',
      '1:',
      '1::2::3',
      '1:2:3:4:5:6:7',
      '1:2:3:4:5:6:7:8:9',
      '1::2:3:4:5:6:7:8',
      '12345::1',
      'g::1',
      '::ffff:1.2.3',
      '::ffff:1.2.3.256',
      '1:2:3:4:5:6:7:1.2.3.4',
      '::1.2.3.4:5',
      '%eth0',
      '1.2.3.4.5',
      '01.2.3.4.',
    ];
    for (const text of malformed) expect(parseIp(text.replace(/%.*$/, '')), text).toBeNull();
    expect(outside(malformed, everything)).toEqual(malformed);
    expect(
      outside(['::', '::1', '1::', '1:2:3:4:5:6:7::', '::2:3:4:5:6:7:8', '::1.2.3.4'], everything),
    ).toEqual([]);
  });

  it('checks 65,536 IPv4 and 65,536 IPv6 targets in well under 50 ms each', async () => {
    const scope = scopeFrom(
      { allowedNetworks: ['192.0.2.0/24', '198.51.100.0/24', '10.0.0.0/9', '10.128.0.0/16', 'fd00::/16'] },
      HOST,
    );
    const v4 = await parseTargets(['10.128.0.0/16']);
    const v6 = await parseTargets(['fd00::/112']);
    // The best of five runs: the first ones pay for compiling, and a busy test machine adds noise.
    const fastest = (targets: ScanTarget[]): number => {
      let best = Infinity;
      for (let run = 0; run < 5; run++) {
        const started = performance.now();
        const out = outsideScope(targets, scope);
        best = Math.min(best, performance.now() - started);
        expect(out).toEqual([]);
      }
      return best;
    };
    expect(fastest(v4)).toBeLessThan(50);
    expect(fastest(v6)).toBeLessThan(50);
  });
});
