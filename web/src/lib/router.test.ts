import { describe, expect, it } from 'vitest';
import { matchPath } from './router';

describe('matchPath', () => {
  it('reads the parameters of a matching path', () => {
    expect(matchPath('/alerts/:id', '/alerts/a1b2')).toEqual({ id: 'a1b2' });
    expect(matchPath('/hosts/:address', '/hosts/fe80%3A%3A1')).toEqual({ address: 'fe80::1' });
  });

  it('ignores a trailing slash and refuses other paths', () => {
    expect(matchPath('/firewall', '/firewall/')).toEqual({});
    expect(matchPath('/', '/')).toEqual({});
    expect(matchPath('/', '/alerts')).toBeNull();
    expect(matchPath('/alerts/:id', '/alerts')).toBeNull();
    expect(matchPath('/alerts/:id', '/alerts/')).toBeNull();
    expect(matchPath('/alerts/:id', '/flows/1')).toBeNull();
  });
});
