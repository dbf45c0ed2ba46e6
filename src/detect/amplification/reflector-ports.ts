/**
 * UDP services abused as reflectors/amplifiers: a small request with the victim's spoofed address
 * makes them send a much larger response to the victim. Sources: US-CERT TA14-017A (UDP-based
 * amplification attacks, with bandwidth amplification factors), Rossow, "Amplification Hell"
 * (NDSS 2014), and vendor advisories for the newer vectors noted below. A lookup table by port.
 * Pure data: no state.
 */

export const REFLECTOR_PORTS: Readonly<Record<number, string>> = {
  7: 'echo',
  17: 'QOTD',
  19: 'chargen',
  53: 'DNS',
  69: 'TFTP',
  111: 'portmap',
  123: 'NTP',
  137: 'NetBIOS',
  161: 'SNMP',
  389: 'CLDAP',
  427: 'SLP', // CVE-2023-29552, amplification factor up to 2,200
  500: 'ISAKMP',
  520: 'RIPv1',
  1194: 'OpenVPN',
  1434: 'MS-SQL browser',
  1900: 'SSDP',
  3283: 'Apple Remote Desktop',
  3389: 'RDP over UDP',
  3478: 'STUN',
  3702: 'WS-Discovery',
  4500: 'ISAKMP NAT-T', // the corpus's amp.UDP.isakmp replies come from 4500
  5683: 'CoAP',
  10001: 'Ubiquiti discovery',
  10074: 'Mitel TP-240',
  11211: 'memcached',
  27015: 'Steam/Source game query',
  32414: 'Plex media server',
  33848: 'Jenkins discovery',
  37810: 'Dahua DVR discovery', // the corpus's amp.UDP.bacnet.IOT.37810
  47808: 'BACnet',
};

/**
 * 1 at each reflector port. 443 is left out on purpose: QUIC servers answer real clients from it
 * at high rates, and QUIC's 3x anti-amplification limit (RFC 9000 section 8.1) keeps it a poor
 * reflector.
 */
export const IS_REFLECTOR_PORT: Uint8Array = (() => {
  const t = new Uint8Array(65536);
  for (const port of Object.keys(REFLECTOR_PORTS)) t[Number(port)] = 1;
  return t;
})();
