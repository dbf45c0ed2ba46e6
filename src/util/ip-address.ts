/**
 * Text forms of the numeric addresses the decoder produces: dotted quad for IPv4, RFC 5952
 * (lower case, longest zero run compressed) for IPv6.
 */

/** "192.0.2.1" from a host-order 32-bit number. */
export function formatIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}

/** RFC 5952 text of an IPv6 address held as four big-endian 32-bit words starting at `offset`. */
export function formatIpv6(words: ArrayLike<number>, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 4; i++) {
    const w = words[offset + i] ?? 0;
    groups.push(w >>> 16, w & 0xffff);
  }
  // IPv4-mapped addresses (::ffff:a.b.c.d) keep the dotted form, as RFC 5952 section 5 says.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4((words[offset + 3] ?? 0) >>> 0)}`;
  }
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Text of an address of IP version `version` held as four words at `offset`. */
export function formatIp(version: number, words: ArrayLike<number>, offset = 0): string {
  return version === 4 ? formatIpv4((words[offset] ?? 0) >>> 0) : formatIpv6(words, offset);
}

/**
 * True for multicast and limited-broadcast addresses (IPv4 224/4 and 255.255.255.255, IPv6
 * ff00::/8): discovery protocols (mDNS, SSDP, DHCP) talk to them; they are no host to scan or flood.
 * The reserved 240/4 is not included: Pcaphunt's UDP sweep capture uses it as a lab network.
 */
export function isGroupAddress(version: number, addr: ArrayLike<number>): boolean {
  if (version === 4) return addr[0]! >>> 28 === 0xe || addr[0] === 0xffffffff;
  return addr[0]! >>> 24 === 0xff;
}

/** An address as the decoder holds it: the IP version and four words (IPv4 in the first). */
export interface IpWords {
  version: 4 | 6;
  words: Uint32Array;
}

/** The inverse of `formatIp`: the version and words of an IPv4 or IPv6 text address, or null. */
export function parseIp(text: string): IpWords | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { version: 4, words: Uint32Array.of(v4, 0, 0, 0) };
  const halves = text.split('::');
  if (halves.length > 2 || text === '') return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      const dotted = i === pieces.length - 1 ? parseIpv4(piece) : null;
      if (dotted !== null) out.push(dotted >>> 16, dotted & 0xffff);
      else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) out.push(parseInt(piece, 16));
      else return null;
    }
    return out;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = ((groups[2 * i]! << 16) | groups[2 * i + 1]!) >>> 0;
  return { version: 6, words };
}

function parseIpv4(text: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return null;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}
