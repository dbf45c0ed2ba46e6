import { describe, expect, it } from 'vitest';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { parseTargets, type ResolveName } from './scan-targets.js';
import type { ScanTarget } from './scan-types.js';

/** A resolver that knows a few names and answers nothing else, so no test depends on real DNS. */
const fakeDns: ResolveName = (name) => {
  const zone: Record<string, { address: string; family: 4 | 6 }[]> = {
    'web.example': [
      { address: '192.0.2.10', family: 4 },
      { address: '2001:db8::10', family: 6 },
    ],
    'db.example': [{ address: '192.0.2.20', family: 4 }],
    'alias.example': [{ address: '192.0.2.10', family: 4 }],
    'empty.example': [],
    'broken.example': [{ address: 'not-an-ip', family: 4 }],
  };
  const found = zone[name];
  if (found === undefined) {
    return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' }));
  }
  return Promise.resolve(found);
};

const addresses = async (...specs: string[]): Promise<string[]> =>
  (await parseTargets(specs, { resolve: fakeDns })).map((t) => t.address);

async function rejection(specs: string[], options = {}): Promise<FlowTrackError> {
  const err: unknown = await parseTargets(specs, { resolve: fakeDns, ...options }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(FlowTrackError);
  return err as FlowTrackError;
}

describe('parseTargets: addresses', () => {
  it('takes IPv4 and IPv6 addresses, writing IPv6 in its short form', async () => {
    const targets = await parseTargets(['192.0.2.7', '2001:0DB8:0000:0000:0000:0000:0000:0001']);
    expect(targets).toEqual<ScanTarget[]>([
      { address: '192.0.2.7', family: 4 },
      { address: '2001:db8::1', family: 6 },
    ]);
  });

  it('takes the edges of the IPv4 space', async () => {
    expect(await addresses('255.255.255.255', '0.0.0.0')).toEqual(['255.255.255.255', '0.0.0.0']);
  });

  it('reads compressed, expanded and IPv4-embedded IPv6 alike', async () => {
    expect(await addresses('::1', '::ffff:192.0.2.1', '::ffff:c000:201', 'fe80::1:2')).toEqual([
      '::1',
      '::ffff:192.0.2.1',
      'fe80::1:2',
    ]);
  });
});

describe('parseTargets: prefixes', () => {
  it('yields every address of a /24, network and broadcast included, in order', async () => {
    const list = await addresses('10.0.0.0/24');
    expect(list).toHaveLength(256);
    expect(list[0]).toBe('10.0.0.0');
    expect(list[1]).toBe('10.0.0.1');
    expect(list[255]).toBe('10.0.0.255');
  });

  it('yields one address for a /32 and two for a /31', async () => {
    expect(await addresses('192.0.2.7/32')).toEqual(['192.0.2.7']);
    expect(await addresses('192.0.2.6/31')).toEqual(['192.0.2.6', '192.0.2.7']);
  });

  it('ignores host bits as nmap does: 10.0.0.77/30 is 10.0.0.76/30', async () => {
    expect(await addresses('10.0.0.77/30')).toEqual(['10.0.0.76', '10.0.0.77', '10.0.0.78', '10.0.0.79']);
  });

  it('reaches the top of the space without wrapping', async () => {
    expect(await addresses('255.255.255.254/31')).toEqual(['255.255.255.254', '255.255.255.255']);
    const top = await addresses('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127');
    expect(top).toEqual([
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
    ]);
  });

  it('yields an IPv6 /120 in order, in short form', async () => {
    const list = await addresses('2001:db8::/120');
    expect(list).toHaveLength(256);
    expect(list.slice(0, 2)).toEqual(['2001:db8::', '2001:db8::1']);
    expect(list[255]).toBe('2001:db8::ff');
    expect(await addresses('2001:db8::5/128')).toEqual(['2001:db8::5']);
  });

  it('allows a /16, exactly the default limit', async () => {
    expect(await addresses('10.9.0.0/16')).toHaveLength(65_536);
  });
});

describe('parseTargets: ranges', () => {
  it("reads nmap's last-octet form", async () => {
    expect(await addresses('10.0.0.5-8')).toEqual(['10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8']);
    expect(await addresses('10.0.0.9-9')).toEqual(['10.0.0.9']);
  });

  it('reads the full form across octets', async () => {
    const list = await addresses('10.0.0.254-10.0.1.1');
    expect(list).toEqual(['10.0.0.254', '10.0.0.255', '10.0.1.0', '10.0.1.1']);
    expect(await addresses('10.0.0.5-10.0.1.7')).toHaveLength(256 + 3);
  });

  it('reads a full IPv6 range, across groups', async () => {
    expect(await addresses('2001:db8::fffe-2001:db8::1:1')).toEqual([
      '2001:db8::fffe',
      '2001:db8::ffff',
      '2001:db8::1:0',
      '2001:db8::1:1',
    ]);
  });

  it('runs up to 255.255.255.255', async () => {
    expect(await addresses('255.255.255.253-255')).toEqual([
      '255.255.255.253',
      '255.255.255.254',
      '255.255.255.255',
    ]);
  });
});

describe('parseTargets: lists', () => {
  it('splits commas inside a spec, trims spaces and skips empty parts', async () => {
    expect(await addresses('192.0.2.1, 192.0.2.3,', '2001:db8::1,,192.0.2.2')).toEqual([
      '192.0.2.1',
      '192.0.2.3',
      '2001:db8::1',
      '192.0.2.2',
    ]);
  });

  it('keeps the first occurrence of each address, whatever its spelling', async () => {
    expect(await addresses('10.0.0.2', '10.0.0.1-3', '10.0.0.0/30', '2001:db8::1', '2001:DB8:0::1')).toEqual([
      '10.0.0.2',
      '10.0.0.1',
      '10.0.0.3',
      '10.0.0.0',
      '2001:db8::1',
    ]);
  });

  it('counts overlapping specs once against the limit', async () => {
    expect(await addresses('10.9.0.0/16', '10.9.3.0/24', '10.9.255.255')).toHaveLength(65_536);
  });
});

describe('parseTargets: host names', () => {
  it('scans every address a name resolves to and keeps the name', async () => {
    const targets = await parseTargets(['web.example'], { resolve: fakeDns });
    expect(targets).toEqual<ScanTarget[]>([
      { address: '192.0.2.10', family: 4, hostName: 'web.example' },
      { address: '2001:db8::10', family: 6, hostName: 'web.example' },
    ]);
  });

  it('keeps order among names and addresses, and asks once per name', async () => {
    const asked: string[] = [];
    const counting: ResolveName = (name) => {
      asked.push(name);
      return fakeDns(name);
    };
    const targets = await parseTargets(['db.example,192.0.2.10', 'alias.example', 'DB.example.'], {
      resolve: counting,
    });
    expect(targets).toEqual<ScanTarget[]>([
      { address: '192.0.2.20', family: 4, hostName: 'db.example' },
      { address: '192.0.2.10', family: 4 },
    ]);
    expect(asked.sort()).toEqual(['alias.example', 'db.example']);
  });

  it('resolves localhost with the system resolver', async () => {
    const targets = await parseTargets(['localhost']);
    expect(targets.length).toBeGreaterThan(0);
    for (const t of targets) {
      expect(t.hostName).toBe('localhost');
      expect(['127.0.0.1', '::1']).toContain(t.address);
    }
  });

  it('names a name that does not resolve, and why', async () => {
    const err = await rejection(['192.0.2.1', 'nowhere.example']);
    expect(err.code).toBe(ErrorCode.BAD_REQUEST);
    expect(err.message).toMatch(/cannot resolve scan target "nowhere\.example" \(ENOTFOUND\)/);
    expect(err.message).toMatch(/give its address/);
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('refuses a name with no address or a resolver answer that is no address', async () => {
    expect((await rejection(['empty.example'])).message).toMatch(/"empty\.example" resolved to no address/);
    expect((await rejection(['broken.example'])).message).toMatch(
      /resolved to "not-an-ip", which is not an IP/,
    );
  });

  it('does not take a host name with a prefix', async () => {
    const err = await rejection(['web.example/24']);
    expect(err.message).toMatch(/"web\.example" is a host name, and a prefix needs an address/);
  });
});

describe('parseTargets: the size limit', () => {
  it('refuses more than 65,536 addresses, saying how many and what to do', async () => {
    const err = await rejection(['10.0.0.0/15']);
    expect(err.code).toBe(ErrorCode.BAD_REQUEST);
    expect(err.message).toMatch(/cover 131,072 addresses, more than the limit of 65,536: narrow the range/);
  });

  it('refuses an IPv6 /64, /0 and 0.0.0.0/0 at once, without listing them', async () => {
    const started = performance.now();
    expect((await rejection(['2001:db8::/64'])).message).toMatch(/18,446,744,073,709,551,616 addresses/);
    expect((await rejection(['::/0'])).message).toMatch(
      /cover 340,282,366,920,938,463,463,374,607,431,768,211,456/,
    );
    expect((await rejection(['0.0.0.0/0'])).message).toMatch(/cover 4,294,967,296 addresses/);
    expect((await rejection(['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'])).message).toMatch(
      /more than the limit/,
    );
    expect(performance.now() - started).toBeLessThan(200);
  });

  it('adds up several specs and names the widest', async () => {
    const err = await rejection(['10.0.0.0/16', '10.1.0.0/24']);
    expect(err.message).toMatch(/cover 65,792 addresses \(10\.0\.0\.0\/16 alone is 65,536\)/);
  });

  it('refuses an oversized range before asking the resolver', async () => {
    let asked = false;
    const err: unknown = await parseTargets(['web.example', '10.0.0.0/8'], {
      resolve: (name) => {
        asked = true;
        return fakeDns(name);
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.BAD_REQUEST });
    expect(asked).toBe(false);
  });

  it('counts resolved addresses too, and honours a smaller limit', async () => {
    expect((await rejection(['web.example', '192.0.2.1'], { maxAddresses: 2 })).message).toMatch(
      /cover 3 addresses \(web\.example alone is 2\), more than the limit of 2/,
    );
    expect(await parseTargets(['192.0.2.0/31'], { maxAddresses: 2 })).toHaveLength(2);
  });

  it('refuses a limit that is no positive whole number', async () => {
    expect((await rejection(['192.0.2.1'], { maxAddresses: 0 })).code).toBe(ErrorCode.BAD_OPTION);
  });
});

describe('parseTargets: bad specs', () => {
  const cases: [string, RegExp][] = [
    ['10.0.0.256', /"10\.0\.0\.256" is not an address, prefix, range or host name/],
    ['1.2.3', /"1\.2\.3" is not an address, prefix, range or host name/],
    ['2001:db8:::1', /is not an address, prefix, range or host name/],
    ['-bad.example', /is not an address, prefix, range or host name/],
    ['host name', /is not an address, prefix, range or host name/],
    ['10.0.0.0/33', /prefix length must be a whole number from 0 to 32/],
    ['2001:db8::/129', /prefix length must be a whole number from 0 to 128/],
    ['10.0.0.0/', /prefix length must be a whole number from 0 to 32/],
    ['10.0.0.0/x', /prefix length must be a whole number from 0 to 32/],
    ['10.0.0.0/24/8', /prefix length must be a whole number/],
    ['nope/24', /"nope" is a host name, and a prefix needs an address/],
    ['10.0.0.20-5', /ends before it starts: write the lower address first/],
    ['10.0.1.0-10.0.0.255', /ends before it starts/],
    ['2001:db8::9-2001:db8::1', /ends before it starts/],
    ['10.0.0.5-300', /last octet 300 is past 255/],
    ['10.0.0.5-10.0.0', /the range's end "10\.0\.0" is not an address/],
    ['10.0.0.1-2001:db8::1', /mixes IPv4 and IPv6/],
    ['2001:db8::1-ff', /the range's end "ff" is not an address/],
  ];
  for (const [spec, message] of cases) {
    it(`refuses ${JSON.stringify(spec)}`, async () => {
      const err = await rejection([spec]);
      expect(err.code).toBe(ErrorCode.BAD_REQUEST);
      expect(err.message).toMatch(message);
      expect(err.message).toContain(JSON.stringify(spec));
    });
  }

  it('shows the accepted forms when a spec cannot be read at all', async () => {
    expect((await rejection(['10.0.0.256'])).message).toMatch(
      /write an address \(192\.0\.2\.7, 2001:db8::7\), a prefix .* a range .* or a host name/,
    );
  });

  it('refuses an empty target list', async () => {
    expect((await rejection([])).message).toMatch(/no scan targets were given/);
    expect((await rejection([' , '])).message).toMatch(/no scan targets were given/);
  });
});
