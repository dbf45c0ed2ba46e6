/**
 * What every firewall backend does (nftables, iptables with ipset): enforce a state of blocked
 * sources and closed local ports in rules of FlowTrack's own, read back what the kernel enforces,
 * and remove all of its own rules and nothing else. The helpers here are shared by the backends:
 * checking addresses and ports at the edge, and running the system's tools with errors that say
 * what to do.
 */

import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, FlowTrackError } from '../util/errors.js';

/** A source whose packets are dropped until `expiresAt` (epoch ms), or for good when null. */
export interface BlockedSource {
  /** An address or a prefix: 203.0.113.7, 198.51.100.0/24, 2001:db8::/64. */
  address: string;
  expiresAt: number | null;
  /** Only packets arriving on this interface; absent: any. */
  interface?: string;
}

export interface ClosedPort {
  protocol: 'tcp' | 'udp';
  port: number;
  /** Only connections arriving on this interface; absent: any. */
  interface?: string;
}

/** What the firewall enforces. */
export interface FirewallState {
  blocked: BlockedSource[];
  closedPorts: ClosedPort[];
}

export interface FirewallBackend {
  readonly name: 'nftables' | 'iptables' | 'dry-run';
  /** Replaces everything FlowTrack enforces with `state` (start-up, reconciliation). */
  apply(state: FirewallState): Promise<void>;
  /** Adds blocks (after `apply` has set the backend up). */
  block(sources: readonly BlockedSource[]): Promise<void>;
  /** Lifts the blocks of these addresses or prefixes (on any interface), written as they were blocked. */
  unblock(addresses: readonly string[]): Promise<void>;
  /** What the kernel enforces now (expired blocks are gone from it); null when nothing is set up. */
  read(): Promise<FirewallState | null>;
  /** Removes every rule and set FlowTrack made, and nothing else. */
  flush(): Promise<void>;
}

export interface BackendOptions {
  /** Put before each command (tests: ['ip', 'netns', 'exec', NAMESPACE]). */
  prefix?: readonly string[];
  /** Wall clock, epoch milliseconds. */
  now?: () => number;
}

/** A parsed source: family, address and prefix length. */
export interface Source {
  family: 4 | 6;
  addr: string;
  len: number;
}

/** Parses an address or prefix; throws BAD_REQUEST saying what is wrong with it. */
export function parseSource(text: string): Source {
  const [addr = '', len, ...rest] = text.trim().split('/');
  const family = isIPv4(addr) ? 4 : isIPv6(addr) ? 6 : null;
  if (family === null || rest.length > 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `${JSON.stringify(text)} is not an IP address or prefix: write it like 203.0.113.7, 198.51.100.0/24 or 2001:db8::/64`,
    );
  }
  const max = family === 4 ? 32 : 128;
  const bits = len === undefined ? max : Number(len);
  if (!/^\d{1,3}$/.test(len ?? String(max)) || bits < 1 || bits > max) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `the prefix length of ${JSON.stringify(text)} must be a whole number from 1 to ${max}`,
    );
  }
  const source: Source = { family, addr, len: bits };
  const value = addressValue(source);
  const hostBits = (1n << BigInt(max - bits)) - 1n;
  if ((value & hostBits) !== 0n) {
    // The kernel would drop the host bits silently and block a wider range than it seems to say.
    const network = formatAddress(family, value & ~hostBits);
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `${JSON.stringify(text)} has bits set past its prefix length: the prefix is ${network}/${bits}`,
    );
  }
  return source;
}

/** One spelling per source, whatever way it was written (2001:db8::/64 = 2001:DB8:0::0/64). */
export function sourceKey(text: string): string {
  const source = parseSource(text);
  return `${addressValue(source).toString(16)}/${source.len}/${source.family}`;
}

/** The network of `len` bits that holds `address` (2001:db8::1:2, 64: 2001:db8::/64). */
export function networkOf(address: string, len: number): string {
  const source = parseSource(address);
  const max = source.family === 4 ? 32 : 128;
  if (len >= source.len) return address;
  const mask = ((1n << BigInt(max)) - 1n) ^ ((1n << BigInt(max - len)) - 1n);
  return `${formatAddress(source.family, addressValue(source) & mask)}/${len}`;
}

/** `value` written as an address (IPv6 in its short form). */
function formatAddress(family: 4 | 6, value: bigint): string {
  const parts: string[] = [];
  const [count, bits, radix] = family === 4 ? [4, 8n, 10] : [8, 16n, 16];
  for (let i = 0; i < count; i++) {
    parts.unshift((value & ((1n << bits) - 1n)).toString(radix));
    value >>= bits;
  }
  if (family === 4) return parts.join('.');
  // The URL parser writes IPv6 in its canonical short form (RFC 5952).
  return new URL(`http://[${parts.join(':')}]`).hostname.slice(1, -1);
}

/** The address of `source` as a number (IPv6 in all its spellings, IPv4-in-IPv6 too). */
export function addressValue(source: Source): bigint {
  if (source.family === 4) {
    return source.addr.split('.').reduce((n, octet) => (n << 8n) | BigInt(Number(octet)), 0n);
  }
  const [head = '', tail = ''] = source.addr.split('::');
  // An IPv4 tail (::ffff:192.0.2.1) is the last two groups.
  const groups = (part: string): string[] =>
    part === ''
      ? []
      : part.split(':').flatMap((g) => {
          if (!g.includes('.')) return [g];
          const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
          return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
        });
  const left = groups(head);
  const right = groups(source.addr.includes('::') ? tail : '');
  const all = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return all.reduce((n, group) => (n << 16n) | BigInt(Number.parseInt(group, 16)), 0n);
}

/** `port` when it is a port number; BAD_REQUEST otherwise. */
export function checkPort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `port ${String(port)} is not a port number from 1 to 65535`,
    );
  }
  return port;
}

/**
 * `name` when it can be an interface name (1 to 15 of letters, digits and `_ . : @ -`, as Linux
 * allows at most 15 bytes); BAD_REQUEST otherwise. The name goes into nft, iptables and ipset
 * commands, so nothing else may get through.
 */
export function checkInterface(name: string): string {
  if (!/^[A-Za-z0-9_.:@-]{1,15}$/.test(name)) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `${JSON.stringify(name)} is not an interface name: write it as ip link shows it (eth0, wg0, br-lan): 1 to 15 letters, digits or _ . : @ -`,
    );
  }
  if (name.startsWith('@')) {
    // nft's JSON input reads a string that starts with @ as the name of a set, with no way to
    // escape it, so such an interface could be blocked by iptables but not by nftables.
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      `interface name ${JSON.stringify(name)} starts with @, which nftables cannot match: rename the interface (ip link set NAME name NEW)`,
    );
  }
  return name;
}

/** Whole seconds until `expiresAt` (at least 1: a block never ends early for being rounded), or null. */
export function secondsLeft(expiresAt: number | null, now: number): number | null {
  return expiresAt === null ? null : Math.max(1, Math.ceil((expiresAt - now) / 1000));
}

/**
 * Runs `tool ARGS` (after `prefix`) and resolves with its standard output. A tool that cannot be
 * started or that fails rejects with IO_ERROR, naming the package to install or the right missing.
 */
export function runTool(
  prefix: readonly string[],
  tool: string,
  args: readonly string[],
  installHint: string,
): Promise<string> {
  const [program = tool, ...rest] = [...prefix, tool, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(program, rest, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.on('error', (err) =>
      reject(
        new FlowTrackError(
          ErrorCode.IO_ERROR,
          `cannot run ${program} (${err.message}): ${installHint} or choose the dry-run firewall`,
        ),
      ),
    );
    child.on('close', (code) => {
      if (code === 0) {
        resolve(stdout);
        return;
      }
      const said = stderr.trim().split('\n')[0] ?? '';
      const reason = said === '' ? `status ${String(code)}` : said;
      reject(
        new FlowTrackError(
          ErrorCode.IO_ERROR,
          `${tool} failed (${reason}): FlowTrack needs root or cap_net_admin to manage its firewall rules`,
        ),
      );
    });
  });
}

/**
 * Runs `tool ARGS... FILE` with `text` in FILE, a private temporary file: nft and the restore
 * tools cannot read a socket as standard input (Node's pipes to a child are sockets), and a
 * command-line argument is limited to 128 KiB.
 */
export async function runToolWithFile(
  prefix: readonly string[],
  tool: string,
  args: readonly string[],
  text: string,
  installHint: string,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flowtrack-firewall-'));
  try {
    const file = join(dir, 'changes');
    await writeFile(file, text, { mode: 0o600 });
    return await runTool(prefix, tool, [...args, file], installHint);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
