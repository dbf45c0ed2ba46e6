/**
 * Per-minute totals of flows, per host and protocol, for charts over days or months without
 * reading every flow. A flow that lasted several minutes (up to the 30-minute active timeout)
 * has its packets and bytes spread over those minutes in proportion to the time it covered in
 * each, so a long download draws a plateau, not a spike; the flow itself is counted once, in the
 * minute of its last packet. Every flow adds to its two hosts and to the `*` total row. The same
 * rows summed per hour and per day (over protocols) make the coarser totals, and a time range is
 * split into the whole days, whole hours and minutes those totals answer for. The port rollups
 * (`rollUpPorts`) are per minute too, per service port, but count each flow wholly in the minute of
 * its last packet. Pure arithmetic: no database here, and the shares always add up exactly to the
 * flow's totals.
 */

import type { FlowRow } from './flow-repository.js';

/** The `host` of the rows that total every host. */
export const ALL_HOSTS = '*';
export const MINUTE_US = 60_000_000;
export const HOUR_US = 60 * MINUTE_US;
/** A UTC day: the days of the day totals start at midnight UTC, as epoch time does. */
export const DAY_US = 24 * HOUR_US;
/**
 * A flow is spread over at most this many minutes before its last packet. Flows end at the
 * active timeout (30 minutes by default); a bad first-seen time must not cost a loop per minute
 * since 1970.
 */
const MAX_SPREAD_MINUTES = 1440;

export interface FlowRollupRow {
  minuteUs: number;
  host: string;
  protocol: string;
  packets: number;
  bytes: number;
  flows: number;
}

/** One minute's totals of one service port (the server's port of the flows that ended in it). */
export interface PortRollupRow {
  minuteUs: number;
  /** "tcp" or "udp" (PORT_ROLLUP_PROTOCOLS). */
  protocol: string;
  port: number;
  packets: number;
  bytes: number;
  flows: number;
}

/**
 * The protocols the port rollups keep: those whose server port names the service. ICMP and the
 * others store 0 for both ports; SCTP is left to the flow list, as the overview ranks the TCP and
 * UDP services only.
 */
export const PORT_ROLLUP_PROTOCOLS: readonly string[] = ['tcp', 'udp'];

/** A host's totals over one hour or day, all protocols together (`periodUs` is its start). */
export interface PeriodTotalsRow {
  periodUs: number;
  host: string;
  packets: number;
  bytes: number;
  flows: number;
}

/** The rollup rows `flows` add, one per (minute, host, protocol), summed. */
export function rollUpFlows(flows: readonly FlowRow[]): FlowRollupRow[] {
  const rows = new Map<string, FlowRollupRow>();
  const add = (
    minuteUs: number,
    host: string,
    protocol: string,
    packets: number,
    bytes: number,
    count: number,
  ) => {
    const key = `${minuteUs}|${protocol}|${host}`;
    const row = rows.get(key);
    if (row) {
      row.packets += packets;
      row.bytes += bytes;
      row.flows += count;
    } else {
      rows.set(key, { minuteUs, host, protocol, packets, bytes, flows: count });
    }
  };
  for (const flow of flows) {
    const hosts =
      flow.srcAddr === flow.dstAddr ? [ALL_HOSTS, flow.srcAddr] : [ALL_HOSTS, flow.srcAddr, flow.dstAddr];
    const packets = flow.packetsToServer + flow.packetsToClient;
    const bytes = flow.bytesToServer + flow.bytesToClient;
    for (const share of minuteShares(flow.firstSeenUs, flow.lastSeenUs, packets, bytes)) {
      for (const host of hosts)
        add(share.minuteUs, host, flow.protocol, share.packets, share.bytes, share.flows);
    }
  }
  return [...rows.values()];
}

/**
 * The port rollup rows `flows` add, one per (minute, protocol, service port), summed. The service
 * port is the server's (`dstPort`: the side that did not send the first packet). A flow counts
 * wholly, packets, bytes and all, in the minute of its last packet, not spread over its minutes as
 * in `rollUpFlows`: the ranking needs each port's totals over a range, not a chart's shape, and
 * migration 0005 can then fill the table from the flows with one GROUP BY. Port 0 (no port: a
 * fragment, a malformed header) and protocols other than TCP and UDP add nothing.
 */
export function rollUpPorts(flows: readonly FlowRow[]): PortRollupRow[] {
  const rows = new Map<string, PortRollupRow>();
  for (const flow of flows) {
    if (flow.dstPort === 0 || !PORT_ROLLUP_PROTOCOLS.includes(flow.protocol)) continue;
    const minuteUs = Math.floor(flow.lastSeenUs / MINUTE_US) * MINUTE_US;
    const packets = flow.packetsToServer + flow.packetsToClient;
    const bytes = flow.bytesToServer + flow.bytesToClient;
    const key = `${minuteUs}|${flow.protocol}|${flow.dstPort}`;
    const row = rows.get(key);
    if (row) {
      row.packets += packets;
      row.bytes += bytes;
      row.flows += 1;
    } else {
      rows.set(key, { minuteUs, protocol: flow.protocol, port: flow.dstPort, packets, bytes, flows: 1 });
    }
  }
  return [...rows.values()];
}

interface MinuteShare {
  minuteUs: number;
  packets: number;
  bytes: number;
  flows: number;
}

/** Splits a flow's totals over the minutes from `firstUs` to `lastUs`. */
export function minuteShares(firstUs: number, lastUs: number, packets: number, bytes: number): MinuteShare[] {
  const lastMinute = Math.floor(lastUs / MINUTE_US);
  const firstMinute = Math.max(
    Math.floor(Math.min(firstUs, lastUs) / MINUTE_US),
    lastMinute - MAX_SPREAD_MINUTES + 1,
  );
  const spanStart = Math.max(Math.min(firstUs, lastUs), firstMinute * MINUTE_US);
  const duration = lastUs - spanStart;
  if (firstMinute === lastMinute || duration <= 0) {
    return [{ minuteUs: lastMinute * MINUTE_US, packets, bytes, flows: 1 }];
  }
  const shares: MinuteShare[] = [];
  let packetsSoFar = 0;
  let bytesSoFar = 0;
  for (let minute = firstMinute; minute <= lastMinute; minute++) {
    const last = minute === lastMinute;
    // Cumulative shares, rounded down, with the last minute taking the rest: the parts add up
    // to the whole exactly, which the charts' totals rely on.
    const fraction = (Math.min(lastUs, (minute + 1) * MINUTE_US) - spanStart) / duration;
    const packetsUpTo = last ? packets : Math.floor(packets * fraction);
    const bytesUpTo = last ? bytes : Math.floor(bytes * fraction);
    if (last || packetsUpTo > packetsSoFar || bytesUpTo > bytesSoFar) {
      shares.push({
        minuteUs: minute * MINUTE_US,
        packets: packetsUpTo - packetsSoFar,
        bytes: bytesUpTo - bytesSoFar,
        flows: last ? 1 : 0,
      });
    }
    packetsSoFar = packetsUpTo;
    bytesSoFar = bytesUpTo;
  }
  return shares;
}

/** `rows` summed per host and period of `periodUs` (an hour or a day), over their protocols. */
export function rollUpPeriods(rows: readonly FlowRollupRow[], periodUs: number): PeriodTotalsRow[] {
  const totals = new Map<string, PeriodTotalsRow>();
  for (const row of rows) {
    const start = row.minuteUs - (row.minuteUs % periodUs);
    const key = `${start}|${row.host}`;
    const total = totals.get(key);
    if (total) {
      total.packets += row.packets;
      total.bytes += row.bytes;
      total.flows += row.flows;
    } else {
      totals.set(key, {
        periodUs: start,
        host: row.host,
        packets: row.packets,
        bytes: row.bytes,
        flows: row.flows,
      });
    }
  }
  return [...totals.values()];
}

/** Half-open span [fromUs, toUs) of whole units of one table. */
export interface Span {
  fromUs: number;
  toUs: number;
}

/** A range cut where the day and hour totals can stand in for its minutes. */
export interface RangeParts {
  /** Whole days (at most one span). */
  days: Span[];
  /** Whole hours outside those days (at most two spans: before and after them). */
  hours: Span[];
  /** The minutes left over (at most two spans, each inside one hour). */
  minutes: Span[];
}

/**
 * Splits the minutes from `startUs` to `endUs` (both on a minute) into whole days, whole hours and
 * leftover minutes, using only the units in `units` (largest first; minutes always): a chart whose
 * buckets do not fall on hours must not read hour totals that straddle two of its buckets.
 */
export function splitRange(
  startUs: number,
  endUs: number,
  units: readonly number[] = [DAY_US, HOUR_US],
): RangeParts {
  const parts: RangeParts = { days: [], hours: [], minutes: [] };
  const split = (fromUs: number, toUs: number, level: number): void => {
    if (fromUs >= toUs) return;
    const unit = units[level];
    if (unit === undefined) {
      parts.minutes.push({ fromUs, toUs });
      return;
    }
    const first = Math.ceil(fromUs / unit) * unit;
    const last = Math.floor(toUs / unit) * unit;
    if (first > last) {
      // Inside one unit: no boundary to cut at.
      split(fromUs, toUs, level + 1);
      return;
    }
    if (first < last) (unit === DAY_US ? parts.days : parts.hours).push({ fromUs: first, toUs: last });
    // What is left on each side lies inside one unit, so its minutes never cross an hour.
    split(fromUs, first, level + 1);
    split(last, toUs, level + 1);
  };
  split(startUs, endUs, 0);
  return parts;
}
