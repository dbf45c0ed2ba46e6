import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../util/errors.js';
import { DryRunFirewall } from './dry-run-firewall.js';

describe('DryRunFirewall', () => {
  it('keeps what a real backend would enforce and records each change, touching nothing', async () => {
    let now = 1_000_000;
    const firewall = new DryRunFirewall({ now: () => now });
    expect(await firewall.read()).toBeNull();
    await firewall.apply({ blocked: [], closedPorts: [{ protocol: 'tcp', port: 23 }] });
    await firewall.block([
      { address: '203.0.113.5', expiresAt: null },
      { address: '2001:db8::/64', expiresAt: now + 10_000 },
    ]);
    expect(await firewall.read()).toEqual({
      blocked: [
        { address: '203.0.113.5', expiresAt: null },
        { address: '2001:db8::/64', expiresAt: 1_010_000 },
      ],
      closedPorts: [{ protocol: 'tcp', port: 23 }],
    });
    // The same prefix written another way is the same block.
    await firewall.unblock(['2001:0db8:0:0::/64']);
    expect((await firewall.read())?.blocked).toEqual([{ address: '203.0.113.5', expiresAt: null }]);
    await firewall.block([{ address: '198.51.100.7', expiresAt: now + 5000 }]);
    now += 5000;
    expect((await firewall.read())?.blocked.map((b) => b.address)).toEqual(['203.0.113.5']);
    await firewall.flush();
    expect(await firewall.read()).toBeNull();
    expect(firewall.actions.map((a) => `${a.action}: ${a.detail}`)).toEqual([
      'apply: tcp/23',
      'block: 203.0.113.5, 2001:db8::/64',
      'unblock: 2001:0db8:0:0::/64',
      'block: 198.51.100.7',
      'flush: ',
    ]);
  });

  it('keeps blocks and closed ports limited to an interface, one per address and interface', async () => {
    const firewall = new DryRunFirewall({ now: () => 0 });
    await firewall.apply({
      blocked: [{ address: '203.0.113.5', expiresAt: null, interface: 'eth0' }],
      closedPorts: [{ protocol: 'udp', port: 161, interface: 'wan0' }],
    });
    await firewall.block([
      { address: '203.0.113.5', expiresAt: 9000, interface: 'wg0' },
      { address: '203.0.113.5', expiresAt: null },
      { address: '2001:db8::/64', expiresAt: null, interface: 'eth0' },
    ]);
    expect(await firewall.read()).toEqual({
      blocked: [
        { address: '203.0.113.5', expiresAt: null, interface: 'eth0' },
        { address: '203.0.113.5', expiresAt: 9000, interface: 'wg0' },
        { address: '203.0.113.5', expiresAt: null },
        { address: '2001:db8::/64', expiresAt: null, interface: 'eth0' },
      ],
      closedPorts: [{ protocol: 'udp', port: 161, interface: 'wan0' }],
    });
    // Blocking again on the same interface replaces that block only.
    await firewall.block([{ address: '203.0.113.5', expiresAt: 5000, interface: 'eth0' }]);
    expect((await firewall.read())?.blocked[0]).toEqual({
      address: '203.0.113.5',
      expiresAt: 5000,
      interface: 'eth0',
    });
    // Unblocking lifts the address on every interface, however it is written.
    await firewall.unblock(['203.0.113.5', '2001:DB8:0::/64']);
    expect((await firewall.read())?.blocked).toEqual([]);
    expect(firewall.actions.map((a) => `${a.action}: ${a.detail}`).slice(0, 2)).toEqual([
      'apply: 203.0.113.5 on eth0, udp/161 on wan0',
      'block: 203.0.113.5 on wg0, 203.0.113.5, 2001:db8::/64 on eth0',
    ]);
  });

  it('checks its input as the real backends do', async () => {
    const firewall = new DryRunFirewall();
    await expect(firewall.block([{ address: 'not-an-ip', expiresAt: null }])).rejects.toMatchObject({
      code: ErrorCode.BAD_REQUEST,
    });
    await expect(
      firewall.apply({ blocked: [], closedPorts: [{ protocol: 'udp', port: 70_000 }] }),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    await expect(
      firewall.block([{ address: '203.0.113.5', expiresAt: null, interface: 'eth0; drop' }]),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    await expect(
      firewall.apply({ blocked: [], closedPorts: [{ protocol: 'tcp', port: 22, interface: '' }] }),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    // A bad entry keeps the good ones of the same call out, as the real backends' transactions do.
    await firewall.apply({ blocked: [], closedPorts: [] });
    await expect(
      firewall.block([
        { address: '203.0.113.5', expiresAt: null },
        { address: '203.0.113.6', expiresAt: null, interface: 'bad name' },
      ]),
    ).rejects.toMatchObject({ code: ErrorCode.BAD_REQUEST });
    expect((await firewall.read())?.blocked).toEqual([]);
  });
});
