import { describe, expect, it } from 'vitest';
import {
  encodeDnsQuery,
  memcachedUdpRequest,
  nbstatRequest,
  ntpRequest,
  parseDnsReply,
  parseDnsVersion,
  parseMemcachedUdpReply,
  parseMssqlBrowserReply,
  parseNbstatReply,
  parseNtpReply,
  parseSipReply,
  parseSnmpResponse,
  parseSsdpReply,
  parseTftpReply,
  readDnsName,
  sipOptionsRequest,
  snmpGetRequest,
  SNMP_SYS_DESCR,
  SSDP_SEARCH,
  tftpReadRequest,
  udpProbesFor,
} from './udp-probes.js';

const text = (s: string): Buffer => Buffer.from(s, 'latin1');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** dnsmasq 2.90's answer to `version.bind CH TXT` with id 0x1234, captured. */
const DNSMASQ_VERSION_REPLY = hex(
  '1234848000010001000000000776657273696f6e0462696e640000100003c00c0010000300000000000d0c646e736d6173712d322e3930',
);

/** net-snmp 5.9's GetResponse to sysDescr.0 (request id 0x01020304, community public), captured. */
const SNMPD_REPLY = hex(
  '303d02010104067075626c6963a2300204010203040201000201003022302006082b060102010101000414466c6f77547261636b2074657374206167656e74',
);

/** The first bytes of memcached 1.6.18's UDP answer to `stats` (request id 0x0102), captured. */
const MEMCACHED_STATS_REPLY = hex(
  '010200000002000053544154207069642032303130370d0a5354415420757074696d6520330d0a535441542074696d652031373935333536393636' +
    '0d0a535441542076657273696f6e20312e362e31380d0a',
);

/** A DNS reply to `query`: its header with QR (and RA) set, its question, and `answers` appended. */
function dnsReplyTo(query: Buffer, answers: Buffer[] = []): Buffer {
  const reply = Buffer.concat([query, ...answers]);
  reply.writeUInt16BE(0x8480, 2);
  reply.writeUInt16BE(answers.length, 6);
  return reply;
}

function ber(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag, body.length]), body]);
}

describe('DNS', () => {
  it('encodes version.bind CH TXT with recursion off', () => {
    const query = encodeDnsQuery(0x1234, 'version.bind', 16, 3);
    expect(query.toString('hex')).toBe(
      '123400000001000000000000' + '0776657273696f6e0462696e6400' + '00100003',
    );
  });

  it('reads the captured dnsmasq answer', () => {
    expect(parseDnsReply(DNSMASQ_VERSION_REPLY, 0x1234)).toEqual({
      id: 0x1234,
      rcode: 0,
      authoritative: true,
      recursionAvailable: true,
      txt: ['dnsmasq-2.90'],
      ptr: [],
    });
  });

  it('ignores a reply with another id, a query, and a short packet', () => {
    expect(parseDnsReply(DNSMASQ_VERSION_REPLY, 0x4321)).toBeNull();
    expect(parseDnsReply(encodeDnsQuery(0x1234, 'version.bind', 16, 3), 0x1234)).toBeNull();
    expect(parseDnsReply(DNSMASQ_VERSION_REPLY.subarray(0, 11), 0x1234)).toBeNull();
  });

  it('survives compression loops, pointers past the end and lying counts', () => {
    const loop = Buffer.concat([DNSMASQ_VERSION_REPLY.subarray(0, 12), hex('c00c')]);
    expect(readDnsName(loop, 12)).toBeNull();
    expect(readDnsName(hex('c0ff'), 0)).toBeNull();
    const lying = Buffer.from(DNSMASQ_VERSION_REPLY);
    lying.writeUInt16BE(0xffff, 6); // 65535 answers claimed, one present
    expect(parseDnsReply(lying, 0x1234)?.txt).toEqual(['dnsmasq-2.90']);
  });

  it('names the product in version.bind answers', () => {
    expect(parseDnsVersion('dnsmasq-2.90')).toEqual({ product: 'dnsmasq', version: '2.90' });
    expect(parseDnsVersion('9.18.19-1~deb12u1-Debian')).toEqual({ product: 'BIND', version: '9.18.19' });
    expect(parseDnsVersion('unbound 1.17.1')).toEqual({ product: 'Unbound', version: '1.17.1' });
    expect(parseDnsVersion('PowerDNS Recursor 4.8.4')).toEqual({ product: 'PowerDNS', version: '4.8.4' });
    expect(parseDnsVersion('none of your business')).toEqual({});
  });

  it('port 53: version.bind and the root NS question, each recognising only its own answer', () => {
    const [version, root] = udpProbesFor(53);
    expect(version?.name).toBe('dns-version-bind');
    expect(root?.name).toBe('dns-root-ns');
    const txt = Buffer.concat([hex('c00c 0010 0003 00000000 000d 0c'), text('dnsmasq-2.90')]);
    const reply = dnsReplyTo(version!.payload, [txt]);
    expect(version!.recognize(reply)).toEqual({
      name: 'dns',
      product: 'dnsmasq',
      version: '2.90',
      banner: 'dnsmasq-2.90',
      details: { recursionAvailable: true },
    });
    expect(root!.recognize(reply)).toBeNull();
    expect(root!.recognize(dnsReplyTo(root!.payload))).toEqual({
      name: 'dns',
      details: { recursionAvailable: true },
    });
    // Root NS query: the empty name, type NS, class IN, recursion desired off.
    expect(root!.payload.subarray(2, 4).toString('hex')).toBe('0000');
    expect(root!.payload.subarray(12).toString('hex')).toBe('0000020001');
  });

  it('port 5353: the DNS-SD enumeration, answered with the service types', () => {
    const [mdns] = udpProbesFor(5353);
    const ptr = Buffer.concat([
      hex('c00c 000c 0001 00001194 000c 04'),
      text('_ssh'),
      hex('04'),
      text('_tcp'),
      hex('c023'),
    ]);
    const reply = dnsReplyTo(mdns!.payload, [ptr]);
    expect(mdns!.recognize(reply)).toEqual({ name: 'mdns', banner: '_ssh._tcp.local' });
  });

  it('draws a new id on every call', () => {
    const ids = new Set(Array.from({ length: 20 }, () => udpProbesFor(53)[0]!.payload.readUInt16BE(0)));
    expect(ids.size).toBeGreaterThan(15);
  });
});

describe('NTP', () => {
  const transmit = hex('e9b1c2d3a4b5c6d7');

  function serverReply(origin: Buffer, first = 0x24, stratum = 2): Buffer {
    const reply = Buffer.alloc(48);
    reply[0] = first; // LI 0, VN 4, mode 4
    reply[1] = stratum;
    text('GPS\u0000').copy(reply, 12);
    origin.copy(reply, 24);
    return reply;
  }

  it('sends a 48-byte version 4 client packet carrying the transmit timestamp', () => {
    const request = ntpRequest(transmit);
    expect(request).toHaveLength(48);
    expect(request[0]! & 0x07).toBe(3);
    expect((request[0]! >> 3) & 0x07).toBe(4);
    expect(request.subarray(40).equals(transmit)).toBe(true);
  });

  it('reads a server reply whose origin is our transmit timestamp', () => {
    expect(parseNtpReply(serverReply(transmit), transmit)).toEqual({ version: 4, stratum: 2 });
    expect(parseNtpReply(serverReply(transmit, 0x1c, 1), transmit)).toEqual({
      version: 3,
      stratum: 1,
      referenceId: 'GPS',
    });
  });

  it('ignores other modes, other origins and short packets', () => {
    expect(parseNtpReply(serverReply(transmit, 0x23), transmit)).toBeNull();
    expect(parseNtpReply(serverReply(hex('0000000000000001')), transmit)).toBeNull();
    expect(parseNtpReply(serverReply(transmit).subarray(0, 47), transmit)).toBeNull();
  });

  it('port 123: the probe recognises the answer to its own request', () => {
    const [ntp] = udpProbesFor(123);
    expect(ntp!.recognize(serverReply(ntp!.payload.subarray(40, 48), 0x24, 3))).toEqual({
      name: 'ntp',
      details: { stratum: 3, ntpVersion: 4 },
    });
    expect(ntp!.recognize(serverReply(transmit))).toBeNull();
  });
});

describe('SNMP', () => {
  it('encodes a v2c GetRequest for sysDescr.0 byte for byte', () => {
    expect(snmpGetRequest('public', 0x01020304).toString('hex')).toBe(
      '302902010104067075626c6963a01c020401020304020100020100300e300c06082b060102010101000500',
    );
    // A request id with the top bit of its first byte set needs a leading zero to stay positive.
    expect(snmpGetRequest('public', 0x80).toString('hex')).toContain('a01a02020080020100');
  });

  it('reads the captured net-snmp answer', () => {
    expect(parseSnmpResponse(SNMPD_REPLY)).toEqual({
      version: 1,
      community: 'public',
      pduType: 0xa2,
      requestId: 0x01020304,
      errorStatus: 0,
      varbinds: [{ oid: SNMP_SYS_DESCR, value: 'FlowTrack test agent' }],
    });
  });

  it('is null for truncated and lying messages', () => {
    expect(parseSnmpResponse(SNMPD_REPLY.subarray(0, 30))).toBeNull();
    const lying = Buffer.from(SNMPD_REPLY);
    lying[1] = 0x84; // a 4-byte length
    expect(parseSnmpResponse(lying)).toBeNull();
    expect(parseSnmpResponse(Buffer.alloc(0))).toBeNull();
  });

  it('port 161: recognises the answer to its own request id, with the community that worked', () => {
    const [snmp] = udpProbesFor(161);
    const request = parseSnmpResponse(snmp!.payload)!;
    expect(request).toMatchObject({ version: 1, community: 'public', pduType: 0xa0 });
    const id = Buffer.alloc(4);
    id.writeUInt32BE(request.requestId);
    const integer = (value: Buffer): Buffer => ber(0x02, value);
    const response = (requestId: Buffer): Buffer =>
      ber(
        0x30,
        integer(hex('01')),
        ber(0x04, text('public')),
        ber(
          0xa2,
          integer(requestId),
          integer(hex('00')),
          integer(hex('00')),
          ber(0x30, ber(0x30, hex('06082b06010201010100'), ber(0x04, text('Linux gw 6.1.0 #1 SMP x86_64')))),
        ),
      );
    const minimal = id.subarray(id.findIndex((b) => b !== 0));
    const requestIdBytes = minimal[0]! & 0x80 ? Buffer.concat([hex('00'), minimal]) : minimal;
    expect(snmp!.recognize(response(requestIdBytes))).toEqual({
      name: 'snmp',
      banner: 'Linux gw 6.1.0 #1 SMP x86_64',
      details: { community: 'public', snmpVersion: '2c' },
    });
    expect(snmp!.recognize(SNMPD_REPLY)).toBeNull();
  });
});

describe('SSDP', () => {
  it('sends an M-SEARCH for all devices', () => {
    expect(SSDP_SEARCH.toString('latin1')).toMatch(
      /^M-SEARCH \* HTTP\/1\.1\r\n[\s\S]*MAN: "ssdp:discover"\r\n[\s\S]*\r\n\r\n$/,
    );
  });
  it('names the UPnP product from the SERVER header', () => {
    const reply = text(
      'HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: upnp:rootdevice\r\nUSN: uuid:abc::upnp:rootdevice\r\n' +
        'EXT:\r\nSERVER: Linux/5.10 UPnP/1.0 MiniUPnPd/2.3.3\r\nLOCATION: http://192.0.2.1:5000/rootDesc.xml\r\n\r\n',
    );
    expect(parseSsdpReply(reply)).toEqual({
      name: 'ssdp',
      banner: 'Linux/5.10 UPnP/1.0 MiniUPnPd/2.3.3',
      product: 'MiniUPnPd',
      version: '2.3.3',
      details: { location: 'http://192.0.2.1:5000/rootDesc.xml' },
    });
    expect(parseSsdpReply(text('NOTIFY * HTTP/1.1\r\n\r\n'))).toBeNull();
  });
});

describe('memcached over UDP', () => {
  it('frames stats with the 8-byte UDP header', () => {
    expect(memcachedUdpRequest(0x0102, 'stats\r\n').toString('hex')).toBe(
      '0102000000010000' + '73746174730d0a',
    );
  });
  it('reads the captured answer: version, no authentication, UDP', () => {
    expect(parseMemcachedUdpReply(MEMCACHED_STATS_REPLY, 0x0102)).toEqual({
      name: 'memcached',
      product: 'memcached',
      version: '1.6.18',
      details: { udp: true, auth: 'none' },
    });
    expect(parseMemcachedUdpReply(MEMCACHED_STATS_REPLY, 0x0103)).toBeNull();
    expect(
      parseMemcachedUdpReply(Buffer.concat([hex('0102000000010000'), text('ERROR\r\n')]), 0x0102),
    ).toBeNull();
  });
  it('port 11211: the probe recognises its own request id', () => {
    const [memcached] = udpProbesFor(11211);
    const reply = Buffer.from(MEMCACHED_STATS_REPLY);
    memcached!.payload.copy(reply, 0, 0, 2);
    expect(memcached!.recognize(reply)).toMatchObject({ name: 'memcached', version: '1.6.18' });
  });
});

describe('NetBIOS name service', () => {
  it('asks NBSTAT for *', () => {
    const request = nbstatRequest(0xbeef);
    expect(request.toString('hex')).toBe(
      'beef00000001000000000000' +
        '20434b414141414141414141414141414141414141414141414141414141414141' +
        '00' +
        '00210001',
    );
  });

  /** A Samba-style node status answer: FILESRV <00>, <03>, <20>, WORKGROUP <00> group, a MAC. */
  function nbstatReply(id: number, mac: string): Buffer {
    const name = (n: string, suffix: number, flags: number): Buffer =>
      Buffer.concat([text(n.padEnd(15, ' ')), Buffer.from([suffix, flags >> 8, flags & 0xff])]);
    const names = [
      name('FILESRV', 0x00, 0x0400),
      name('FILESRV', 0x03, 0x0400),
      name('FILESRV', 0x20, 0x0400),
      name('WORKGROUP', 0x00, 0x8400),
    ];
    const rdata = Buffer.concat([Buffer.from([names.length]), ...names, hex(mac), Buffer.alloc(40)]);
    const header = hex('0000840000000001 00000000');
    header.writeUInt16BE(id, 0);
    const rr = Buffer.alloc(10);
    rr.writeUInt16BE(0x21, 0);
    rr.writeUInt16BE(1, 2);
    rr.writeUInt16BE(rdata.length, 8);
    return Buffer.concat([header, nbstatRequest(id).subarray(12, 46), rr, rdata]);
  }

  it('reads names, the group and the MAC address', () => {
    expect(parseNbstatReply(nbstatReply(7, '525400123456'), 7)).toEqual({
      names: [
        { name: 'FILESRV', suffix: 0, group: false },
        { name: 'FILESRV', suffix: 3, group: false },
        { name: 'FILESRV', suffix: 0x20, group: false },
        { name: 'WORKGROUP', suffix: 0, group: true },
      ],
      mac: '52:54:00:12:34:56',
    });
    expect(parseNbstatReply(nbstatReply(7, '000000000000'), 7)?.mac).toBeUndefined();
    expect(parseNbstatReply(nbstatReply(7, '525400123456'), 8)).toBeNull();
    expect(parseNbstatReply(nbstatReply(7, '525400123456').subarray(0, 50), 7)).toBeNull();
    // Four names claimed, the packet cut after the first: what is there is read.
    const cut = nbstatReply(7, '525400123456').subarray(0, 12 + 34 + 10 + 1 + 18 + 5);
    expect(parseNbstatReply(cut, 7)).toEqual({ names: [{ name: 'FILESRV', suffix: 0, group: false }] });
  });

  it('port 137: names the host and its workgroup', () => {
    const [nbstat] = udpProbesFor(137);
    const id = nbstat!.payload.readUInt16BE(0);
    expect(nbstat!.recognize(nbstatReply(id, '525400123456'))).toEqual({
      name: 'netbios-ns',
      banner: 'FILESRV WORKGROUP',
      details: { netbiosName: 'FILESRV', workgroup: 'WORKGROUP', mac: '52:54:00:12:34:56' },
    });
  });
});

describe('TFTP', () => {
  it('asks to read a file in octet mode', () => {
    expect(tftpReadRequest('a.txt').toString('hex')).toBe('0001' + '612e74787400' + '6f6374657400');
    const [tftp] = udpProbesFor(69);
    expect(tftp!.payload.subarray(0, 2).toString('hex')).toBe('0001');
    const [file, mode, rest] = tftp!.payload.subarray(2).toString('latin1').split('\u0000');
    expect(file).toMatch(/^flowtrack-[0-9a-f]{12}\.txt$/);
    expect([mode, rest]).toEqual(['octet', '']);
  });
  it('recognises an error, data and an option acknowledgement', () => {
    expect(parseTftpReply(Buffer.concat([hex('00050001'), text('File not found\u0000')]))).toEqual({
      name: 'tftp',
      banner: 'File not found',
    });
    expect(parseTftpReply(Buffer.concat([hex('00030001'), text('hello')]))).toEqual({ name: 'tftp' });
    expect(parseTftpReply(hex('0006'))).toBeNull();
    expect(parseTftpReply(hex('00050063'))).toBeNull();
    expect(parseTftpReply(text('HTTP/1.1 400'))).toBeNull();
  });
});

describe('SIP', () => {
  it('sends a well-formed OPTIONS request', () => {
    const request = sipOptionsRequest('abc@flowtrack.invalid', 'b1', 't1').toString('latin1');
    expect(request).toMatch(/^OPTIONS sip:flowtrack\.invalid SIP\/2\.0\r\n/);
    expect(request).toContain('\r\nVia: SIP/2.0/UDP flowtrack.invalid;branch=z9hG4bKb1;rport\r\n');
    expect(request).toContain('\r\nCall-ID: abc@flowtrack.invalid\r\n');
    expect(request.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });
  it('recognises the answer to its own Call-ID and names the product', () => {
    const reply = (callId: string): Buffer =>
      text(
        `SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP flowtrack.invalid;branch=z9hG4bKb1;received=192.0.2.9;rport=5060\r\n` +
          `From: <sip:flowtrack@flowtrack.invalid>;tag=t1\r\nTo: <sip:flowtrack@flowtrack.invalid>;tag=as1\r\n` +
          `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nServer: Asterisk PBX 18.10.0\r\nContent-Length: 0\r\n\r\n`,
      );
    expect(parseSipReply(reply('abc@x'), 'abc@x')).toEqual({
      name: 'sip',
      banner: 'Asterisk PBX 18.10.0',
      product: 'Asterisk PBX',
      version: '18.10.0',
    });
    expect(parseSipReply(reply('other@x'), 'abc@x')).toBeNull();
    const [sip] = udpProbesFor(5060);
    const callId = /Call-ID: (\S+)/.exec(sip!.payload.toString('latin1'))![1]!;
    expect(sip!.recognize(reply(callId))).toMatchObject({ name: 'sip' });
  });
});

describe('MS-SQL browser', () => {
  it('reads the instance list', () => {
    const records = 'ServerName;DB1;InstanceName;MSSQLSERVER;IsClustered;No;Version;15.0.2000.5;tcp;1433;;';
    const reply = Buffer.concat([Buffer.from([0x05, records.length, 0]), text(records)]);
    expect(parseMssqlBrowserReply(reply)).toMatchObject({ name: 'mssql-browser', version: '15.0.2000.5' });
    expect(parseMssqlBrowserReply(text('\u0005\u0003\u0000abc'))).toBeNull();
  });
});

describe('udpProbesFor', () => {
  it('sends an empty datagram to a port it does not know, and keeps readable text as a banner', () => {
    const [empty] = udpProbesFor(40000);
    expect(empty!.payload).toHaveLength(0);
    expect(empty!.recognize(text('hello there\r\n'))).toEqual({ name: 'unknown', banner: 'hello there' });
    expect(empty!.recognize(hex('00ff01fe'))).toBeNull();
  });
  it('recognises chargen and qotd by any answer', () => {
    expect(udpProbesFor(19)[0]!.recognize(text('!"#$%&\'()*+,-./0123\r\n'))).toMatchObject({
      name: 'chargen',
    });
    expect(udpProbesFor(17)[0]!.recognize(text('"A quote." Someone\r\n'))).toMatchObject({ name: 'qotd' });
  });
  it('never throws on hostile bytes', () => {
    const junk = [
      Buffer.alloc(0),
      hex('ff'),
      Buffer.alloc(600, 0xff),
      Buffer.alloc(600, 0xc0),
      text('SIP/2.0 200\r\n'),
    ];
    for (const port of [17, 19, 53, 69, 123, 137, 161, 1434, 1900, 5060, 5353, 11211, 40000]) {
      for (const p of udpProbesFor(port)) {
        for (const reply of junk) expect(() => p.recognize(reply)).not.toThrow();
      }
    }
  });
  it('rejects a port outside 1-65535', () => {
    expect(() => udpProbesFor(0)).toThrow(/not a UDP port/);
    expect(() => udpProbesFor(1.5)).toThrow(/not a UDP port/);
  });
});
