import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlowTrackError } from '../util/errors.js';
import {
  assessAll,
  assessExposure,
  DEFAULT_EXPOSURE_RULES_FILE,
  loadExposureRules,
  OPEN_PORT_RULE_ID,
  usualService,
  type ExposureRules,
} from './exposure.js';
import type { PortResult, Risk, ScanProtocol, ServiceInfo } from './scan-types.js';

const rules = loadExposureRules();

function open(
  protocol: ScanProtocol,
  port: number,
  service?: ServiceInfo,
  address = '192.0.2.1',
): PortResult {
  return {
    address,
    protocol,
    port,
    state: 'open',
    reason: protocol === 'tcp' ? 'syn-ack' : 'udp-response',
    service,
  };
}

const dir = mkdtempSync(join(tmpdir(), 'flowtrack-exposure-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
let fileCount = 0;
function rulesFile(content: unknown): string {
  const path = join(dir, `rules-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return path;
}

const goodRule = {
  id: 'test-service',
  protocol: 'tcp',
  ports: [4444],
  services: ['test'],
  risk: 'high',
  title: 'Test service',
  why: 'Because.',
  fix: 'Turn it off.',
};

function without(rule: Record<string, unknown>, key: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(rule).filter(([k]) => k !== key));
}

function loadError(content: unknown): FlowTrackError {
  try {
    loadExposureRules(rulesFile(content));
  } catch (err) {
    if (err instanceof FlowTrackError) return err;
    throw err;
  }
  throw new Error('the rules loaded');
}

describe('the shipped exposure rules', () => {
  it('load from beside the module, every id once, each saying why and how to fix', () => {
    expect(DEFAULT_EXPOSURE_RULES_FILE).toMatch(/[/\\]scan[/\\]exposure-rules\.json$/);
    expect(rules.length).toBeGreaterThanOrEqual(60);
    expect(new Set(rules.map((r) => r.id)).size).toBe(rules.length);
    for (const rule of rules) {
      expect(rule.why.length, rule.id).toBeGreaterThan(60);
      expect(rule.fix.length, rule.id).toBeGreaterThan(40);
    }
    expect(Object.isFrozen(rules)).toBe(true);
    expect(Object.isFrozen(rules[0])).toBe(true);
  });

  // An open port on which nothing was identified: the port alone says what it usually is.
  it.each<[ScanProtocol, number, string, Risk]>([
    ['tcp', 23, 'telnet', 'critical'],
    ['tcp', 21, 'ftp', 'high'],
    ['tcp', 512, 'rexec', 'critical'],
    ['tcp', 513, 'rlogin', 'critical'],
    ['tcp', 514, 'rsh', 'critical'],
    ['udp', 69, 'tftp', 'high'],
    ['tcp', 445, 'smb', 'high'],
    ['tcp', 139, 'netbios-ssn', 'high'],
    ['udp', 137, 'netbios-ns', 'medium'],
    ['tcp', 135, 'msrpc', 'high'],
    ['tcp', 3389, 'rdp', 'high'],
    ['tcp', 5900, 'vnc', 'high'],
    ['tcp', 5903, 'vnc', 'high'],
    ['tcp', 6000, 'x11', 'high'],
    ['tcp', 22, 'ssh', 'low'],
    ['tcp', 80, 'http', 'low'],
    ['tcp', 443, 'https', 'info'],
    ['tcp', 3306, 'mysql', 'high'],
    ['tcp', 5432, 'postgresql', 'high'],
    ['tcp', 1433, 'mssql', 'high'],
    ['tcp', 1521, 'oracle-tns', 'high'],
    ['tcp', 27017, 'mongodb', 'high'],
    ['tcp', 5984, 'couchdb', 'high'],
    ['tcp', 9200, 'elasticsearch', 'high'],
    ['tcp', 9300, 'elasticsearch-transport', 'high'],
    ['tcp', 9042, 'cassandra', 'high'],
    ['tcp', 8086, 'influxdb', 'high'],
    ['tcp', 6379, 'redis', 'high'],
    ['tcp', 11211, 'memcached-tcp', 'high'],
    ['udp', 11211, 'memcached-udp', 'critical'],
    ['tcp', 2375, 'docker-api', 'critical'],
    ['tcp', 2376, 'docker-api-tls', 'medium'],
    ['tcp', 6443, 'kubernetes-api', 'medium'],
    ['tcp', 10250, 'kubelet', 'high'],
    ['tcp', 2379, 'etcd', 'critical'],
    ['udp', 161, 'snmp', 'medium'],
    ['udp', 123, 'ntp', 'low'],
    ['udp', 53, 'dns-udp', 'medium'],
    ['udp', 1900, 'ssdp', 'medium'],
    ['tcp', 389, 'ldap', 'medium'],
    ['tcp', 2049, 'nfs', 'high'],
    ['tcp', 111, 'rpcbind', 'high'],
    ['tcp', 873, 'rsync', 'medium'],
    ['tcp', 1883, 'mqtt', 'medium'],
    ['tcp', 5672, 'amqp', 'medium'],
    ['tcp', 15672, 'rabbitmq-management', 'medium'],
    ['tcp', 4369, 'epmd', 'medium'],
    ['tcp', 9092, 'kafka', 'high'],
    ['tcp', 2181, 'zookeeper', 'high'],
    ['tcp', 1099, 'java-rmi', 'high'],
    ['tcp', 8080, 'jenkins', 'medium'],
    ['tcp', 9090, 'prometheus', 'medium'],
    ['tcp', 9100, 'node-exporter', 'low'],
    ['tcp', 5601, 'kibana', 'medium'],
    ['udp', 623, 'ipmi', 'high'],
    ['udp', 5060, 'sip-udp', 'low'],
  ])('%s/%i unidentified: %s (%s)', (protocol, port, ruleId, risk) => {
    const finding = assessExposure(open(protocol, port), rules);
    expect(finding).toMatchObject({ ruleId, risk, protocol, port });
    expect(finding?.service).toBe(usualService(protocol, port, rules));
  });

  // What a service said about itself decides between the rules for it.
  it.each<[ScanProtocol, number, ServiceInfo, string, Risk]>([
    ['tcp', 6379, { name: 'redis', details: { auth: 'none' } }, 'redis-no-auth', 'critical'],
    ['tcp', 6379, { name: 'redis', details: { auth: 'required' } }, 'redis', 'high'],
    ['tcp', 27017, { name: 'mongodb', details: { auth: 'none' } }, 'mongodb-no-auth', 'critical'],
    ['tcp', 9200, { name: 'elasticsearch', details: { auth: 'none' } }, 'elasticsearch-no-auth', 'critical'],
    ['tcp', 6443, { name: 'kubernetes', details: { auth: 'none' } }, 'kubernetes-api-no-auth', 'critical'],
    ['tcp', 21, { name: 'ftp', details: { anonymous: true } }, 'ftp-anonymous', 'critical'],
    ['tcp', 21, { name: 'ftp', details: { starttls: false } }, 'ftp-no-tls', 'high'],
    ['tcp', 21, { name: 'ftp', details: { starttls: true, anonymous: false } }, 'ftp', 'high'],
    ['udp', 161, { name: 'snmp', details: { community: 'public' } }, 'snmp-public', 'high'],
    ['udp', 161, { name: 'snmp', details: { community: 'not-public' } }, 'snmp', 'medium'],
    ['tcp', 5901, { name: 'vnc', details: { auth: 'none' } }, 'vnc-no-auth', 'critical'],
    ['tcp', 2376, { name: 'docker-tls', tls: true }, 'docker-api-tls', 'medium'],
    // The plain Docker API is a root shell whatever port it was moved to.
    ['tcp', 2376, { name: 'docker' }, 'docker-api', 'critical'],
  ])('%s/%i %o: %s (%s)', (protocol, port, service, ruleId, risk) => {
    expect(assessExposure(open(protocol, port, service), rules)).toMatchObject({ ruleId, risk });
  });
});

describe('assessExposure', () => {
  it('gives a finding with the rule’s words for an open port', () => {
    expect(assessExposure(open('tcp', 6379, { name: 'redis', details: { auth: 'none' } }), rules)).toEqual({
      address: '192.0.2.1',
      protocol: 'tcp',
      port: 6379,
      service: 'redis',
      risk: 'critical',
      ruleId: 'redis-no-auth',
      title: 'Redis answers without authentication',
      why: expect.stringContaining('CONFIG SET dir') as unknown,
      fix: expect.stringContaining('bind 127.0.0.1') as unknown,
    });
  });

  it('gives nothing for a port that is not open (UDP open|filtered included)', () => {
    for (const state of ['closed', 'filtered', 'open|filtered'] as const) {
      expect(assessExposure({ ...open('udp', 11211), state, reason: 'no-response' }, rules)).toBeNull();
      expect(assessExposure({ ...open('tcp', 23), state, reason: 'conn-refused' }, rules)).toBeNull();
    }
  });

  it('follows the identified service, not the port: SSH on the Redis port is SSH', () => {
    expect(assessExposure(open('tcp', 6379, { name: 'ssh' }), rules)).toMatchObject({
      ruleId: 'ssh',
      service: 'ssh',
      risk: 'low',
    });
    // And Redis moved to another port is still Redis.
    expect(
      assessExposure(open('tcp', 16379, { name: 'redis', details: { auth: 'none' } }), rules),
    ).toMatchObject({ ruleId: 'redis-no-auth', port: 16379 });
  });

  it('reads other tools’ names for a service and reports FlowTrack’s (nmap’s microsoft-ds is smb)', () => {
    expect(assessExposure(open('tcp', 445, { name: 'microsoft-ds' }), rules)).toMatchObject({
      ruleId: 'smb',
      service: 'smb',
    });
    expect(assessExposure(open('tcp', 53, { name: 'domain' }), rules)).toMatchObject({
      ruleId: 'dns-tcp',
      service: 'dns',
    });
  });

  it('lets the port speak when only a carrier (HTTP, TLS) was identified: HTTP on 2375 is the Docker API', () => {
    expect(assessExposure(open('tcp', 2375, { name: 'http' }), rules)).toMatchObject({
      ruleId: 'docker-api',
      risk: 'critical',
      service: 'http',
    });
    expect(assessExposure(open('tcp', 6443, { name: 'https', tls: true }), rules)).toMatchObject({
      ruleId: 'kubernetes-api',
    });
    expect(assessExposure(open('tcp', 80, { name: 'http' }), rules)).toMatchObject({ ruleId: 'http' });
    expect(assessExposure(open('tcp', 8443, { name: 'https' }), rules)).toMatchObject({ ruleId: 'https' });
    // HTTP on a port no rule names is still HTTP.
    expect(assessExposure(open('tcp', 3000, { name: 'http' }), rules)).toMatchObject({
      ruleId: 'http',
      risk: 'low',
    });
  });

  it('matches the protocol: 514/udp is syslog, not rsh; 11211/udp is the amplifier', () => {
    expect(assessExposure(open('udp', 514), rules)).toMatchObject({ ruleId: OPEN_PORT_RULE_ID });
    expect(assessExposure(open('udp', 11211, { name: 'memcached' }), rules)).toMatchObject({
      ruleId: 'memcached-udp',
      risk: 'critical',
      why: expect.stringContaining('51,000x') as unknown,
      fix: expect.stringContaining('-U 0') as unknown,
    });
  });

  it('needs every `when` detail to be equal, not just present', () => {
    expect(
      assessExposure(open('tcp', 6379, { name: 'redis', details: { auth: 'None' } }), rules)?.ruleId,
    ).toBe('redis');
    expect(
      assessExposure(open('tcp', 21, { name: 'ftp', details: { anonymous: 'true' } }), rules)?.ruleId,
    ).toBe('ftp');
    // Without a service there are no details: a port guess never takes a `when` rule.
    expect(assessExposure(open('tcp', 6379), rules)?.ruleId).toBe('redis');
  });

  it('picks the most serious of equally specific rules (anonymous FTP without TLS)', () => {
    const finding = assessExposure(
      open('tcp', 21, { name: 'ftp', details: { anonymous: true, starttls: false } }),
      rules,
    );
    expect(finding).toMatchObject({ ruleId: 'ftp-anonymous', risk: 'critical' });
  });

  it('prefers more `when` keys, then the earlier rule when all else is equal', () => {
    const custom = loadExposureRules(
      rulesFile({
        rules: [
          { ...goodRule, id: 'first', risk: 'medium' },
          { ...goodRule, id: 'second', risk: 'medium' },
          { ...goodRule, id: 'one-key', risk: 'low', when: { auth: 'none' } },
          { ...goodRule, id: 'two-keys', risk: 'info', when: { auth: 'none', tls: false } },
        ],
      }),
    );
    expect(assessExposure(open('tcp', 4444), custom)?.ruleId).toBe('first');
    expect(
      assessExposure(open('tcp', 4444, { name: 'test', details: { auth: 'none' } }), custom)?.ruleId,
    ).toBe('one-key');
    expect(
      assessExposure(open('tcp', 4444, { name: 'test', details: { auth: 'none', tls: false } }), custom)
        ?.ruleId,
    ).toBe('two-keys');
  });

  it('still reports an open port no rule describes, as info, with what was identified', () => {
    expect(assessExposure(open('tcp', 47123), rules)).toMatchObject({
      ruleId: 'open-port',
      risk: 'info',
      service: 'unknown',
      title: 'Open port: unknown service',
    });
    expect(assessExposure(open('tcp', 47123, { name: 'gopher' }), rules)).toMatchObject({
      ruleId: 'open-port',
      service: 'gopher',
    });
    // "tcpwrapped" and "unknown" are not services: the port guess applies.
    expect(assessExposure(open('tcp', 6379, { name: 'tcpwrapped' }), rules)?.ruleId).toBe('redis');
  });
});

describe('assessAll', () => {
  it('judges the open ports, most serious first, then by address (numerically) and port', () => {
    const results: PortResult[] = [
      open('tcp', 22, { name: 'ssh' }, '10.0.0.10'),
      open('tcp', 23, undefined, '10.0.0.10'),
      open('tcp', 80, undefined, '2001:db8::1'),
      open('tcp', 80, undefined, '10.0.0.2'),
      { ...open('tcp', 25, undefined, '10.0.0.2'), state: 'closed', reason: 'conn-refused' },
      open('tcp', 22, undefined, '10.0.0.2'),
      open('tcp', 2375, undefined, '10.0.0.2'),
      { ...open('udp', 161, undefined, '10.0.0.2'), state: 'open|filtered', reason: 'no-response' },
      open('tcp', 47000, undefined, '10.0.0.2'),
    ];
    expect(assessAll(results, rules).map((f) => `${f.risk} ${f.address} ${f.port} ${f.ruleId}`)).toEqual([
      'critical 10.0.0.2 2375 docker-api',
      'critical 10.0.0.10 23 telnet',
      'low 10.0.0.2 22 ssh',
      'low 10.0.0.2 80 http',
      'low 10.0.0.10 22 ssh',
      'low 2001:db8::1 80 http',
      'info 10.0.0.2 47000 open-port',
    ]);
  });

  it('gives nothing for a scan with nothing open', () => {
    expect(assessAll([{ ...open('tcp', 22), state: 'closed', reason: 'conn-refused' }], rules)).toEqual([]);
  });
});

describe('usualService', () => {
  it('names a port by the rules, for its protocol only', () => {
    expect(usualService('tcp', 6379)).toBe('redis');
    expect(usualService('udp', 161)).toBe('snmp');
    expect(usualService('tcp', 445)).toBe('smb');
    expect(usualService('udp', 11211)).toBe('memcached');
    expect(usualService('tcp', 161)).toBeUndefined();
    expect(usualService('tcp', 47123)).toBeUndefined();
  });

  it('prefers a rule without `when`, but uses a conditional one when it is all there is', () => {
    const custom: ExposureRules = loadExposureRules(
      rulesFile({
        rules: [
          { ...goodRule, id: 'only-if', services: ['conditional'], when: { auth: 'none' } },
          { ...goodRule, id: 'plain', services: ['plain'] },
          { ...goodRule, id: 'other-port', ports: [5555], services: ['other'], when: { auth: 'none' } },
        ],
      }),
    );
    expect(usualService('tcp', 4444, custom)).toBe('plain');
    expect(usualService('tcp', 5555, custom)).toBe('other');
  });
});

describe('loadExposureRules on an admin’s broken edit', () => {
  it('names the rule and the bad key, with the value it got', () => {
    const err = loadError({ rules: [goodRule, { ...goodRule, id: 'redis-typo', risk: 'severe' }] });
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.message).toMatch(
      /rule "redis-typo" \(rules\[1\]\): risk: .*info.*critical.* \(got "severe"\)/,
    );
  });

  it('reports every problem at once: unknown keys, missing keys, bad ports, bad `when`', () => {
    const untitled = without(goodRule, 'title');
    const err = loadError({
      rules: [
        { ...goodRule, id: 'typo', prots: [1] },
        { ...untitled, id: 'untitled' },
        { ...goodRule, id: 'big-port', ports: [70000] },
        { ...goodRule, id: 'bad-when', when: { auth: ['none'] } },
        { ...goodRule, id: 'empty-when', when: {} },
        { ...goodRule, id: 'Upper_Case' },
        { ...goodRule, id: 'no-services', services: [] },
        { ...goodRule, protocol: 'sctp', id: 'sctp' },
      ],
    });
    expect(err.message).toContain('8 problems');
    expect(err.message).toContain('rule "typo" (rules[0]): unknown key "prots"');
    expect(err.message).toContain('rule "untitled" (rules[1]): title: is required');
    expect(err.message).toContain('rule "big-port" (rules[2]): ports[0]:');
    expect(err.message).toContain('(got 70000)');
    expect(err.message).toContain('rule "bad-when" (rules[3]): when.auth:');
    expect(err.message).toContain('rule "empty-when" (rules[4]): when: must hold at least one detail');
    expect(err.message).toContain('rule "Upper_Case" (rules[5]): id: must be lower-case words');
    expect(err.message).toContain('rule "no-services" (rules[6]): services: must name at least one service');
    expect(err.message).toContain('rule "sctp" (rules[7]): protocol:');
  });

  it('refuses a duplicate id, the reserved open-port id, and a rule without an id', () => {
    const anonymous = without(goodRule, 'id');
    const err = loadError({ rules: [goodRule, goodRule, { ...goodRule, id: 'open-port' }, anonymous] });
    expect(err.message).toContain(
      'rule "test-service" (rules[1]): id: "test-service" is already the id of rules[0]',
    );
    expect(err.message).toContain('rule "open-port" (rules[2]): id: "open-port" is taken');
    expect(err.message).toContain('rules[3]: id: is required');
  });

  it('says where the JSON is broken', () => {
    const err = loadError('{\n  "rules": [\n    { "id": "x", }\n  ]\n}\n');
    expect(err.code).toBe('BAD_CONFIG');
    expect(err.message).toMatch(/not valid JSON: .*line 3/);
  });

  it('refuses a file that is not a rule list', () => {
    expect(loadError([goodRule]).message).toContain('the top level must be an object with a "rules" list');
    expect(loadError({ rule: [goodRule] }).message).toContain('unknown top-level key "rule"');
  });

  it('says when the file cannot be read', () => {
    expect(() => loadExposureRules(join(dir, 'missing.json'))).toThrow(
      /cannot read the exposure rules .*ENOENT/,
    );
  });
});
