import { describe, expect, it } from 'vitest';
import { serviceName } from './service-names';

describe('serviceName', () => {
  it('names the common services of each protocol', () => {
    expect(serviceName('tcp', 443)).toBe('HTTPS');
    expect(serviceName('tcp', 22)).toBe('SSH');
    expect(serviceName('udp', 53)).toBe('DNS');
    expect(serviceName('TCP', 3389)).toBe('RDP');
  });

  it('tells the protocols apart: a port means another service, or none, on the other one', () => {
    expect(serviceName('udp', 443)).toBe('QUIC');
    expect(serviceName('udp', 22)).toBeNull();
    expect(serviceName('tcp', 123)).toBeNull();
  });

  it('leaves uncommon ports, port 0 and other protocols unnamed', () => {
    expect(serviceName('tcp', 31337)).toBeNull();
    expect(serviceName('tcp', 0)).toBeNull();
    expect(serviceName('sctp', 443)).toBeNull();
    expect(serviceName('icmp', 0)).toBeNull();
    // Not a key of the map's object prototype either.
    expect(serviceName('constructor', 1)).toBeNull();
  });
});
