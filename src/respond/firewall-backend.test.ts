import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../util/errors.js';
import {
  checkInterface,
  checkPort,
  networkOf,
  parseSource,
  secondsLeft,
  sourceKey,
} from './firewall-backend.js';
import { IptablesFirewall } from './iptables-firewall.js';
import { NftablesFirewall } from './nftables-firewall.js';

describe('parseSource', () => {
  it('takes addresses and prefixes of both families', () => {
    expect(parseSource('203.0.113.7')).toEqual({ family: 4, addr: '203.0.113.7', len: 32 });
    expect(parseSource('198.51.100.0/24')).toEqual({ family: 4, addr: '198.51.100.0', len: 24 });
    expect(parseSource('2001:db8::/64')).toEqual({ family: 6, addr: '2001:db8::', len: 64 });
  });

  it('refuses a prefix with bits set past its length, naming the prefix meant', () => {
    expect(() => parseSource('10.79.0.20/28')).toThrow(/the prefix is 10\.79\.0\.16\/28/);
    expect(() => parseSource('2001:db8::1/64')).toThrow(/the prefix is 2001:db8::\/64/);
    expect(parseSource('::ffff:192.0.2.0/120').len).toBe(120);
  });

  it('refuses anything else with BAD_REQUEST, saying how to write it', () => {
    for (const bad of [
      '',
      'example.com',
      '10.0.0.1/33',
      '10.0.0.0/0',
      '2001:db8::/129',
      '10.0.0.1/8/8',
      '10.0.0.1/x',
      '1.2.3.4; drop',
    ])
      expect(() => parseSource(bad)).toThrow(expect.objectContaining({ code: ErrorCode.BAD_REQUEST }));
  });
});

describe('sourceKey and networkOf', () => {
  it('give one key to every spelling of a source', () => {
    expect(sourceKey('2001:DB8:0::0/64')).toBe(sourceKey('2001:db8::/64'));
    expect(sourceKey('192.0.2.1')).not.toBe(sourceKey('192.0.2.1/31'.replace('1/31', '0/31')));
    expect(sourceKey('::ffff:192.0.2.1')).not.toBe(sourceKey('192.0.2.1'));
  });

  it('widen an address to its network', () => {
    expect(networkOf('2001:db8:1:2:3:4:5:6', 64)).toBe('2001:db8:1:2::/64');
    expect(networkOf('2001:db8:1:2:3:4:5:6', 128)).toBe('2001:db8:1:2:3:4:5:6');
    expect(networkOf('198.51.100.77', 24)).toBe('198.51.100.0/24');
  });
});

describe('checkPort and secondsLeft', () => {
  it('takes ports 1-65535 only', () => {
    expect(checkPort(22)).toBe(22);
    for (const bad of [0, 65_536, 1.5, Number.NaN]) expect(() => checkPort(bad)).toThrow(/not a port number/);
  });

  it('rounds a block up to whole seconds, never below one', () => {
    expect(secondsLeft(null, 0)).toBeNull();
    expect(secondsLeft(10_001, 0)).toBe(11);
    expect(secondsLeft(-5000, 0)).toBe(1);
  });
});

describe('checkInterface', () => {
  it('takes interface names as ip link shows them', () => {
    for (const name of ['eth0', 'wg0', 'br-lan', 'enp3s0.100', 'veth_1@x', 'eth0:1', 'abcdefghijklmno'])
      expect(checkInterface(name)).toBe(name);
  });

  it('refuses anything else with BAD_REQUEST, saying how to write it', () => {
    for (const bad of ['', 'eth 0', 'abcdefghijklmnop', 'eth0;drop', 'eth+', 'a/b', 'é0', '"eth0"', 'eth0\n'])
      expect(() => checkInterface(bad)).toThrow(
        expect.objectContaining({
          code: ErrorCode.BAD_REQUEST,
          message: expect.stringMatching(/not an interface name: write it as ip link shows it/) as unknown,
        }),
      );
  });

  it('refuses a name that starts with @, which nftables would read as a set', () => {
    expect(() => checkInterface('@wan')).toThrow(
      expect.objectContaining({
        code: ErrorCode.BAD_REQUEST,
        message: expect.stringMatching(/rename/) as unknown,
      }),
    );
  });
});

describe('a backend whose tool is missing', () => {
  for (const firewall of [
    new NftablesFirewall({ prefix: ['/nonexistent/bin/env'] }),
    new IptablesFirewall({ prefix: ['/nonexistent/bin/env'] }),
  ]) {
    it(`${firewall.name}: fails with IO_ERROR saying what to install`, async () => {
      await expect(firewall.apply({ blocked: [], closedPorts: [] })).rejects.toMatchObject({
        code: ErrorCode.IO_ERROR,
        message: expect.stringMatching(/install (nftables|iptables)/) as unknown,
      });
    });
  }
});
