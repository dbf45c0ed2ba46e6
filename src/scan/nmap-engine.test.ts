import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import { FlowTrackError } from '../util/errors.js';
import { nmapArguments, nmapAvailable, parseNmapXml, portRanges, runNmap } from './nmap-engine.js';

// Reports in nmap 7.93's own format (-oX), shortened by hand: a service-version scan of one host
// (-sT -sU -sV), an IPv6 host, and a host that did not answer.
const SERVICE_SCAN = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<!-- Nmap 7.93 scan initiated Sun Nov 22 14:01:10 2026 as: nmap -sT -sU -sV -Pn -n -oX - -p T:20-25,80,443,2375,3306,9200,U:53,161 -&#45; 192.0.2.10 -->
<nmaprun scanner="nmap" args="nmap -sT -sU -sV -Pn -n -oX - -p T:20-25,80,443,2375,3306,9200,U:53,161 -&#45; 192.0.2.10" start="1795356070" startstr="Sun Nov 22 14:01:10 2026" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="11" services="20-25,80,443,2375,3306,9200"/>
<scaninfo type="udp" protocol="udp" numservices="2" services="53,161"/>
<verbose level="0"/>
<debugging level="0"/>
<host starttime="1795356071" endtime="1795356083"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="192.0.2.10" addrtype="ipv4"/>
<address addr="52:54:00:12:34:56" addrtype="mac" vendor="QEMU virtual NIC"/>
<hostnames>
</hostnames>
<ports><extraports state="closed" count="4">
<extrareasons reason="conn-refused" count="4" proto="tcp" ports="20-21,24-25"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ssh" product="OpenSSH" version="9.2p1 Debian 2+deb12u3" extrainfo="protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service></port>
<port protocol="tcp" portid="23"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="tcpwrapped" method="probed" conf="8"/></port>
<port protocol="tcp" portid="80"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="http" product="nginx" version="1.22.1" method="probed" conf="10"><cpe>cpe:/a:igor_sysoev:nginx:1.22.1</cpe></service></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="http" product="nginx" tunnel="ssl" method="probed" conf="10"/></port>
<port protocol="tcp" portid="2375"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="docker" product="Docker" version="24.0.7" extrainfo="API 1.43" method="probed" conf="10"/></port>
<port protocol="tcp" portid="3306"><state state="filtered" reason="no-response" reason_ttl="0"/><service name="mysql" method="table" conf="3"/></port>
<port protocol="tcp" portid="9200"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="http" product="Elasticsearch REST API" version="7.17.9" extrainfo="name: node-1; cluster: prod; Lucene 8.11.1" method="probed" conf="10"/></port>
<port protocol="udp" portid="53"><state state="open" reason="udp-response" reason_ttl="64"/><service name="domain" product="dnsmasq" version="2.89" method="probed" conf="10"/></port>
<port protocol="udp" portid="161"><state state="open|filtered" reason="no-response" reason_ttl="0"/><service name="snmp" method="table" conf="3"/></port>
</ports>
<times srtt="1536" rttvar="812" to="100000"/>
</host>
<host starttime="1795356071" endtime="1795356072"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="2001:db8::1" addrtype="ipv6"/>
<hostnames>
</hostnames>
<ports><port protocol="tcp" portid="22"><state state="filtered" reason="no-response" reason_ttl="0"/></port>
</ports>
<times srtt="250" rttvar="100" to="100000"/>
</host>
<host><status state="down" reason="no-response" reason_ttl="0"/>
<address addr="192.0.2.99" addrtype="ipv4"/>
</host>
<runstats><finished time="1795356083" timestr="Sun Nov 22 14:01:23 2026" summary="Nmap done at Sun Nov 22 14:01:23 2026; 3 IP addresses (2 hosts up) scanned in 12.60 seconds" elapsed="12.60" exit="success"/><hosts up="2" down="1" total="3"/>
</runstats>
</nmaprun>
`;

// The shape of a plain connect + UDP scan of 127.0.0.1 where everything was closed: nmap lists no
// port, only <extraports> with the ranges.
const ALL_CLOSED = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sT -sU -Pn -n -oX - -p T:47000-47100,U:47000-47002 -&#45; 127.0.0.1" start="1795356126" version="7.93" xmloutputversion="1.05">
<scaninfo type="connect" protocol="tcp" numservices="101" services="47000-47100"/>
<scaninfo type="udp" protocol="udp" numservices="3" services="47000-47002"/>
<host starttime="1795356126" endtime="1795356126"><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="127.0.0.1" addrtype="ipv4"/>
<hostnames>
</hostnames>
<ports><extraports state="closed" count="104">
<extrareasons reason="conn-refused" count="101" proto="tcp" ports="47000-47100"/>
<extrareasons reason="port-unreach" count="3" proto="udp" ports="47000-47002"/>
</extraports>
</ports>
<times srtt="163" rttvar="150" to="100000"/>
</host>
<runstats><finished time="1795356126" elapsed="0.16" exit="success"/><hosts up="1" down="0" total="1"/>
</runstats>
</nmaprun>
`;

function report(hostBody: string, finished = '<finished time="1" elapsed="0.1" exit="success"/>'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<nmaprun scanner="nmap" version="7.93" xmloutputversion="1.05">
<host><status state="up" reason="user-set" reason_ttl="0"/>
<address addr="198.51.100.7" addrtype="ipv4"/>
${hostBody}
</host>
<runstats>${finished}</runstats>
</nmaprun>
`;
}

function thrown(f: () => unknown): FlowTrackError {
  try {
    f();
  } catch (err) {
    if (err instanceof FlowTrackError) return err;
    throw err;
  }
  throw new Error('nothing was thrown');
}

async function rejected(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    if (err instanceof Error) return err;
    throw err;
  }
  throw new Error('the promise resolved');
}

async function rejectedWithFlowTrackError(p: Promise<unknown>): Promise<FlowTrackError> {
  const err = await rejected(p);
  if (err instanceof FlowTrackError) return err;
  throw err;
}

describe('parseNmapXml', () => {
  it('reads a service scan: addresses, states, reasons, services and the host’s round trip', () => {
    const results = parseNmapXml(SERVICE_SCAN);
    const v4 = results.filter((r) => r.address === '192.0.2.10');
    expect(v4.map((r) => `${r.protocol}/${r.port} ${r.state} ${r.reason}`)).toEqual([
      'tcp/20 closed conn-refused',
      'tcp/21 closed conn-refused',
      'tcp/22 open syn-ack',
      'tcp/23 open syn-ack',
      'tcp/24 closed conn-refused',
      'tcp/25 closed conn-refused',
      'tcp/80 open syn-ack',
      'tcp/443 open syn-ack',
      'tcp/2375 open syn-ack',
      'tcp/3306 filtered no-response',
      'tcp/9200 open syn-ack',
      'udp/53 open udp-response',
      'udp/161 open|filtered no-response',
    ]);
    const at = (protocol: string, port: number) => v4.find((r) => r.protocol === protocol && r.port === port);
    expect(at('tcp', 22)).toEqual({
      address: '192.0.2.10',
      protocol: 'tcp',
      port: 22,
      state: 'open',
      reason: 'syn-ack',
      rttMs: 1.536,
      service: { name: 'ssh', product: 'OpenSSH', version: '9.2p1 Debian 2+deb12u3' },
    });
    expect(at('tcp', 80)?.service).toEqual({ name: 'http', product: 'nginx', version: '1.22.1' });
    expect(at('tcp', 443)?.service).toEqual({ name: 'https', product: 'nginx', tls: true });
    expect(at('tcp', 2375)?.service).toMatchObject({ name: 'docker', product: 'Docker', version: '24.0.7' });
    // A web server that is Elasticsearch is named as such: the application decides the risk.
    expect(at('tcp', 9200)?.service).toMatchObject({ name: 'elasticsearch', version: '7.17.9' });
    // nmap's words become FlowTrack's: domain is dns.
    expect(at('udp', 53)?.service).toEqual({ name: 'dns', product: 'dnsmasq', version: '2.89' });
  });

  it('does not take nmap’s port-table guess or "tcpwrapped" for an identified service', () => {
    const results = parseNmapXml(SERVICE_SCAN);
    const at = (protocol: string, port: number) =>
      results.find((r) => r.address === '192.0.2.10' && r.protocol === protocol && r.port === port);
    expect(at('tcp', 3306)?.service).toBeUndefined();
    expect(at('udp', 161)?.service).toBeUndefined();
    expect(at('tcp', 23)?.service).toBeUndefined();
  });

  it('gives a round trip only to ports that answered', () => {
    const results = parseNmapXml(SERVICE_SCAN);
    for (const r of results) {
      if (r.reason === 'no-response') expect(r.rttMs, `${r.protocol}/${r.port}`).toBeUndefined();
      else expect(r.rttMs).toBeGreaterThan(0);
    }
  });

  it('reads IPv6 hosts and skips hosts that were down', () => {
    const results = parseNmapXml(SERVICE_SCAN);
    expect(results.filter((r) => r.address === '2001:db8::1')).toEqual([
      { address: '2001:db8::1', protocol: 'tcp', port: 22, state: 'filtered', reason: 'no-response' },
    ]);
    expect(results.some((r) => r.address === '192.0.2.99')).toBe(false);
    expect(results.some((r) => r.address.includes('52:54:00'))).toBe(false);
  });

  it('lists the ports nmap summarised as <extraports>, TCP and UDP', () => {
    const results = parseNmapXml(ALL_CLOSED);
    expect(results).toHaveLength(104);
    expect(results.filter((r) => r.protocol === 'tcp').map((r) => r.port)).toEqual(
      Array.from({ length: 101 }, (_, i) => 47000 + i),
    );
    expect(results.find((r) => r.protocol === 'udp' && r.port === 47001)).toEqual({
      address: '127.0.0.1',
      protocol: 'udp',
      port: 47001,
      state: 'closed',
      reason: 'port-unreach',
      rttMs: 0.163,
    });
  });

  it('maps closed|filtered to filtered and unfiltered to closed, keeping nmap’s reason', () => {
    const results = parseNmapXml(
      report(`<ports>
<port protocol="tcp" portid="80"><state state="closed|filtered" reason="no-response" reason_ttl="0"/></port>
<port protocol="tcp" portid="81"><state state="unfiltered" reason="reset" reason_ttl="63"/></port>
</ports>`),
    );
    expect(results.map((r) => [r.port, r.state, r.reason])).toEqual([
      [80, 'filtered', 'no-response'],
      [81, 'closed', 'reset'],
    ]);
  });

  it('skips what it cannot represent: SCTP ports, unknown states, old <extraports> without a list', () => {
    const results = parseNmapXml(
      report(`<ports><extraports state="filtered" count="998"><extrareasons reason="no-response" count="998"/></extraports>
<port protocol="sctp" portid="38412"><state state="open" reason="init-ack" reason_ttl="0"/></port>
<port protocol="tcp" portid="70000"><state state="open" reason="syn-ack" reason_ttl="0"/></port>
<port protocol="tcp" portid="8"><state state="weird" reason="syn-ack" reason_ttl="0"/></port>
<port protocol="tcp" portid="7"><state state="constructor" reason="syn-ack" reason_ttl="0"/></port>
<port protocol="tcp" portid="9"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="toString" method="probed" conf="10"/></port>
</ports>`),
    );
    expect(results.map((r) => `${r.protocol}/${r.port}`)).toEqual(['tcp/9']);
    expect(results[0]?.service).toEqual({ name: 'tostring' });
  });

  it('names the TLS Docker API apart from the plain one', () => {
    const [result] = parseNmapXml(
      report(
        `<ports><port protocol="tcp" portid="2376"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="docker" product="Docker" tunnel="ssl" method="probed" conf="10"/></port></ports>`,
      ),
    );
    expect(result?.service).toEqual({ name: 'docker-tls', product: 'Docker', tls: true });
  });

  it('gives no results for a report without hosts', () => {
    expect(
      parseNmapXml(
        '<?xml version="1.0"?><nmaprun scanner="nmap"><runstats><finished exit="success"/></runstats></nmaprun>',
      ),
    ).toEqual([]);
  });

  it('refuses truncated XML, XML that is not nmap’s, and a report of nmap’s own failure', () => {
    // Cut where nmap was stopped: between hosts, inside a host, inside a tag.
    for (const end of [
      SERVICE_SCAN.indexOf('<runstats>'),
      SERVICE_SCAN.indexOf('<port protocol="tcp" portid="9200">'),
      SERVICE_SCAN.indexOf('portid="9200"') + 4,
    ]) {
      const truncated = thrown(() => parseNmapXml(SERVICE_SCAN.slice(0, end)));
      expect(truncated.code).toBe('IO_ERROR');
      expect(truncated.message).toMatch(/^nmap's report is (incomplete \(no <runstats>\)|not XML)/);
    }
    expect(thrown(() => parseNmapXml('<scan><host/></scan>')).message).toMatch(/not an nmap report/);
    expect(thrown(() => parseNmapXml('')).code).toBe('IO_ERROR');
    const failed = thrown(() =>
      parseNmapXml(report('', '<finished time="1" exit="error" errormsg="Failed to open device eth9"/>')),
    );
    expect(failed.message).toBe('nmap failed: Failed to open device eth9');
  });
});

describe('portRanges', () => {
  it('sorts, drops duplicates and joins runs into ranges', () => {
    expect(portRanges([443, 22, 23, 24, 80, 23, 25, 8080, 8081])).toBe('22-25,80,443,8080-8081');
    expect(portRanges([1])).toBe('1');
    expect(portRanges(Array.from({ length: 65535 }, (_, i) => 65535 - i))).toBe('1-65535');
  });
});

describe('nmapArguments', () => {
  it('asks for a connect scan of every target, no ping, no DNS, XML on stdout, targets after --', () => {
    expect(nmapArguments(['127.0.0.1', '-oN/etc/passwd'], { tcpPorts: [22, 80, 81] })).toEqual([
      '-sT',
      '-Pn',
      '-n',
      '-p',
      'T:22,80-81',
      '-oX',
      '-',
      '--',
      '127.0.0.1',
      '-oN/etc/passwd',
    ]);
  });

  it('adds -sU with U: ports, -sV on request, -6 for IPv6; -sT only with TCP ports', () => {
    expect(
      nmapArguments(['::1'], { tcpPorts: [22], udpPorts: [53, 161, 162], serviceDetection: true }, 6),
    ).toEqual(['-sT', '-sU', '-sV', '-Pn', '-n', '-6', '-p', 'T:22,U:53,161-162', '-oX', '-', '--', '::1']);
    expect(nmapArguments(['127.0.0.1'], { udpPorts: [53] })).toEqual([
      '-sU',
      '-Pn',
      '-n',
      '-p',
      'U:53',
      '-oX',
      '-',
      '--',
      '127.0.0.1',
    ]);
  });
});

describe('runNmap with a stand-in nmap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flowtrack-nmap-'));
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  let scripts = 0;
  /** An executable shell script that stands in for nmap. */
  function fakeNmap(body: string): string {
    const path = join(dir, `nmap-${++scripts}`);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }
  const reportFile = join(dir, 'report.xml');
  writeFileSync(reportFile, ALL_CLOSED);

  it('runs nmap with an argument list and reads its report', async () => {
    const argsFile = join(dir, 'args-1');
    const nmapPath = fakeNmap(`printf '%s\\n' "$@" > '${argsFile}'\ncat '${reportFile}'`);
    const results = await runNmap(['127.0.0.1'], { tcpPorts: [47000, 47001], nmapPath });
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual(
      nmapArguments(['127.0.0.1'], { tcpPorts: [47000, 47001] }),
    );
    expect(results).toHaveLength(104);
  });

  it('runs IPv4 and IPv6 targets in two nmap runs, the second with -6', async () => {
    const argsFile = join(dir, 'args-2');
    const nmapPath = fakeNmap(`echo "$*" >> '${argsFile}'\ncat '${reportFile}'`);
    await runNmap(['127.0.0.1', '::1', 'localhost'], { tcpPorts: [22], nmapPath });
    expect(readFileSync(argsFile, 'utf8').trim().split('\n')).toEqual([
      '-sT -Pn -n -p T:22 -oX - -- 127.0.0.1 localhost',
      '-sT -Pn -n -6 -p T:22 -oX - -- ::1',
    ]);
  });

  it('kills nmap at the timeout and says so', async () => {
    const pidFile = join(dir, 'pid-timeout');
    const nmapPath = fakeNmap(`echo $$ > '${pidFile}'\nexec sleep 30`);
    const started = performance.now();
    const err = await rejected(runNmap(['127.0.0.1'], { tcpPorts: [22], nmapPath, timeoutMs: 300 }));
    expect(performance.now() - started).toBeLessThan(5000);
    expect(err).toBeInstanceOf(FlowTrackError);
    expect(err.message).toMatch(/nmap did not finish within 0\.3 s and was stopped/);
    expect(await gone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
  });

  it('kills nmap when the scan is aborted, and rejects with the abort reason', async () => {
    const pidFile = join(dir, 'pid-abort');
    const nmapPath = fakeNmap(`echo $$ > '${pidFile}'\nexec sleep 30`);
    const controller = new AbortController();
    const running = runNmap(['127.0.0.1'], { tcpPorts: [22], nmapPath, signal: controller.signal });
    await delay(200);
    controller.abort(new Error('the admin stopped the scan'));
    expect((await rejected(running)).message).toBe('the admin stopped the scan');
    expect(await gone(Number(readFileSync(pidFile, 'utf8')))).toBe(true);
    // Already aborted: nmap is not even started.
    expect(
      (await rejected(runNmap(['127.0.0.1'], { tcpPorts: [22], nmapPath, signal: controller.signal })))
        .message,
    ).toBe('the admin stopped the scan');
  });

  it('says how to install nmap when it is missing', async () => {
    const err = await rejectedWithFlowTrackError(
      runNmap(['127.0.0.1'], { tcpPorts: [22], nmapPath: join(dir, 'no-such-nmap') }),
    );
    expect(err.code).toBe('IO_ERROR');
    expect(err.message).toContain('nmap is not installed');
    expect(err.message).toContain('apt-get install nmap');
  });

  it('says that a UDP scan needs root when nmap refuses it', async () => {
    const nmapPath = fakeNmap(
      `echo 'You requested a scan type which requires root privileges.' >&2\necho 'QUITTING!' >&2\nexit 1`,
    );
    const err = await rejected(runNmap(['127.0.0.1'], { udpPorts: [53], nmapPath }));
    expect(err.message).toMatch(
      /^nmap's UDP scan \(-sU\) needs root: run the scan as root, or scan TCP ports only/,
    );
    expect(err.message).toContain(
      'exited with status 1: You requested a scan type which requires root privileges.',
    );
  });

  it('passes on what nmap said when it fails otherwise', async () => {
    const nmapPath = fakeNmap(
      `echo 'Failed to resolve "no.such.host".' >&2\necho 'WARNING: No targets were specified' >&2\nexit 1`,
    );
    const err = await rejected(runNmap(['no.such.host'], { tcpPorts: [22], nmapPath }));
    expect(err.message).toBe(
      'nmap exited with status 1: Failed to resolve "no.such.host". / WARNING: No targets were specified',
    );
  });

  it('refuses a request with no target, no port or a bad port, before starting nmap', async () => {
    const nmapPath = join(dir, 'never-run');
    for (const [targets, options, words] of [
      [[], { tcpPorts: [22] }, 'no target to scan'],
      [['127.0.0.1'], {}, 'no port to scan'],
      [['127.0.0.1'], { tcpPorts: [0] }, 'bad port 0'],
      [['127.0.0.1'], { udpPorts: [65536] }, 'bad port 65536'],
      [['127.0.0.1'], { tcpPorts: [22.5] }, 'bad port 22.5'],
      [[''], { tcpPorts: [22] }, 'bad target ""'],
      [['127.0.0.1'], { tcpPorts: [22], timeoutMs: 0 }, 'bad timeoutMs 0'],
    ] as const) {
      const err = await rejectedWithFlowTrackError(runNmap(targets, { ...options, nmapPath }));
      expect(err.code).toBe('BAD_OPTION');
      expect(err.message).toContain(words);
    }
  });

  it('tells whether nmap can be run', async () => {
    expect(await nmapAvailable(fakeNmap('echo "Nmap version 7.93"'))).toBe(true);
    expect(await nmapAvailable(fakeNmap('exit 2'))).toBe(false);
    expect(await nmapAvailable(join(dir, 'no-such-nmap'))).toBe(false);
  });
});

/** Whether process `pid` has ended (waits up to two seconds for the kill to land). */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await delay(50);
  }
  return false;
}
