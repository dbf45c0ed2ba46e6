/**
 * The live view's figures, counted packet by packet and handed out once a second: packets, bytes
 * and new flows per second, the protocol mix and the busiest hosts of that second. Fixed memory
 * whatever the traffic: hosts beyond `hostCapacity` in one second are counted, not listed.
 */

import { HostTotals, hostHash } from '../analyze/host-totals.js';
import type { Talker } from '../analyze/traffic-summary.js';
import type { PacketDecoder } from '../decode/packet-decoder.js';

export const LIVE_PROTOCOLS = ['tcp', 'udp', 'icmp', 'other'] as const;
export type LiveProtocol = (typeof LIVE_PROTOCOLS)[number];

export interface LiveSecond {
  /** Wall-clock time (ms) at the end of the interval. */
  at: number;
  packetsPerSecond: number;
  bytesPerSecond: number;
  /** Flows that began in the interval, per second. */
  flowsPerSecond: number;
  protocols: Record<LiveProtocol, { packetsPerSecond: number; bytesPerSecond: number }>;
  /** The hosts that sent and received the most bytes in the interval (rates per second). */
  topTalkers: Talker[];
  /**
   * Distinct hosts of the interval that were counted but not ranked (more than the capacity):
   * estimated in fixed memory, exact for a few and within about 1% up to 300,000.
   */
  hostsNotRanked: number;
}

/**
 * Bits of the bitmap that estimates the hosts not ranked (8 KiB) by linear counting (Whang et al.,
 * 1990): n = -m ln(unset / m). Its standard error is 0.3% at 65,536 hosts and 0.8% at 300,000.
 */
const UNRANKED_BITS = 1 << 16;

const PROTOCOL_INDEX: Record<number, number> = { 6: 0, 17: 1, 1: 2, 58: 2 };

export class LiveStats {
  private packets = 0;
  private bytes = 0;
  private readonly protocolPackets = new Float64Array(LIVE_PROTOCOLS.length);
  private readonly protocolBytes = new Float64Array(LIVE_PROTOCOLS.length);
  private readonly hosts: HostTotals;
  /** One bit per hash of each host that was not ranked, and how many bits are set. */
  private readonly unranked = new Uint32Array(UNRANKED_BITS / 32);
  private unrankedBits = 0;
  private flowsAtStart: number;
  private startedAt: number;

  constructor(
    now: number,
    flowsCreated: number,
    private readonly top = 10,
    hostCapacity = 65_536,
  ) {
    this.hosts = new HostTotals(hostCapacity);
    this.startedAt = now;
    this.flowsAtStart = flowsCreated;
  }

  /** Counts the packet `decoder` holds, of `frameBytes` on the wire. */
  addPacket(decoder: PacketDecoder, frameBytes: number): void {
    this.packets++;
    this.bytes += frameBytes;
    const p = decoder.ipVersion === 0 ? 3 : (PROTOCOL_INDEX[decoder.ipProto] ?? 3);
    this.protocolPackets[p]!++;
    this.protocolBytes[p]! += frameBytes;
    if (decoder.ipVersion === 0) return;
    if (!this.hosts.add(decoder.ipVersion, decoder.src, 0, frameBytes, 1))
      this.notRanked(decoder.ipVersion, decoder.src);
    if (!this.hosts.add(decoder.ipVersion, decoder.dst, 0, frameBytes, 1))
      this.notRanked(decoder.ipVersion, decoder.dst);
  }

  /** A host beyond the capacity: the same host in many packets is one host. */
  private notRanked(version: number, addr: Uint32Array): void {
    const h = hostHash(version, addr[0]!, addr[1]!, addr[2]!, addr[3]!) & (UNRANKED_BITS - 1);
    const bit = 1 << (h & 31);
    const word = h >>> 5;
    if ((this.unranked[word]! & bit) !== 0) return;
    this.unranked[word]! |= bit;
    this.unrankedBits++;
  }

  private hostsNotRanked(): number {
    const unset = UNRANKED_BITS - this.unrankedBits;
    if (unset === UNRANKED_BITS) return 0;
    // Every bit set: too many hosts to tell; m ln m is about where the bitmap fills up.
    if (unset === 0) return Math.round(UNRANKED_BITS * Math.log(UNRANKED_BITS));
    return Math.round(-UNRANKED_BITS * Math.log(unset / UNRANKED_BITS));
  }

  /** The figures since the last call, as rates, and a fresh start at `now` (ms). */
  take(now: number, flowsCreated: number): LiveSecond {
    const seconds = Math.max(0.001, (now - this.startedAt) / 1000);
    const rate = (n: number): number => Math.round((n / seconds) * 10) / 10;
    const protocols = {} as LiveSecond['protocols'];
    LIVE_PROTOCOLS.forEach((name, i) => {
      protocols[name] = {
        packetsPerSecond: rate(this.protocolPackets[i]!),
        bytesPerSecond: rate(this.protocolBytes[i]!),
      };
    });
    const second: LiveSecond = {
      at: now,
      packetsPerSecond: rate(this.packets),
      bytesPerSecond: rate(this.bytes),
      flowsPerSecond: rate(flowsCreated - this.flowsAtStart),
      protocols,
      topTalkers: this.hosts.top(this.top, 'bytes').map((t) => ({
        address: t.address,
        bytes: rate(t.bytes),
        packets: rate(t.packets),
      })),
      hostsNotRanked: this.hostsNotRanked(),
    };
    this.packets = this.bytes = 0;
    if (this.unrankedBits > 0) this.unranked.fill(0);
    this.unrankedBits = 0;
    this.protocolPackets.fill(0);
    this.protocolBytes.fill(0);
    this.hosts.clear();
    this.startedAt = now;
    this.flowsAtStart = flowsCreated;
    return second;
  }
}
