/**
 * Whether text a user typed is an address (a filter, an incident's hosts) or an address or network
 * (a suppression rule), as the API takes them, so a typo is pointed out beside its field rather
 * than sent: the API logs refused input as a security event, and a typo is not one. Pure.
 */

const IPV4_PART = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4 = new RegExp(`^${IPV4_PART}(\\.${IPV4_PART}){3}$`);

/**
 * Whether `text` is an IPv4 or IPv6 address as the API's filters take them (no prefix, no zone).
 * IPv6 is left to the URL parser, which implements the full grammar in the browser and in Node.
 */
export function isIpAddress(text: string): boolean {
  if (text.length === 0 || text.length > 64) return false;
  if (IPV4.test(text)) return true;
  return isIpv6(text);
}

/**
 * Whether `text` is an address or a CIDR network (`192.0.2.0/24`, `2001:db8::/32`): a prefix
 * length within the family's bits, written without leading zeros. Host bits past the prefix
 * (`192.0.2.7/24`) are left to the server, which refuses them and names the network meant.
 */
export function isAddressOrCidr(text: string): boolean {
  const slash = text.indexOf('/');
  if (slash === -1) return isIpAddress(text);
  const address = text.slice(0, slash);
  const prefix = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(prefix) || !isIpAddress(address)) return false;
  return Number(prefix) <= (IPV4.test(address) ? 32 : 128);
}

function isIpv6(text: string): boolean {
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    new URL(`http://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}
