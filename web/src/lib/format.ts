/** Numbers as the dashboard shows them: short, with SI prefixes. Pure. */

const PREFIXES = ['', 'k', 'M', 'G', 'T', 'P'];

/** 1234567 -> "1.23 M"; below 1000 as is (rounded to one decimal below 10). */
export function formatSi(value: number): string {
  if (!Number.isFinite(value)) return '–';
  let v = Math.abs(value);
  let i = 0;
  while (v >= 1000 && i < PREFIXES.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 ? (v < 10 && v % 1 !== 0 ? 1 : 0) : v < 10 ? 2 : v < 100 ? 1 : 0;
  const text = `${value < 0 ? '-' : ''}${v.toFixed(digits)}`;
  return i === 0 ? text : `${text} ${PREFIXES[i] ?? ''}`;
}

/** Bytes per second as bits per second, the unit links are sold in: "12.5 Mbit/s". */
export function formatBitRate(bytesPerSecond: number): string {
  const text = formatSi(bytesPerSecond * 8);
  return /[a-zA-Z]$/.test(text) ? `${text}bit/s` : `${text} bit/s`;
}

// Made once: building an Intl formatter costs far more than using one (a chart of 300 bars with
// a new one each label took 75-390 ms of a page load; bench/dashboard-bench.mjs).
const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators: 1234567 -> "1,234,567". */
export function formatCount(value: number): string {
  return COUNT.format(Math.round(value));
}

/** A byte count with an SI prefix: 1234567 -> "1.23 MB". */
export function formatBytes(bytes: number): string {
  const text = formatSi(bytes);
  return /[a-zA-Z]$/.test(text) ? `${text}B` : `${text} B`;
}

/** A process of this host as "curl (4242, alice)": its name, pid and user (either may be unknown). */
export function formatProcess(process: { pid: number; name: string; user: string }): string {
  if (process.name === '')
    return process.user === '' ? `pid ${process.pid}` : `pid ${process.pid} (${process.user})`;
  return process.user === ''
    ? `${process.name} (${process.pid})`
    : `${process.name} (${process.pid}, ${process.user})`;
}

export type TimePrecision = 'minute' | 'second' | 'millisecond';

/**
 * Epoch ms as "2023-11-14 22:13", "…:20" or "…:20.123": 24-hour, sortable by eye, in `timeZone`
 * (default: the browser's; tests name one so they do not depend on the machine). "–" for a time
 * that is not one.
 */
export function formatTimestamp(ms: number, precision: TimePrecision = 'second', timeZone?: string): string {
  if (!Number.isFinite(ms)) return '–';
  const parts = dateFormat(precision === 'minute', timeZone).formatToParts(new Date(ms));
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((p) => p.type === type)?.value ?? '';
  const minute = `${part('year')}-${part('month')}-${part('day')} ${part('hour')}:${part('minute')}`;
  if (precision === 'minute') return minute;
  const second = `${minute}:${part('second')}`;
  return precision === 'second'
    ? second
    : `${second}.${String(((ms % 1000) + 1000) % 1000).padStart(3, '0')}`;
}

const DATE_FORMATS = new Map<string, Intl.DateTimeFormat>();

/** One formatter per (seconds or not, time zone), made on first use. */
function dateFormat(toMinute: boolean, timeZone: string | undefined): Intl.DateTimeFormat {
  const key = `${String(toMinute)} ${timeZone ?? ''}`;
  let format = DATE_FORMATS.get(key);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      ...(!toMinute && { second: '2-digit' }),
      hourCycle: 'h23',
      ...(timeZone !== undefined && { timeZone }),
    });
    DATE_FORMATS.set(key, format);
  }
  return format;
}
