/**
 * The scanner's vocabulary, shared by its parts (targets, the TCP and UDP engines, service
 * identification, the exposure knowledge, the nmap engine) and by the server and the CLI that
 * run it. Plain data only: every result can be stored, sent as JSON and compared between runs.
 */

export type ScanProtocol = 'tcp' | 'udp';

/**
 * A port's verdict, in nmap's words so that the two can be compared:
 * - open: a TCP connection was accepted, or a UDP probe was answered;
 * - closed: the host answered that nothing listens (TCP RST, ICMP port unreachable);
 * - filtered: no answer to TCP (a firewall drops it), or ICMP "administratively prohibited";
 * - open|filtered: UDP with no answer (a silent service and a dropping firewall look the same).
 */
export type PortState = 'open' | 'closed' | 'filtered' | 'open|filtered';

export const PORT_STATES: readonly PortState[] = ['open', 'closed', 'filtered', 'open|filtered'];

/** One address to scan. */
export interface ScanTarget {
  address: string;
  family: 4 | 6;
  /** The host name it was resolved from, when the target was given by name. */
  hostName?: string;
}

/** What a service on an open port said about itself. */
export interface ServiceInfo {
  /** Lower-case service name: ssh, http, https, tls, ftp, smtp, redis, mysql, postgresql, mongodb, dns, ntp, snmp, ... */
  name: string;
  /** Product as the service names it: OpenSSH, nginx, Redis, MariaDB, dnsmasq. */
  product?: string;
  version?: string;
  /** The first line the service sent (or the HTTP Server header), printable characters only, at most 200. */
  banner?: string;
  /** Spoken over TLS (https, a TLS-wrapped service). */
  tls?: boolean;
  /**
   * Facts that decide a risk, each a small value: `auth: 'none' | 'required'` (Redis, MongoDB,
   * memcached), `community: 'public'` (SNMP), `starttls: true` (SMTP, FTP), `anonymous: true` (FTP).
   */
  details?: Record<string, string | number | boolean>;
}

/** The verdict on one port of one address. */
export interface PortResult {
  address: string;
  protocol: ScanProtocol;
  port: number;
  state: PortState;
  /** Why: syn-ack, conn-refused, no-response, host-unreachable, udp-response, port-unreach, admin-prohibited. */
  reason: string;
  /** Round trip of the answer, when there was one. */
  rttMs?: number;
  service?: ServiceInfo;
}

export type Risk = 'info' | 'low' | 'medium' | 'high' | 'critical';

export const RISKS: readonly Risk[] = ['info', 'low', 'medium', 'high', 'critical'];

/** An open port judged by the exposure knowledge (src/scan/exposure-rules.json). */
export interface Finding {
  address: string;
  protocol: ScanProtocol;
  port: number;
  /** The service as identified, or as the port usually carries it. */
  service: string;
  risk: Risk;
  /** The rule that matched: its id in exposure-rules.json. */
  ruleId: string;
  title: string;
  why: string;
  fix: string;
}
