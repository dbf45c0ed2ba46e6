/**
 * Short names of the services behind the most common TCP and UDP ports (IANA's registry, plus
 * QUIC on udp/443), to label the overview's top ports. Deliberately small: a name is a hint for
 * the ports nearly every network shows, not a claim about what ran there (anything may listen on
 * any port), so an uncommon port stays a bare number rather than a guess from a long list.
 */

/** By protocol, then port. Maps, not objects: a protocol from the server is never a prototype key. */
const NAMES: ReadonlyMap<string, ReadonlyMap<number, string>> = new Map([
  [
    'tcp',
    new Map([
      [21, 'FTP'],
      [22, 'SSH'],
      [23, 'Telnet'],
      [25, 'SMTP'],
      [53, 'DNS'],
      [80, 'HTTP'],
      [110, 'POP3'],
      [143, 'IMAP'],
      [389, 'LDAP'],
      [443, 'HTTPS'],
      [445, 'SMB'],
      [587, 'Submission'],
      [993, 'IMAPS'],
      [995, 'POP3S'],
      [3306, 'MySQL'],
      [3389, 'RDP'],
      [5432, 'PostgreSQL'],
      [8080, 'HTTP alt'],
    ]),
  ],
  [
    'udp',
    new Map([
      [53, 'DNS'],
      [67, 'DHCP'],
      [123, 'NTP'],
      [161, 'SNMP'],
      [443, 'QUIC'],
      [514, 'Syslog'],
      [1194, 'OpenVPN'],
      [5353, 'mDNS'],
    ]),
  ],
]);

/** The usual service of `port` on `protocol` ("tcp", "udp"), or null when it is not a common one. */
export function serviceName(protocol: string, port: number): string | null {
  return NAMES.get(protocol.toLowerCase())?.get(port) ?? null;
}
