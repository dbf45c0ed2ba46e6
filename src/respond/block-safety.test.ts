import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { describeUnlessMissing, hasTool } from '../../test/helpers/system-tools.js';
import { ErrorCode } from '../util/errors.js';
import { hostProtectedAddresses, whyNotBlock, type ProtectedAddresses } from './block-safety.js';

const PROTECTED: ProtectedAddresses = {
  own: ['192.0.2.2', '2001:db8:1::2'],
  gateways: ['192.0.2.1', 'fe80::1'],
  dnsServers: ['198.51.100.53'],
  adminSessions: ['203.0.113.77'],
  allowList: ['10.20.0.0/16', '2001:db8:aa::/48'],
};

describe('whyNotBlock', () => {
  it('lets an ordinary attacker (and a prefix of its own) be blocked', () => {
    expect(whyNotBlock('203.0.113.5', PROTECTED)).toBeNull();
    expect(whyNotBlock('203.0.113.0/28', PROTECTED)).toBeNull();
    expect(whyNotBlock('2001:db8:bb::/64', PROTECTED)).toBeNull();
  });

  it('refuses loopback, the host, its gateway and DNS, an admin and the allow-list, each with its reason', () => {
    const cases: [string, RegExp][] = [
      ['127.0.0.5', /loopback/],
      ['::1', /loopback/],
      ['192.0.2.2', /address of this host/],
      ['2001:db8:1::2', /address of this host/],
      ['192.0.2.1', /default gateway/],
      ['fe80::1', /default gateway/],
      ['198.51.100.53', /DNS server/],
      ['203.0.113.77', /logged-in admin/],
      ['10.20.3.4', /allow-list/],
      ['2001:db8:aa:1::/64', /allow-list/],
    ];
    for (const [target, reason] of cases) expect(whyNotBlock(target, PROTECTED), target).toMatch(reason);
  });

  it('refuses a prefix that covers a protected address or overlaps the allow-list', () => {
    expect(whyNotBlock('192.0.2.0/24', PROTECTED)).toMatch(/192\.0\.2\.2, an address of this host/);
    expect(whyNotBlock('203.0.113.64/26', PROTECTED)).toMatch(/203\.0\.113\.77/);
    expect(whyNotBlock('10.0.0.0/8', PROTECTED)).toMatch(/10\.20\.0\.0\/16 on the allow-list/);
    expect(whyNotBlock('2001:db8::/32', PROTECTED)).toMatch(/this host|allow-list/);
  });

  it('protects the whole of an allow-listed prefix written with host bits', () => {
    expect(whyNotBlock('10.30.3.4', { ...PROTECTED, allowList: ['10.30.1.0/16'] })).toMatch(/allow-list/);
  });

  it('compares IPv4-in-IPv6 and compressed forms by their value', () => {
    const protect = { ...PROTECTED, adminSessions: ['::ffff:203.0.113.9'] };
    expect(whyNotBlock('::ffff:cb00:7109', protect)).toMatch(/logged-in admin/);
    expect(whyNotBlock('2001:0db8:0001:0000:0000:0000:0000:0002', PROTECTED)).toMatch(/this host/);
  });

  it('refuses what is not an address with BAD_REQUEST', () => {
    expect(() => whyNotBlock('evil.example', PROTECTED)).toThrow(
      expect.objectContaining({ code: ErrorCode.BAD_REQUEST }),
    );
  });
});

describe('hostProtectedAddresses', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowtrack-safety-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads default gateways and DNS servers from the kernel tables and resolv.conf', () => {
    const route = join(dir, 'route');
    writeFileSync(
      route,
      'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n' +
        'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n' +
        'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n',
    );
    const ipv6Route = join(dir, 'ipv6_route');
    writeFileSync(
      ipv6Route,
      '00000000000000000000000000000000 00 00000000000000000000000000000000 00 fd000000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n' +
        'fd000000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 eth0\n',
    );
    const resolvConf = join(dir, 'resolv.conf');
    writeFileSync(
      resolvConf,
      '# comment\nnameserver 10.255.255.53\nnameserver fe80::53%eth0\nsearch example\n',
    );
    const found = hostProtectedAddresses({ route, ipv6Route, resolvConf });
    expect(found.gateways).toEqual(['192.0.2.1', 'fd00:0:0:0:0:0:0:1']);
    expect(found.dnsServers).toEqual(['10.255.255.53', 'fe80::53']);
    expect(whyNotBlock('fd00::1', { ...found, adminSessions: [], allowList: [] })).toMatch(/default gateway/);
  });
});

describeUnlessMissing(
  hasTool('ip') ? null : 'ip',
  'install iproute2 (scripts/setup.sh --test does)',
  'hostProtectedAddresses on this machine',
  () => {
    it('agrees with `ip` and resolv.conf', () => {
      const found = hostProtectedAddresses();
      const addresses = execFileSync('ip', ['-o', 'addr'], { encoding: 'utf8' })
        .split('\n')
        .map((l) => l.trim().split(/\s+/)[3]?.split('/')[0])
        .filter((a): a is string => a !== undefined);
      for (const a of addresses) expect(found.own).toContain(a);
      const defaults = execFileSync('ip', ['route', 'show', 'default'], { encoding: 'utf8' });
      for (const via of defaults.matchAll(/via (\S+)/g)) expect(found.gateways).toContain(via[1]);
      const resolv = readFileSync('/etc/resolv.conf', 'utf8');
      for (const m of resolv.matchAll(/^nameserver\s+([\d.]+)\s*$/gm))
        expect(found.dnsServers).toContain(m[1]);
    });
  },
);
