/**
 * Whether a firewall rule's source (an address or a prefix, "203.0.113.0/24", "2001:db8::/48")
 * covers an address, for the host page's "blocks on it". Pure; IPv4 and IPv6 in any spelling the
 * server accepts (compressed, with an IPv4 tail). An address never matches a prefix of the other
 * family, as the firewall does not match them either.
 */

export interface ParsedAddress {
  bits: 32 | 128;
  value: bigint;
}

/** The address as a number and its width; null when it is not an IPv4 or IPv6 address. */
export function parseAddress(text: string): ParsedAddress | null {
  const v4 = parseIpv4(text);
  if (v4 !== null) return { bits: 32, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { bits: 128, value: v6 };
}

/** True when `source` (an address or address/length) includes `address`. */
export function sourceCovers(source: string, address: string): boolean {
  const [base = '', length, ...rest] = source.trim().split('/');
  if (rest.length > 0) return false;
  const prefix = parseAddress(base);
  const host = parseAddress(address.trim());
  if (prefix === null || host === null || prefix.bits !== host.bits) return false;
  const bits = length === undefined ? prefix.bits : Number(length);
  if (!/^\d{1,3}$/.test(length ?? '0') || bits > prefix.bits) return false;
  const shift = BigInt(prefix.bits - bits);
  return prefix.value >> shift === host.value >> shift;
}

function parseIpv4(text: string): bigint | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return null;
    value = (value << 8n) | BigInt(part);
  }
  return value;
}

function parseIpv6(text: string): bigint | null {
  if (text.includes('%') || !text.includes(':')) return null;
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groupsOf = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (const [i, piece] of pieces.entries()) {
      // An IPv4 tail ("::ffff:192.0.2.1") stands for the last two groups.
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseIpv4(piece);
        if (v4 === null) return null;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        out.push(Number.parseInt(piece, 16));
      } else {
        return null;
      }
    }
    return out;
  };
  const head = groupsOf(halves[0] ?? '');
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? '') : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  return [...head, ...Array<number>(missing).fill(0), ...tail].reduce((n, g) => (n << 16n) | BigInt(g), 0n);
}
