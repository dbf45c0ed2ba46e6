/**
 * The interface list and the default capture interface from fixture copies of the kernel's
 * files (/proc/net/route, /proc/net/ipv6_route, /sys/class/net/<name>/...) in a temp folder,
 * written in the kernel's own layout.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  defaultCaptureInterface,
  defaultRouteInterface,
  listInterfaces,
  type InterfaceSources,
} from './network-interfaces.js';

const tmp = mkdtempSync(join(tmpdir(), 'flowtrack-interfaces-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

const ROUTE_HEADER =
  'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       ';

/** A /proc/net/route line (hex fields as the kernel prints them, little-endian addresses). */
function route(iface: string, destination: string, gateway: string, mask: string): string {
  return `${iface}\t${destination}\t${gateway}\t0003\t0\t0\t100\t${mask}\t0\t0\t0                                                                               `;
}

const ZERO6 = '0'.repeat(32);

/** A /proc/net/ipv6_route line. */
function route6(iface: string, destination: string, prefix: string, flags = '00000003'): string {
  return `${destination} ${prefix} ${ZERO6} 00 fe800000000000000000000000000001 00000400 00000001 00000000 ${flags} ${iface.padStart(8)}`;
}

/** The loopback's unreachable ::/0 entry every Linux host has (RTF_REJECT). */
const LO_REJECT6 = `${ZERO6} 00 ${ZERO6} 00 ${ZERO6} ffffffff 00000001 00000000 00200200       lo`;

interface FakeInterface {
  name: string;
  operstate?: string;
  /** ARPHRD type: 1 Ethernet, 772 loopback. */
  type?: number;
  mtu?: string;
  address?: string;
  rxBytes?: number;
  txBytes?: number;
}

let hosts = 0;

/** A fake host's /proc and /sys files; a `null` route file is missing. */
function fakeHost(
  interfaces: FakeInterface[],
  routes: string[] | null,
  routes6: string[] | null,
): InterfaceSources {
  const root = join(tmp, `host-${++hosts}`);
  const sources: InterfaceSources = {
    sysClassNet: join(root, 'sys/class/net'),
    procNetRoute: join(root, 'proc/net/route'),
    procNetIpv6Route: join(root, 'proc/net/ipv6_route'),
  };
  mkdirSync(join(root, 'proc/net'), { recursive: true });
  mkdirSync(sources.sysClassNet, { recursive: true });
  if (routes) writeFileSync(sources.procNetRoute, [ROUTE_HEADER, ...routes, ''].join('\n'));
  if (routes6) writeFileSync(sources.procNetIpv6Route, [...routes6, ''].join('\n'));
  for (const i of interfaces) {
    const dir = join(sources.sysClassNet, i.name);
    mkdirSync(join(dir, 'statistics'), { recursive: true });
    if (i.operstate !== undefined) writeFileSync(join(dir, 'operstate'), `${i.operstate}\n`);
    writeFileSync(join(dir, 'type'), `${i.type ?? 1}\n`);
    if (i.mtu !== undefined) writeFileSync(join(dir, 'mtu'), `${i.mtu}\n`);
    if (i.address !== undefined) writeFileSync(join(dir, 'address'), `${i.address}\n`);
    if (i.rxBytes !== undefined) writeFileSync(join(dir, 'statistics/rx_bytes'), `${i.rxBytes}\n`);
    if (i.txBytes !== undefined) writeFileSync(join(dir, 'statistics/tx_bytes'), `${i.txBytes}\n`);
  }
  return sources;
}

const LOOPBACK: FakeInterface = {
  name: 'lo',
  operstate: 'unknown',
  type: 772,
  mtu: '65536',
  address: '00:00:00:00:00:00',
};

/** Names no real host here has, so that os.networkInterfaces() adds no address to them. */
const ETH = 'ftest-eth0';
const WLAN = 'ftest-wlan0';
const DOCKER = 'ftest-docker0';

describe('defaultRouteInterface', () => {
  it("is the IPv4 default route's interface, before IPv6's", () => {
    const host = fakeHost(
      [],
      [route(WLAN, '0002A8C0', '00000000', '00FFFFFF'), route(ETH, '00000000', '0102A8C0', '00000000')],
      [LO_REJECT6, route6(WLAN, ZERO6, '00')],
    );
    expect(defaultRouteInterface(host)).toBe(ETH);
  });

  it("is the IPv6 default route's interface on an IPv6-only host, passing over lo's reject route", () => {
    const host = fakeHost(
      [],
      [route(ETH, '0002A8C0', '00000000', '00FFFFFF')],
      [
        LO_REJECT6,
        route6(WLAN, 'fe800000000000000000000000000000', '40'),
        route6(WLAN, '20010db8000000000000000000000000', '20'),
        route6(WLAN, ZERO6, '00'),
      ],
    );
    expect(defaultRouteInterface(host)).toBe(WLAN);
  });

  it('is null with no default route, or when the route files cannot be read', () => {
    expect(
      defaultRouteInterface(
        fakeHost(
          [],
          [route(ETH, '0002A8C0', '00000000', '00FFFFFF')],
          [LO_REJECT6, route6(ETH, ZERO6, '40')],
        ),
      ),
    ).toBeNull();
    // A destination of 0 with a mask is a network, not the default route.
    expect(
      defaultRouteInterface(fakeHost([], [route(ETH, '00000000', '0102A8C0', '000000FF')], [])),
    ).toBeNull();
    expect(defaultRouteInterface(fakeHost([], null, null))).toBeNull();
    expect(defaultRouteInterface(fakeHost([], [], []))).toBeNull();
  });

  it("reads this host's own route files without failing", () => {
    const name = defaultRouteInterface();
    expect(name === null || typeof name === 'string').toBe(true);
  });
});

describe('listInterfaces', () => {
  it("lists every interface with the kernel's figures, the default route's first, then by name", () => {
    const host = fakeHost(
      [
        LOOPBACK,
        { name: WLAN, operstate: 'up', mtu: '1500', address: '02:00:00:00:00:02', rxBytes: 10, txBytes: 20 },
        {
          name: ETH,
          operstate: 'up',
          mtu: '9000',
          address: '02:00:00:00:00:01',
          rxBytes: 123456789,
          txBytes: 42,
        },
        { name: DOCKER, operstate: 'down', mtu: 'not a number', address: '' },
      ],
      [route(WLAN, '00000000', '0102A8C0', '00000000')],
      [LO_REJECT6],
    );
    const list = listInterfaces(host);
    expect(list.map((i) => i.name)).toEqual([WLAN, DOCKER, ETH, 'lo']);
    expect(list[0]).toEqual({
      name: WLAN,
      state: 'up',
      loopback: false,
      mtu: 1500,
      mac: '02:00:00:00:00:02',
      addresses: [],
      rxBytes: 10,
      txBytes: 20,
      defaultRoute: true,
    });
    // What cannot be read or parsed is left empty.
    expect(list[1]).toEqual({
      name: DOCKER,
      state: 'down',
      loopback: false,
      mtu: null,
      mac: null,
      addresses: [],
      rxBytes: null,
      txBytes: null,
      defaultRoute: false,
    });
    expect(list[2]).toMatchObject({ name: ETH, mtu: 9000, rxBytes: 123456789, defaultRoute: false });
    expect(list[3]).toMatchObject({ name: 'lo', state: 'unknown', loopback: true, mtu: 65536 });
  });

  it('knows a loopback by its type whatever its name, and a missing operstate is unknown', () => {
    const host = fakeHost([{ name: 'ftest-lo1', type: 772 }, { name: ETH }], null, null);
    expect(listInterfaces(host).map((i) => [i.name, i.loopback, i.state])).toEqual([
      [ETH, false, 'unknown'],
      ['ftest-lo1', true, 'unknown'],
    ]);
  });

  it("falls back to Node's list of interfaces when /sys/class/net cannot be read", () => {
    const host: InterfaceSources = {
      sysClassNet: join(tmp, 'no-such-folder'),
      procNetRoute: join(tmp, 'no-such-route'),
      procNetIpv6Route: join(tmp, 'no-such-route6'),
    };
    expect(listInterfaces(host).map((i) => i.name)).toEqual(
      Object.keys(networkInterfaces()).sort((a, b) => a.localeCompare(b)),
    );
  });
});

describe('defaultCaptureInterface', () => {
  it("is the default route's interface when there is one (IPv4, else IPv6)", () => {
    const interfaces = [LOOPBACK, { name: ETH, operstate: 'up' }, { name: WLAN, operstate: 'up' }];
    expect(
      defaultCaptureInterface(fakeHost(interfaces, [route(WLAN, '00000000', '0102A8C0', '00000000')], [])),
    ).toBe(WLAN);
    expect(defaultCaptureInterface(fakeHost(interfaces, [], [LO_REJECT6, route6(WLAN, ZERO6, '00')]))).toBe(
      WLAN,
    );
  });

  it('without a default route, is the first interface that is up and not loopback', () => {
    const host = fakeHost(
      [
        LOOPBACK,
        { name: 'ftest-a-down', operstate: 'down' },
        { name: 'ftest-b-lo', operstate: 'up', type: 772 },
        { name: 'ftest-c-up', operstate: 'up' },
        { name: 'ftest-d-up', operstate: 'up' },
      ],
      [route('ftest-c-up', '0002A8C0', '00000000', '00FFFFFF')],
      [LO_REJECT6],
    );
    expect(defaultCaptureInterface(host)).toBe('ftest-c-up');
  });

  it("is 'any' when nothing but loopback and interfaces that are down exist", () => {
    const host = fakeHost(
      [LOOPBACK, { name: ETH, operstate: 'down' }, { name: WLAN, operstate: 'dormant' }],
      [],
      [],
    );
    expect(defaultCaptureInterface(host)).toBe('any');
    expect(defaultCaptureInterface(fakeHost([], null, null))).toBe('any');
  });
});
