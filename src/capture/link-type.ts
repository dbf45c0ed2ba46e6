/**
 * Link-layer header types (LINKTYPE_* from tcpdump.org/linktypes.html) that FlowTrack decodes,
 * and their names for reports.
 */

export const LinkType = {
  NULL: 0,
  ETHERNET: 1,
  PPP: 9,
  SLIP: 8,
  RAW: 101,
  /** DLT_RAW as some BSDs number it in savefiles. */
  RAW_BSD12: 12,
  RAW_BSD14: 14,
  LOOP: 108,
  LINUX_SLL: 113,
  IEEE802_11: 105,
  IEEE802_11_RADIOTAP: 127,
  IPV4: 228,
  IPV6: 229,
  NFLOG: 239,
  ETHERNET_MPACKET: 274,
  LINUX_SLL2: 276,
} as const;

const names = new Map<number, string>([
  [0, 'NULL'],
  [1, 'EN10MB'],
  [8, 'SLIP'],
  [9, 'PPP'],
  [12, 'RAW'],
  [14, 'RAW'],
  [101, 'RAW'],
  [105, 'IEEE802_11'],
  [108, 'LOOP'],
  [113, 'LINUX_SLL'],
  [127, 'IEEE802_11_RADIOTAP'],
  [228, 'IPV4'],
  [229, 'IPV6'],
  [239, 'NFLOG'],
  [274, 'ETHERNET_MPACKET'],
  [276, 'LINUX_SLL2'],
]);

/** "EN10MB (1)" style name for a link type number. */
export function linkTypeName(linkType: number): string {
  return `${names.get(linkType) ?? 'UNKNOWN'} (${linkType})`;
}
