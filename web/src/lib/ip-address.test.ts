import { describe, expect, it } from 'vitest';
import { isAddressOrCidr, isIpAddress } from './ip-address';

describe('addresses typed into the alert pages', () => {
  it('knows an IP address from a typo', () => {
    for (const good of ['192.0.2.7', '0.0.0.0', '255.255.255.255', '::1', '2001:db8::1', '::ffff:192.0.2.1'])
      expect(isIpAddress(good), good).toBe(true);
    for (const bad of [
      '',
      '192.0.2',
      '192.0.2.256',
      '01.2.3.4',
      '192.0.2.0/24',
      'fe80::1%eth0',
      '1:2:3',
      'host',
    ])
      expect(isIpAddress(bad), bad).toBe(false);
  });

  it('takes an address or a network for a suppression rule', () => {
    for (const good of [
      '192.0.2.7',
      '192.0.2.0/24',
      '10.0.0.0/8',
      '0.0.0.0/0',
      '192.0.2.7/32',
      '2001:db8::/32',
      '::1',
      '::/0',
      '2001:db8::1/128',
      // Host bits past the prefix: the server's matcher takes the network they are in.
      '192.0.2.7/24',
    ])
      expect(isAddressOrCidr(good), good).toBe(true);
    for (const bad of [
      '',
      '/24',
      '192.0.2.0/',
      '192.0.2.0/33',
      '192.0.2.0/024',
      '2001:db8::/129',
      '192.0.2.0/24/8',
      '192.0.2.0/ 24',
      'example.com/24',
      '192.0.2.*',
    ])
      expect(isAddressOrCidr(bad), bad).toBe(false);
  });
});
