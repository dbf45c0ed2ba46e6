import { describe, expect, it } from 'vitest';
import { FlowTrackError } from '../util/errors.js';
import {
  cleanBanner,
  decodeBson,
  encodeBson,
  httpRequest,
  identifyGreeting,
  identifyHttpService,
  identifyTcpService,
  mongoMsg,
  mongoQuery,
  parseHttpResponse,
  parseHttpServer,
  parseMemcachedVersion,
  parseMongoReply,
  parseMysqlHandshake,
  parsePostgresSslReply,
  parseRedisInfo,
  parseRedisReply,
  parseSshBanner,
  parseTextReply,
  parseVncBanner,
  parseVncSecurity,
  POSTGRES_SSL_REQUEST,
  splitTelnet,
  tcpProbePlan,
  telnetAnswers,
} from './service-probes.js';

const text = (s: string): Buffer => Buffer.from(s, 'latin1');

function http(head: string, body = ''): Buffer {
  return text(`${head.split('\n').join('\r\n')}\r\n\r\n${body}`);
}

/** A MySQL packet: 3-byte length, sequence 0, payload. */
function mysqlPacket(payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUIntLE(payload.length, 0, 3);
  return Buffer.concat([header, payload]);
}

/** A MongoDB reply to `responseTo`: OP_REPLY (opCode 1) or OP_MSG (2013) around `doc`. */
function mongoReply(opCode: 1 | 2013, responseTo: number, doc: Buffer): Buffer {
  const prefix = opCode === 1 ? Buffer.alloc(20) : Buffer.alloc(5);
  if (opCode === 1) prefix.writeInt32LE(1, 16); // numberReturned
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + prefix.length + doc.length, 0);
  header.writeInt32LE(99, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, prefix, doc]);
}

describe('cleanBanner', () => {
  it('turns runs of control and non-ASCII bytes into one space and trims', () => {
    expect(cleanBanner('\u0000\u0001SSH-2.0-x\r\n\u00ff\u00fe more\t\tstuff  ')).toBe('SSH-2.0-x more stuff');
  });
  it('cuts at 200 characters', () => {
    expect(cleanBanner('A'.repeat(5000))).toHaveLength(200);
  });
});

describe('parseSshBanner', () => {
  it('reads OpenSSH on Debian', () => {
    expect(parseSshBanner('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n')).toEqual({
      name: 'ssh',
      product: 'OpenSSH',
      version: '9.2p1',
      banner: 'SSH-2.0-OpenSSH_9.2p1 Debian-2',
      details: { protocol: '2.0' },
    });
  });
  it('reads Dropbear, OpenSSH for Windows, a dash-separated version and a bare name', () => {
    expect(parseSshBanner('SSH-2.0-dropbear_2022.83')).toMatchObject({
      product: 'Dropbear',
      version: '2022.83',
    });
    expect(parseSshBanner('SSH-2.0-OpenSSH_for_Windows_8.1')).toMatchObject({
      product: 'OpenSSH for Windows',
      version: '8.1',
    });
    expect(parseSshBanner('SSH-1.99-Cisco-1.25')).toMatchObject({
      product: 'Cisco',
      version: '1.25',
      details: { protocol: '1.99' },
    });
    const bare = parseSshBanner('SSH-2.0-ROSSSH');
    expect(bare).toMatchObject({ product: 'ROSSSH' });
    expect(bare?.version).toBeUndefined();
  });
  it('is null for anything else', () => {
    expect(parseSshBanner('220 ftp ready')).toBeNull();
    expect(parseSshBanner('SSH-')).toBeNull();
  });
});

describe('parseHttpServer', () => {
  it('splits product and version', () => {
    expect(parseHttpServer('nginx/1.22.1')).toEqual({ product: 'nginx', version: '1.22.1' });
    expect(parseHttpServer('Apache/2.4.57 (Debian)')).toEqual({ product: 'Apache', version: '2.4.57' });
    expect(parseHttpServer('Microsoft-IIS/10.0')).toEqual({ product: 'Microsoft-IIS', version: '10.0' });
  });
  it('keeps a bare name without a version', () => {
    expect(parseHttpServer('nginx')).toEqual({ product: 'nginx' });
    expect(parseHttpServer('Jetty(9.4.z-SNAPSHOT)')).toEqual({ product: 'Jetty' });
    expect(parseHttpServer('')).toEqual({});
  });
});

describe('parseHttpResponse and identifyHttpService', () => {
  it('names an HTTP server from its Server header', () => {
    const response = parseHttpResponse(
      http('HTTP/1.1 200 OK\nServer: nginx/1.22.1\nContent-Type: text/html', '<html></html>'),
    );
    expect(response?.status).toBe(200);
    expect(response?.headers.get('content-type')).toBe('text/html');
    expect(response?.body).toBe('<html></html>');
    expect(identifyHttpService(response!, false)).toEqual({
      name: 'http',
      product: 'nginx',
      version: '1.22.1',
      banner: 'nginx/1.22.1',
    });
  });

  it('uses the status line as the banner when there is no Server header, and says https over TLS', () => {
    const response = parseHttpResponse(http('HTTP/1.0 404 Not Found\nContent-Length: 0'))!;
    expect(identifyHttpService(response, true)).toEqual({
      name: 'https',
      banner: 'HTTP/1.0 404 Not Found',
      tls: true,
    });
  });

  it('is null for what is not an HTTP response', () => {
    expect(parseHttpResponse(text('SSH-2.0-OpenSSH_9.2p1\r\n'))).toBeNull();
    expect(parseHttpResponse(Buffer.alloc(0))).toBeNull();
  });

  it('keeps the first of repeated headers and cleans hostile ones', () => {
    const response = parseHttpResponse(http('HTTP/1.1 200 OK\nServer: a/1\u0007\u0000x\nServer: b/2'))!;
    expect(response.headers.get('server')).toBe('a/1\u0007\u0000x');
    expect(identifyHttpService(response, false).banner).toBe('a/1 x');
  });

  it('recognises Elasticsearch by its greeting, with no authentication', () => {
    const body = JSON.stringify({
      name: 'node-1',
      cluster_name: 'docker-cluster',
      cluster_uuid: 'Xb8oXq4OQ0K6mD6ZK1xL3A',
      version: { number: '8.11.3', build_flavor: 'default', lucene_version: '9.8.0' },
      tagline: 'You Know, for Search',
    });
    const response = parseHttpResponse(
      http(
        `HTTP/1.1 200 OK\nX-elastic-product: Elasticsearch\ncontent-type: application/json\ncontent-length: ${body.length}`,
        body,
      ),
    )!;
    expect(identifyHttpService(response, false)).toEqual({
      name: 'elasticsearch',
      product: 'Elasticsearch',
      version: '8.11.3',
      banner: 'HTTP/1.1 200 OK',
      details: { auth: 'none' },
    });
  });

  it('recognises OpenSearch, and Elasticsearch that asks for credentials', () => {
    const openSearch = JSON.stringify({
      cluster_name: 'c',
      version: { distribution: 'opensearch', number: '2.11.1' },
      tagline: 'The OpenSearch Project: https://opensearch.org/',
    });
    expect(identifyHttpService(parseHttpResponse(http('HTTP/1.1 200 OK', openSearch))!, false)).toMatchObject(
      {
        name: 'elasticsearch',
        product: 'OpenSearch',
        version: '2.11.1',
      },
    );
    const denied = JSON.stringify({
      error: {
        root_cause: [{ type: 'security_exception' }],
        type: 'security_exception',
        reason: 'missing authentication',
      },
      status: 401,
    });
    const response = parseHttpResponse(
      http('HTTP/1.1 401 Unauthorized\nWWW-Authenticate: Basic realm="security" charset="UTF-8"', denied),
    )!;
    expect(identifyHttpService(response, true)).toMatchObject({
      name: 'elasticsearch',
      tls: true,
      details: { auth: 'required' },
    });
  });

  it('recognises the Docker Engine API by /version and by its headers alone', () => {
    const version = JSON.stringify({
      Platform: { Name: 'Docker Engine - Community' },
      Version: '24.0.7',
      ApiVersion: '1.43',
      MinAPIVersion: '1.12',
      Os: 'linux',
    });
    const response = parseHttpResponse(
      http(
        'HTTP/1.1 200 OK\nApi-Version: 1.43\nContent-Type: application/json\nServer: Docker/24.0.7 (linux)',
        version,
      ),
    )!;
    expect(identifyHttpService(response, false)).toEqual({
      name: 'docker',
      product: 'Docker',
      version: '24.0.7',
      banner: 'Docker/24.0.7 (linux)',
      details: { auth: 'none', apiVersion: '1.43' },
    });
    const notFound = parseHttpResponse(
      http('HTTP/1.1 404 Not Found\nServer: Docker/25.0.1 (linux)', '{"message":"page not found"}'),
    )!;
    expect(identifyHttpService(notFound, false)).toMatchObject({ name: 'docker', version: '25.0.1' });
  });

  it('recognises the Kubernetes API: a Status error, or /version (which says nothing about auth)', () => {
    const status = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    expect(
      identifyHttpService(parseHttpResponse(http('HTTP/1.1 401 Unauthorized', status))!, true),
    ).toMatchObject({
      name: 'kubernetes',
      details: { auth: 'required' },
    });
    const version = JSON.stringify({ major: '1', minor: '29', gitVersion: 'v1.29.2', goVersion: 'go1.21.7' });
    const k8s = identifyHttpService(parseHttpResponse(http('HTTP/1.1 200 OK', version))!, true);
    expect(k8s).toMatchObject({ name: 'kubernetes', product: 'Kubernetes', version: '1.29.2' });
    expect(k8s.details).toBeUndefined();
  });

  it('recognises MongoDB answering HTTP on its own port', () => {
    const response = parseHttpResponse(
      http(
        'HTTP/1.0 200 OK\nContent-Type: text/plain',
        'It looks like you are trying to access MongoDB over HTTP on the native driver port.\n',
      ),
    )!;
    expect(identifyHttpService(response, false)).toMatchObject({ name: 'mongodb' });
  });

  it('shrugs off a JSON body cut in the middle', () => {
    const response = parseHttpResponse(
      http('HTTP/1.1 200 OK\nServer: x/1', '{"cluster_name": "a", "version": {"num'),
    )!;
    expect(identifyHttpService(response, false)).toMatchObject({ name: 'http', product: 'x' });
  });
});

describe('httpRequest', () => {
  it('sends HTTP/1.0 with the port in Host unless it is the default one', () => {
    expect(httpRequest('192.0.2.1', 80, '/', false)).toBe(
      'GET / HTTP/1.0\r\nHost: 192.0.2.1\r\nUser-Agent: FlowTrack-scan\r\n\r\n',
    );
    expect(httpRequest('192.0.2.1', 8080, '/version', false)).toContain(
      'GET /version HTTP/1.0\r\nHost: 192.0.2.1:8080\r\n',
    );
    expect(httpRequest('2001:db8::1', 443, '/', true)).toContain('Host: [2001:db8::1]\r\n');
  });
});

describe('parseMysqlHandshake', () => {
  it('reads MariaDB 10.11 (captured from a real server), dropping the 5.5.5- prefix', () => {
    const captured = Buffer.from(
      '640000000a352e352e352d31302e31312e31392d4d6172696144422d302b64656231327531002c000000453470584b4d7d53' +
        '00fef72d0200ff81150000000000001d0000006525227a6464487c5a2e7170006d7973716c5f6e61746976655f70617373776f726400',
      'hex',
    );
    expect(parseMysqlHandshake(captured)).toEqual({
      name: 'mysql',
      product: 'MariaDB',
      version: '10.11.19',
      banner: '5.5.5-10.11.19-MariaDB-0+deb12u1',
    });
  });

  it('reads MySQL 8', () => {
    const payload = Buffer.concat([
      Buffer.from([10]),
      text('8.0.36\u0000'),
      Buffer.from([1, 0, 0, 0]),
      text('abcdefgh\u0000'),
      Buffer.alloc(20),
    ]);
    expect(parseMysqlHandshake(mysqlPacket(payload))).toMatchObject({ product: 'MySQL', version: '8.0.36' });
  });

  it('reads the refusal a server sends a host it does not allow', () => {
    const payload = Buffer.concat([
      Buffer.from([0xff, 0x6a, 0x04]),
      text("Host '192.0.2.9' is not allowed to connect to this MariaDB server"),
    ]);
    expect(parseMysqlHandshake(mysqlPacket(payload))).toEqual({
      name: 'mysql',
      product: 'MariaDB',
      banner: "Host '192.0.2.9' is not allowed to connect to this MariaDB server",
      details: { error: 1130 },
    });
  });

  it('is null for text, for a truncated packet and for random bytes', () => {
    expect(parseMysqlHandshake(text('SSH-2.0-OpenSSH_9.2p1\r\n'))).toBeNull();
    expect(parseMysqlHandshake(Buffer.from('640000000a352e35', 'hex'))).toBeNull();
    expect(parseMysqlHandshake(mysqlPacket(Buffer.from([10, 0xde, 0xad, 0xbe, 0xef, 0])))).toBeNull();
    expect(parseMysqlHandshake(mysqlPacket(Buffer.from([0xff, 0x01, 0x00, 0x00])))).toBeNull();
  });
});

describe('identifyGreeting', () => {
  it('names FTP servers and their products', () => {
    expect(identifyGreeting(text('220 (vsFTPd 3.0.3)\r\n'), 21)).toEqual({
      name: 'ftp',
      product: 'vsftpd',
      version: '3.0.3',
      banner: '220 (vsFTPd 3.0.3)',
    });
    expect(
      identifyGreeting(text('220 ProFTPD 1.3.8 Server (Debian) [::ffff:192.0.2.1]\r\n'), 2100),
    ).toMatchObject({
      name: 'ftp',
      product: 'ProFTPD',
      version: '1.3.8',
    });
    // The product is on a later line of a multi-line greeting.
    expect(
      identifyGreeting(
        text('220-Welcome\r\n220-FileZilla Server 1.7.0\r\n220 Please visit filezilla-project.org\r\n'),
        21,
      ),
    ).toMatchObject({ name: 'ftp', product: 'FileZilla Server', version: '1.7.0', banner: '220-Welcome' });
  });

  it('names SMTP servers and their products', () => {
    expect(identifyGreeting(text('220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n'), 25)).toEqual({
      name: 'smtp',
      product: 'Postfix',
      banner: '220 mail.example.com ESMTP Postfix (Debian/GNU)',
    });
    expect(
      identifyGreeting(text('220 mx.example.org ESMTP Exim 4.96 Tue, 05 Mar 2024 10:00:00 +0000\r\n'), 587),
    ).toMatchObject({
      name: 'smtp',
      product: 'Exim',
      version: '4.96',
    });
  });

  it('decides a 220 that names neither by the port, else leaves it to the conversation', () => {
    expect(identifyGreeting(text('220 Service ready\r\n'), 21)).toMatchObject({ name: 'ftp' });
    expect(identifyGreeting(text('220 Service ready\r\n'), 25)).toMatchObject({ name: 'smtp' });
    expect(identifyGreeting(text('220 Service ready\r\n'), 4000)).toEqual({
      name: 'unknown',
      banner: '220 Service ready',
    });
  });

  it('names POP3 and IMAP, and reads STARTTLS from an IMAP greeting', () => {
    expect(identifyGreeting(text('+OK Dovecot (Debian) ready.\r\n'), 110)).toEqual({
      name: 'pop3',
      product: 'Dovecot',
      banner: '+OK Dovecot (Debian) ready.',
    });
    expect(
      identifyGreeting(
        text(
          '* OK [CAPABILITY IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE LITERAL+ STARTTLS AUTH=PLAIN] Dovecot (Debian) ready.\r\n',
        ),
        143,
      ),
    ).toMatchObject({ name: 'imap', product: 'Dovecot', details: { starttls: true } });
    expect(identifyGreeting(text('* OK IMAP4 ready\r\n'), 143)).toEqual({
      name: 'imap',
      banner: '* OK IMAP4 ready',
    });
  });

  it('names SSH, VNC, MySQL and telnet', () => {
    expect(identifyGreeting(text('SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n'), 2222)).toMatchObject({ name: 'ssh' });
    expect(identifyGreeting(text('RFB 003.008\n'), 5900)).toEqual({
      name: 'vnc',
      version: '3.8',
      banner: 'RFB 003.008',
    });
    const mysql = mysqlPacket(Buffer.concat([Buffer.from([10]), text('8.0.36\u0000'), Buffer.alloc(30)]));
    expect(identifyGreeting(mysql, 3306)).toMatchObject({ name: 'mysql' });
    // A Linux telnetd opens with DO TERMINAL-TYPE, DO TERMINAL-SPEED, DO X-DISPLAY, DO NEW-ENVIRON.
    expect(identifyGreeting(Buffer.from('fffd18fffd20fffd23fffd27', 'hex'), 23)).toEqual({ name: 'telnet' });
  });

  it('keeps other text as an unknown banner, and nothing as null', () => {
    expect(identifyGreeting(text('Welcome to the Hotline\r\n'), 5500)).toEqual({
      name: 'unknown',
      banner: 'Welcome to the Hotline',
    });
    expect(identifyGreeting(Buffer.alloc(0), 1)).toBeNull();
    expect(identifyGreeting(Buffer.from([0, 1, 2, 3]), 1)).toBeNull();
  });
});

describe('parseTextReply', () => {
  it('reads a single-line reply', () => {
    expect(parseTextReply(text('331 Please specify the password.\r\n'))).toEqual({
      code: 331,
      lines: ['331 Please specify the password.'],
    });
  });
  it('reads a multi-line reply to its last line, whatever the lines between say', () => {
    const feat = text('211-Features:\r\n EPRT\r\n AUTH TLS\r\n PASV\r\n211 End\r\n');
    expect(parseTextReply(feat)).toEqual({
      code: 211,
      lines: ['211-Features:', 'EPRT', 'AUTH TLS', 'PASV', '211 End'],
    });
  });
  it('is null while the reply is incomplete, and for what is no reply', () => {
    expect(parseTextReply(text('250-mail.example.com\r\n250-PIPELINING\r\n'))).toBeNull();
    expect(parseTextReply(text('220 ready'))).toBeNull();
    expect(parseTextReply(text('hello\r\n'))).toBeNull();
  });
});

describe('telnet', () => {
  it('separates negotiation, subnegotiation and escaped 255 from the text', () => {
    const data = Buffer.concat([
      Buffer.from([0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03]),
      Buffer.from([0xff, 0xfa, 0x18, 0x01, 0xff, 0xf0]),
      text('Debian GNU/Linux 12\r\nhost login: '),
      Buffer.from([0xff, 0xff]),
    ]);
    const { commands, text: shown } = splitTelnet(data);
    expect(commands).toEqual([
      { verb: 0xfb, option: 1 },
      { verb: 0xfb, option: 3 },
    ]);
    expect(shown).toBe('Debian GNU/Linux 12\r\nhost login: \u00ff');
  });
  it('lets the server echo and suppress go-ahead, and refuses everything else', () => {
    const answers = telnetAnswers([
      { verb: 0xfb, option: 1 },
      { verb: 0xfb, option: 3 },
      { verb: 0xfb, option: 5 },
      { verb: 0xfd, option: 0x18 },
      { verb: 0xfc, option: 9 },
    ]);
    expect(answers.toString('hex')).toBe('fffd01fffd03fffe05fffc18');
  });
  it('survives a cut sequence and an unterminated subnegotiation', () => {
    expect(splitTelnet(Buffer.from([0x41, 0xff])).text).toBe('A');
    expect(splitTelnet(Buffer.from([0x41, 0xff, 0xfb]))).toEqual({ commands: [], text: 'A' });
    expect(splitTelnet(Buffer.from([0xff, 0xfa, 1, 2, 3])).text).toBe('');
  });
});

describe('VNC', () => {
  it('reads the protocol version', () => {
    expect(parseVncBanner('RFB 003.889')).toMatchObject({ version: '3.889' });
    expect(parseVncBanner('RFB 3.8')).toBeNull();
  });
  it('says auth none when the None security type is offered', () => {
    expect(parseVncSecurity(Buffer.from([2, 2, 1]), true)).toEqual({ auth: 'none', types: [2, 1] });
    expect(parseVncSecurity(Buffer.from([2, 2, 19]), true)).toEqual({ auth: 'required', types: [2, 19] });
    expect(parseVncSecurity(Buffer.from([0, 0, 0, 1]), false)).toEqual({ auth: 'none', types: [1] });
    expect(parseVncSecurity(Buffer.from([0, 0, 0, 2]), false)).toEqual({ auth: 'required', types: [2] });
  });
  it('is null for a refusal or a short answer', () => {
    expect(parseVncSecurity(Buffer.from([0, 0, 0, 0, 5]), true)).toBeNull();
    expect(parseVncSecurity(Buffer.from([3, 1]), true)).toBeNull();
    expect(parseVncSecurity(Buffer.from([0, 0, 0, 0]), false)).toBeNull();
  });
});

describe('Redis', () => {
  it('reads authentication from the answer to PING', () => {
    expect(parseRedisReply('+PONG\r\n')).toMatchObject({ name: 'redis', details: { auth: 'none' } });
    expect(parseRedisReply('-NOAUTH Authentication required.')).toMatchObject({
      details: { auth: 'required' },
    });
    expect(parseRedisReply('-ERR operation not permitted')).toMatchObject({ details: { auth: 'required' } });
    expect(
      parseRedisReply('-DENIED Redis is running in protected mode because protected mode is enabled'),
    ).toMatchObject({ details: { protectedMode: true } });
    expect(parseRedisReply('+OK')).toBeNull();
  });
  it('reads the version from INFO server, and tells Valkey apart', () => {
    const info =
      '# Server\r\nredis_version:7.0.15\r\nredis_git_sha1:00000000\r\nredis_mode:standalone\r\nos:Linux\r\n';
    expect(parseRedisInfo(text(`$${info.length}\r\n${info}\r\n`))).toEqual({
      product: 'Redis',
      version: '7.0.15',
    });
    const valkey = '# Server\r\nredis_version:7.2.4\r\nserver_name:valkey\r\nvalkey_version:8.0.1\r\n';
    expect(parseRedisInfo(text(`$${valkey.length}\r\n${valkey}\r\n`))).toEqual({
      product: 'Valkey',
      version: '8.0.1',
    });
    expect(parseRedisInfo(text('-NOAUTH Authentication required.\r\n'))).toBeNull();
  });
});

describe('PostgreSQL', () => {
  it('sends the SSLRequest code 80877103', () => {
    expect(POSTGRES_SSL_REQUEST.readUInt32BE(0)).toBe(8);
    expect(POSTGRES_SSL_REQUEST.readUInt32BE(4)).toBe(80877103);
  });
  it("reads S and N, and an old server's error", () => {
    expect(parsePostgresSslReply(text('S'))).toEqual({
      name: 'postgresql',
      product: 'PostgreSQL',
      details: { ssl: true },
    });
    expect(parsePostgresSslReply(text('N'))).toMatchObject({ details: { ssl: false } });
    const fields = 'SFATAL\u0000C08P01\u0000Munsupported frontend protocol 1234.5679\u0000\u0000';
    const error = Buffer.concat([text('E'), Buffer.alloc(4), text(fields)]);
    error.writeUInt32BE(4 + fields.length, 1);
    expect(parsePostgresSslReply(error)).toEqual({
      name: 'postgresql',
      product: 'PostgreSQL',
      banner: 'unsupported frontend protocol 1234.5679',
    });
  });
  it('is null for a greeting that merely starts with S or N', () => {
    expect(parsePostgresSslReply(text('SSH-2.0-x\r\n'))).toBeNull();
    expect(parsePostgresSslReply(text('Y'))).toBeNull();
  });
});

describe('parseMemcachedVersion', () => {
  it('reads the version, and the SASL refusal', () => {
    expect(parseMemcachedVersion('VERSION 1.6.18\r\n')).toEqual({
      name: 'memcached',
      product: 'memcached',
      version: '1.6.18',
      banner: 'VERSION 1.6.18',
      details: { auth: 'none' },
    });
    expect(parseMemcachedVersion('CLIENT_ERROR unauthenticated')).toMatchObject({
      details: { auth: 'required' },
    });
    expect(parseMemcachedVersion('ERROR')).toBeNull();
  });
});

describe('BSON and the MongoDB wire protocol', () => {
  it('encodes what it decodes', () => {
    const doc = encodeBson({ isMaster: 1, name: 'é', flag: true, big: 2 ** 40, ratio: 0.5 });
    expect(decodeBson(doc)).toEqual({ isMaster: 1, name: 'é', flag: true, big: 2 ** 40, ratio: 0.5 });
    // {isMaster: 1} byte for byte, as the MongoDB drivers send it.
    expect(encodeBson({ isMaster: 1 }).toString('hex')).toBe('130000001069734d6173746572000100000000');
  });

  it('decodes nested documents, arrays, object ids, dates and int64', () => {
    const inner = encodeBson({ a: 'b' });
    const oid = Buffer.from('65f0a1b2c3d4e5f601020304', 'hex');
    const parts = [
      Buffer.concat([Buffer.from([0x03]), text('sub\u0000'), inner]),
      Buffer.concat([Buffer.from([0x04]), text('list\u0000'), inner]),
      Buffer.concat([Buffer.from([0x07]), text('id\u0000'), oid]),
      Buffer.concat([Buffer.from([0x09]), text('at\u0000'), Buffer.from('0010a5d4e8000000', 'hex')]),
      Buffer.concat([Buffer.from([0x0a]), text('nothing\u0000')]),
    ];
    const body = Buffer.concat(parts);
    const doc = Buffer.alloc(body.length + 5);
    doc.writeInt32LE(doc.length);
    body.copy(doc, 4);
    expect(decodeBson(doc)).toEqual({
      sub: { a: 'b' },
      list: { a: 'b' },
      id: '65f0a1b2c3d4e5f601020304',
      at: 1_000_000_000_000,
      nothing: null,
    });
  });

  it('survives hostile documents: a lying size, a field past the end, an unknown type, __proto__', () => {
    const doc = encodeBson({ ok: 1 });
    const lying = Buffer.from(doc);
    lying.writeInt32LE(1_000_000);
    expect(decodeBson(lying)).toBeNull();
    const cut = Buffer.from(encodeBson({ version: '7.0.5', ok: 1 }));
    cut.writeInt32LE(500, 4 + 1 + 'version'.length + 1); // the string claims 500 bytes
    expect(decodeBson(cut)).toEqual({});
    // Type 0x42 is no BSON type: the document ends there, with what came before.
    const unknown = Buffer.concat([
      Buffer.from([17, 0, 0, 0, 0x10]),
      text('a\u0000'),
      Buffer.from([1, 0, 0, 0, 0x42]),
      text('b\u0000'),
      Buffer.from([1, 2, 0]),
    ]);
    expect(unknown.readInt32LE(0)).toBe(unknown.length);
    expect(decodeBson(unknown)).toEqual({ a: 1 });
    const proto = decodeBson(encodeBson({ ['__proto__']: 'x', ok: 1 }));
    expect(proto).toEqual({ ok: 1 });
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
  });

  it('frames isMaster as OP_QUERY on admin.$cmd and buildInfo as OP_MSG', () => {
    const query = mongoQuery(7, { isMaster: 1 });
    expect(query.readInt32LE(0)).toBe(query.length);
    expect(query.readInt32LE(4)).toBe(7);
    expect(query.readInt32LE(12)).toBe(2004);
    expect(query.toString('latin1', 20, 31)).toBe('admin.$cmd\u0000');
    expect(query.readInt32LE(35)).toBe(-1);
    const msg = mongoMsg(8, { buildInfo: 1 });
    expect(msg.readInt32LE(12)).toBe(2013);
    expect(msg[20]).toBe(0);
    expect(decodeBson(msg.subarray(21))).toEqual({ buildInfo: 1, $db: 'admin' });
  });

  it('reads a reply to our request only', () => {
    const hello = encodeBson({ ismaster: true, maxWireVersion: 21, ok: 1 });
    expect(parseMongoReply(mongoReply(1, 7, hello), 7)).toEqual({
      ismaster: true,
      maxWireVersion: 21,
      ok: 1,
    });
    expect(parseMongoReply(mongoReply(2013, 8, encodeBson({ version: '7.0.5', ok: 1 })), 8)).toEqual({
      version: '7.0.5',
      ok: 1,
    });
    expect(parseMongoReply(mongoReply(1, 7, hello), 8)).toBeNull();
    expect(parseMongoReply(mongoReply(1, 7, hello).subarray(0, 30), 7)).toBeNull();
    expect(parseMongoReply(text('HTTP/1.0 200 OK\r\n\r\nIt looks like you are trying'), 7)).toBeNull();
  });
});

describe('hostile bytes', () => {
  it('no parser throws on pseudo-random input of any length', () => {
    let seed = 12345;
    const byte = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff;
    for (let length = 0; length < 300; length++) {
      for (const prefix of ['', 'HTTP/1.1 200 OK\r\n', '220-', '\u00ff\u00fb', 'SSH-2.0-', '$12\r\n']) {
        const data = Buffer.concat([text(prefix), Buffer.from(Array.from({ length }, byte))]);
        expect(() => {
          identifyGreeting(data, 21);
          const response = parseHttpResponse(data);
          if (response) identifyHttpService(response, true);
          parseMysqlHandshake(data);
          parseTextReply(data);
          splitTelnet(data);
          parsePostgresSslReply(data);
          parseRedisInfo(data);
          parseVncSecurity(data, true);
          parseVncSecurity(data, false);
          decodeBson(data);
          parseMongoReply(data, 7);
        }).not.toThrow();
      }
    }
  });
});

describe('tcpProbePlan', () => {
  it("asks the port's usual service first, then listens, then HTTP and TLS, three at most", () => {
    expect(tcpProbePlan(6379)).toEqual(['redis', 'banner', 'http']);
    expect(tcpProbePlan(5432)).toEqual(['postgresql', 'banner', 'http']);
    expect(tcpProbePlan(27017)).toEqual(['mongodb', 'banner', 'http']);
    expect(tcpProbePlan(11211)).toEqual(['memcached', 'banner', 'http']);
    expect(tcpProbePlan(443)).toEqual(['tls', 'banner', 'http']);
    expect(tcpProbePlan(8080)).toEqual(['http', 'banner', 'tls']);
    expect(tcpProbePlan(22)).toEqual(['banner', 'http', 'tls']);
    expect(tcpProbePlan(40000)).toEqual(['banner', 'http', 'tls']);
  });
});

describe('identifyTcpService arguments', () => {
  it('rejects a host name, a bad port, a bad budget and a host name that could inject headers', async () => {
    await expect(identifyTcpService('example.com', 80)).rejects.toBeInstanceOf(FlowTrackError);
    await expect(identifyTcpService('127.0.0.1', 0)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(identifyTcpService('127.0.0.1', 65536)).rejects.toMatchObject({ code: 'BAD_OPTION' });
    await expect(identifyTcpService('127.0.0.1', 80, { timeoutMs: 0 })).rejects.toMatchObject({
      code: 'BAD_OPTION',
    });
    await expect(
      identifyTcpService('127.0.0.1', 80, { hostName: 'a\r\nX-Injected: 1' }),
    ).rejects.toMatchObject({ code: 'BAD_OPTION' });
  });
  it('resolves null at once when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(identifyTcpService('127.0.0.1', 9, { signal: controller.signal })).resolves.toBeNull();
  });
});
