/**
 * The top talkers of a time range: the `n` hosts with the most bytes (or packets), exactly what
 * `GROUP BY host ORDER BY bytes DESC, host LIMIT n` over the range's minute rollups gives, without
 * grouping every host of the range (that took 7.9 s for a week of the bench's store, 280,798
 * hosts over 8.1 million rows).
 *
 * The range is cut into whole days, whole hours and leftover minutes (flow-rollup.ts
 * `splitRange`), whose rows give a host's exact totals. The hosts are ranked by lists, each read
 * from its top through the (period, bytes) and (period, packets) indexes of the day and hour
 * totals: one per whole day; for what is left of a day, the whole day's list when that is six
 * hours or more (its values are upper bounds: at least what each host sent in that part), else
 * one per whole hour; for what is left of an hour, the whole hour's list (again as bounds), or its
 * minutes grouped by host when there are only one or two. Then the threshold algorithm (Fagin,
 * Lotem and Naor) with TPUT's thresholds (Cao and Wang):
 * 1. read the top `n` of every list;
 * 2. look up the exact totals of the hosts with the highest bound (what was read of a host, plus
 *    each list's floor where it was not read) until `n` are known: the n-th of those, tau, is at
 *    most the answer's last;
 * 3. read every list down to its share of tau (in proportion to the list's n-th value, the
 *    shares adding up to less than tau): a host below its share in every list cannot reach tau;
 * 4. look up hosts in decreasing order of their bound until the next bound is below the n-th
 *    exact total, reading deeper while the floors of all lists together could still reach it.
 * A host enters the answer only with its exact totals, and every host that could tie with the
 * last is looked up, so the answer and its ties are the GROUP BY's. Tied hosts go in byte order,
 * JavaScript's `<` on the ASCII of addresses: SQLite's BINARY collation and PostgreSQL's C ones
 * (the test servers' C.UTF-8) order them so; a database with a linguistic collation would have
 * ordered ties its own way. It all runs in one read transaction, so the lists and the totals are
 * of one snapshot even while the writer adds flows.
 */

import { sql, type Kysely } from 'kysely';
import type { Talker } from './flow-repository.js';
import {
  ALL_HOSTS,
  DAY_US,
  HOUR_US,
  MINUTE_US,
  splitRange,
  type RangeParts,
  type Span,
} from './flow-rollup.js';
import { rollupRowsOf, rollupTableOf, summedTotals, unitSpansOf } from './rollup-tables.js';
import type { Database } from './schema.js';

/** What the talkers are ranked by. */
export type TalkerMeasure = 'bytes' | 'packets';

/**
 * Leftover minutes up to this many are grouped by host rather than stood in for by their hour:
 * measured on the bench's busiest hour, grouping a minute costs 5-9 ms, and the hour's list would
 * bring 300-700 hosts to look up for the top 10 of one minute (4,000-6,000 for the top 100).
 */
const GROUPED_MINUTES = 2;
/**
 * What is left of a day from this many hours on is ranked by the whole day's list, an upper bound
 * on each host: on the bench's store one list in place of up to 23 hour lists saves more than the
 * hosts its looser bounds add to look up (the last 24 hours' top 10: 1.2 ms instead of 5-9 ms).
 */
const BOUND_BY_DAY_HOURS = 6;
/** Lists read per statement: SQLite allows 500 terms in one UNION ALL. */
const LISTS_PER_STATEMENT = 100;
/** Hosts looked up per statement: each of the up to five spans repeats them as parameters. */
const HOSTS_PER_LOOKUP = 500;
/** Hosts looked up per round once tau is known: a statement costs what some 20 hosts do (0.2 ms). */
const LOOKUP_BATCH = 32;
/** Entries per list read by the first deeper round (doubling each round after). */
const FIRST_DEEPER_READ = 64;

interface Entry {
  host: string;
  value: number;
}

interface RankedList {
  /** The day or hour whose totals this list ranks; null for grouped minutes in `entries`. */
  period: { unitUs: number; startUs: number } | null;
  /** The grouped minutes, largest first (ties by host), when `period` is null. */
  entries: Entry[];
  /** Entries read so far: the next read starts there. */
  read: number;
  /** No entry not read yet is above this; 0 once `done`. */
  floor: number;
  /** Every entry has been read. */
  done: boolean;
  /** Its part of tau for the threshold reads (the shares add up to 1 at most). */
  share: number;
}

interface Candidate {
  /** The lists that named this host and the value each gave. */
  reads: { list: RankedList; value: number }[];
  /** Its exact totals once looked up; null when it has no row in the range. */
  exact?: Talker | null;
}

/**
 * The `n` hosts with the most `by` in the minutes from `startUs` to `endUs` (both on a minute,
 * `endUs` excluded), largest first, ties by host.
 */
export async function topTalkersIn(
  db: Kysely<Database>,
  startUs: number,
  endUs: number,
  n: number,
  by: TalkerMeasure,
): Promise<Talker[]> {
  if (!db.isTransaction) {
    return db
      .transaction()
      .setIsolationLevel('repeatable read')
      .setAccessMode('read only')
      .execute((trx) => topTalkersIn(trx, startUs, endUs, n, by));
  }
  const parts = splitRange(startUs, endUs);
  const lists = await rankedListsOf(db, startUs, endUs, by);
  const candidates = new Map<string, Candidate>();
  const found: Talker[] = [];
  const tau = (): number => (found.length >= n ? (found[n - 1]?.[by] ?? 0) : 0);

  await readLists(db, lists, candidates, by, n, () => 0);
  const floors = lists.reduce((sum, list) => sum + list.floor, 0);
  for (const list of lists) list.share = floors > 0 ? list.floor / floors : 0;

  let block = FIRST_DEEPER_READ;
  for (;;) {
    await lookUp(db, parts, candidates, found, n, by, lists);
    const open = lists.filter((list) => !list.done);
    if (open.length === 0) break;
    if (found.length >= n && open.reduce((sum, list) => sum + list.floor, 0) < tau()) break;
    const threshold = tau();
    // The minus one keeps the thresholds' sum under tau however the shares round.
    let progressed = await readLists(db, lists, candidates, by, block, (list) =>
      Math.max(0, Math.floor(threshold * list.share) - 1),
    );
    // Every list is below its share, yet their floors could still make tau together (a share of
    // 0, rounding): read on without a threshold, which always ends.
    if (!progressed) progressed = await readLists(db, lists, candidates, by, block, () => 0);
    if (!progressed) break;
    block *= 2;
  }
  return found.slice(0, n);
}

/**
 * The lists that rank the hosts of the range: one per whole day; for what is left of a day, its
 * day's list as a bound when that is most of the day, else one per whole hour; for what is left
 * of an hour, its hour's list as a bound, or its few minutes grouped.
 */
async function rankedListsOf(
  db: Kysely<Database>,
  startUs: number,
  endUs: number,
  by: TalkerMeasure,
): Promise<RankedList[]> {
  const ranked = (period: RankedList['period'], entries: Entry[] = []): RankedList => ({
    period,
    entries,
    read: 0,
    floor: 0,
    done: false,
    share: 0,
  });
  // The list of the day or hour that `atUs` is in.
  const stored = (unitUs: number, atUs: number) => ranked({ unitUs, startUs: atUs - (atUs % unitUs) });
  const lists: RankedList[] = [];
  const eachOf = (spans: readonly Span[], unitUs: number) => {
    for (const span of spans) {
      for (let at = span.fromUs; at < span.toUs; at += unitUs) lists.push(stored(unitUs, at));
    }
  };
  const byDay = splitRange(startUs, endUs, [DAY_US]);
  eachOf(byDay.days, DAY_US);
  // Each leftover span lies inside one day, and each of its own leftovers inside one hour.
  for (const partOfDay of byDay.minutes) {
    if (partOfDay.toUs - partOfDay.fromUs >= BOUND_BY_DAY_HOURS * HOUR_US) {
      lists.push(stored(DAY_US, partOfDay.fromUs));
      continue;
    }
    const byHour = splitRange(partOfDay.fromUs, partOfDay.toUs, [HOUR_US]);
    eachOf(byHour.hours, HOUR_US);
    for (const partOfHour of byHour.minutes) {
      lists.push(
        partOfHour.toUs - partOfHour.fromUs > GROUPED_MINUTES * MINUTE_US
          ? stored(HOUR_US, partOfHour.fromUs)
          : ranked(null, await groupedMinutes(db, partOfHour, by)),
      );
    }
  }
  return lists;
}

/** The hosts of the minutes in `span` with their `by` summed, largest first, ties by host. */
async function groupedMinutes(db: Kysely<Database>, span: Span, by: TalkerMeasure): Promise<Entry[]> {
  const rows = await db
    .selectFrom('flow_rollups')
    .select((eb) => ['host', eb.cast<number>(eb.fn.sum<number>(by), 'bigint').as('value')])
    .where('minute_us', '>=', span.fromUs)
    .where('minute_us', '<', span.toUs)
    .where('host', '!=', ALL_HOSTS)
    .groupBy('host')
    .execute();
  return rows.sort(byValueThenHost((e) => e.value));
}

/**
 * Reads up to `limit` more entries of every list not done, only those of at least `thresholdOf`
 * it (and only from lists whose floor says they may have such entries); returns whether any list
 * was read. A list that gives fewer than asked has nothing left at or above its threshold.
 */
async function readLists(
  db: Kysely<Database>,
  lists: readonly RankedList[],
  candidates: Map<string, Candidate>,
  by: TalkerMeasure,
  limit: number,
  thresholdOf: (list: RankedList) => number,
): Promise<boolean> {
  const reads = lists
    .map((list) => ({ list, threshold: thresholdOf(list), got: [] as Entry[] }))
    .filter(({ list, threshold }) => !list.done && list.floor >= threshold);
  const stored = reads.flatMap((r) => (r.list.period === null ? [] : [{ ...r, period: r.list.period }]));
  for (let i = 0; i < stored.length; i += LISTS_PER_STATEMENT) {
    const chunk = stored.slice(i, i + LISTS_PER_STATEMENT);
    let union = null;
    for (const [index, { list, period, threshold }] of chunk.entries()) {
      const top = periodTop(db, period, by, threshold, list.read, limit);
      const rows = db.selectFrom(top.as(`l${index}`)).select([sql.lit(index).as('list'), 'host', 'value']);
      union = union === null ? rows : union.unionAll(rows);
    }
    for (const row of union === null ? [] : await union.execute()) chunk[row.list]?.got.push(row);
  }
  for (const { list, threshold, got } of reads) {
    if (list.period === null) {
      got.push(...list.entries.slice(list.read, list.read + limit).filter((e) => e.value >= threshold));
    }
    // A UNION ALL keeps no order: put each list's entries back in its own.
    got.sort(byValueThenHost((e) => e.value));
    for (const { host, value } of got) {
      let candidate = candidates.get(host);
      if (!candidate) {
        candidate = { reads: [] };
        candidates.set(host, candidate);
      }
      candidate.reads.push({ list, value });
    }
    list.read += got.length;
    const last = got[got.length - 1];
    if (got.length === limit && last) {
      list.floor = last.value;
    } else if (threshold > 0) {
      list.floor = threshold - 1;
    } else {
      list.floor = 0;
      list.done = true;
    }
  }
  return reads.length > 0;
}

/** Entries `offset` on of a day's or hour's list: its hosts (not `*`) from the largest down. */
function periodTop(
  db: Kysely<Database>,
  { unitUs, startUs }: { unitUs: number; startUs: number },
  by: TalkerMeasure,
  threshold: number,
  offset: number,
  limit: number,
) {
  const { table, time } = rollupTableOf(unitUs);
  // Equality on the period (not a range of one) lets the index give the order without a sort.
  return db
    .selectFrom(table)
    .select((eb) => ['host', eb.ref(by).as('value')])
    .where(sql.ref(time), '=', startUs)
    .where('host', '!=', ALL_HOSTS)
    .where(by, '>=', threshold)
    .orderBy(by, 'desc')
    .orderBy('host')
    .limit(limit)
    .offset(offset);
}

/**
 * Looks up the exact totals of the hosts whose bound may reach the n-th exact total known (all of
 * them, largest bound first, while fewer than `n` are known), adding those with rows to `found`.
 */
async function lookUp(
  db: Kysely<Database>,
  parts: RangeParts,
  candidates: Map<string, Candidate>,
  found: Talker[],
  n: number,
  by: TalkerMeasure,
  lists: readonly RankedList[],
): Promise<void> {
  const floors = lists.reduce((sum, list) => sum + list.floor, 0);
  for (;;) {
    const tau = found.length >= n ? (found[n - 1]?.[by] ?? 0) : 0;
    const pending: { host: string; bound: number }[] = [];
    for (const [host, candidate] of candidates) {
      if (candidate.exact !== undefined) continue;
      let bound = floors;
      for (const { list, value } of candidate.reads) bound += value - list.floor;
      if (found.length < n || bound >= tau) pending.push({ host, bound });
    }
    if (pending.length === 0) return;
    pending.sort((a, b) => b.bound - a.bound);
    const batch = pending
      .slice(0, found.length < n ? n - found.length : Math.max(n, LOOKUP_BATCH))
      .map((p) => p.host);
    const exact = await exactTotals(db, parts, batch);
    for (const host of batch) {
      const talker = exact.get(host) ?? null;
      (candidates.get(host) ?? { reads: [] }).exact = talker;
      if (talker) found.push(talker);
    }
    found.sort(byValueThenHost((t) => t[by]));
  }
}

/** The totals of `hosts` over the whole range; a host with no row in it is left out. */
async function exactTotals(
  db: Kysely<Database>,
  parts: RangeParts,
  hosts: readonly string[],
): Promise<Map<string, Talker>> {
  const totals = new Map<string, Talker>();
  for (let i = 0; i < hosts.length; i += HOSTS_PER_LOOKUP) {
    const chunk = hosts.slice(i, i + HOSTS_PER_LOOKUP);
    // Per span, so each reads its table's (host, period) key for just these hosts.
    const rows = rollupRowsOf(db, unitSpansOf(parts), (part) => part.where('host', 'in', chunk));
    if (rows === null) break;
    const summed = await db
      .selectFrom(rows.as('part'))
      .select(['host', ...summedTotals()])
      .groupBy('host')
      .execute();
    for (const talker of summed) totals.set(talker.host, talker);
  }
  return totals;
}

/** Largest value first, then by host, as `ORDER BY value DESC, host` in byte order. */
function byValueThenHost<T extends { host: string }>(value: (item: T) => number): (a: T, b: T) => number {
  return (a, b) => value(b) - value(a) || (a.host < b.host ? -1 : a.host > b.host ? 1 : 0);
}
