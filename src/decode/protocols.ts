/**
 * Protocol flags a decoded frame carries, one bit each, so that "frames containing TCP" is a
 * bit test on the packet path. A frame that tunnels (GRE, VXLAN, IP-in-IP) carries the bits of
 * every layer it holds. Also the reasons a frame could not be fully decoded.
 */

export const Proto = {
  ETHERNET: 1 << 0,
  VLAN: 1 << 1,
  MPLS: 1 << 2,
  PPPOE: 1 << 3,
  ARP: 1 << 4,
  IPV4: 1 << 5,
  IPV6: 1 << 6,
  TCP: 1 << 7,
  UDP: 1 << 8,
  ICMP: 1 << 9,
  ICMPV6: 1 << 10,
  GRE: 1 << 11,
  VXLAN: 1 << 12,
  /** IPv4 or IPv6 carried directly in IPv4 or IPv6 (protocols 4 and 41). */
  IP_IN_IP: 1 << 13,
  TEREDO: 1 << 14,
  /** An IP fragment (first or later). */
  FRAGMENT: 1 << 15,
  /** Other transport protocols (SCTP, ESP, OSPF, ...). */
  OTHER_TRANSPORT: 1 << 16,
  /** A link payload that is neither IP nor ARP (LLDP, STP, ...). */
  OTHER_LINK: 1 << 17,
} as const;

export type ProtoName = Lowercase<keyof typeof Proto>;

/** Report names of the protocol bits, in bit order. */
export const PROTO_NAMES: readonly ProtoName[] = Object.keys(Proto).map((k) => k.toLowerCase() as ProtoName);

/** Why a frame was not decoded to the end. Index 0 means "decoded". */
export const DecodeProblem = {
  NONE: 0,
  UNSUPPORTED_LINK_TYPE: 1,
  TRUNCATED_LINK_HEADER: 2,
  TRUNCATED_IPV4: 3,
  BAD_IPV4_HEADER: 4,
  TRUNCATED_IPV6: 5,
  BAD_IPV6_EXTENSION: 6,
  TRUNCATED_TCP: 7,
  BAD_TCP_HEADER: 8,
  TRUNCATED_UDP: 9,
  TRUNCATED_ICMP: 10,
  TRUNCATED_ARP: 11,
  BAD_IP_VERSION: 12,
  TRUNCATED_TUNNEL: 13,
  TOO_MANY_ENCAPSULATIONS: 14,
  ZERO_LENGTH: 15,
} as const;

export type DecodeProblem = (typeof DecodeProblem)[keyof typeof DecodeProblem];

/** Report names of DecodeProblem values, indexed by value. */
export const DECODE_PROBLEM_NAMES: readonly string[] = [
  'none',
  'unsupported-link-type',
  'truncated-link-header',
  'truncated-ipv4',
  'bad-ipv4-header',
  'truncated-ipv6',
  'bad-ipv6-extension-header',
  'truncated-tcp',
  'bad-tcp-header',
  'truncated-udp',
  'truncated-icmp',
  'truncated-arp',
  'bad-ip-version',
  'truncated-tunnel',
  'too-many-encapsulations',
  'zero-length',
];
