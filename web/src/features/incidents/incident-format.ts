/**
 * How the incident pages say an incident's status, its hosts, its links and its timeline. Pure:
 * the time zone is a parameter, so tests do not depend on the machine.
 */

import { formatTimestamp } from '../../lib/format';
import type {
  IncidentLinkKind,
  IncidentLinkView,
  IncidentStatus,
  TimelineEntry,
  TimelineSource,
} from './incident-types';

export const STATUS_LABEL: Record<IncidentStatus, string> = {
  open: 'Open',
  investigating: 'Investigating',
  contained: 'Contained',
  closed: 'Closed',
};

export const LINK_KIND_LABEL: Record<IncidentLinkKind, string> = {
  alert: 'Alert',
  flow: 'Flow',
  pcap: 'Evidence capture',
  block: 'Firewall rule',
  scan: 'Scan',
};

/** The incident's hosts in a table cell: the first few, then how many more. */
export function hostsText(hosts: readonly string[], shown = 3): string {
  if (hosts.length === 0) return '–';
  const first = hosts.slice(0, shown).join(', ');
  return hosts.length > shown ? `${first} +${hosts.length - shown} more` : first;
}

/** What a link points at, as its row says it: the server's label, or that it is gone. */
export function linkTargetText(link: Pick<IncidentLinkView, 'kind' | 'ref' | 'target'>): {
  label: string;
  path: string | null;
  gone: boolean;
} {
  if (link.target === null)
    return { label: `${link.kind} ${link.ref} (no longer stored, or unknown)`, path: null, gone: true };
  return { label: link.target.label, path: link.target.path, gone: false };
}

/** Where a timeline entry comes from, as a word and a glyph (the glyph is decoration only). */
export const TIMELINE_SOURCE: Record<TimelineSource, { label: string; icon: string }> = {
  incident: { label: 'incident', icon: '✎' },
  alert: { label: 'alert', icon: '⚠' },
  block: { label: 'firewall', icon: '✕' },
  scan: { label: 'scan', icon: '◎' },
  flow: { label: 'flow', icon: '⇄' },
};

/** One timeline entry as the panel shows it. */
export interface TimelineLine {
  /** Unique within the timeline (entries may share a millisecond). */
  key: string;
  /** ISO time for <time dateTime>. */
  dateTime: string;
  time: string;
  source: TimelineSource;
  sourceLabel: string;
  icon: string;
  /** Who did it; "network" for what the traffic did (an alert's evidence, a flow). */
  actor: string;
  kind: string;
  title: string;
  text: string | null;
  path: string | null;
}

/**
 * The timeline oldest first, as the panel shows it. The server sends it in order; sorting again
 * (stably: entries of one millisecond keep the server's order) keeps the page right if it ever
 * does not.
 */
export function timelineLines(entries: readonly TimelineEntry[], timeZone?: string): TimelineLine[] {
  return entries
    .map((entry, index) => ({ entry, index }))
    .sort((a, b) => a.entry.at - b.entry.at || a.index - b.index)
    .map(({ entry, index }) => {
      const source = TIMELINE_SOURCE[entry.source] as (typeof TIMELINE_SOURCE)[TimelineSource] | undefined;
      return {
        key: `${entry.at}-${index}`,
        dateTime: Number.isFinite(entry.at) ? new Date(entry.at).toISOString() : '',
        time: formatTimestamp(entry.at, 'second', timeZone),
        source: entry.source,
        // A source a newer server adds shows by its own name.
        sourceLabel: source?.label ?? entry.source,
        icon: source?.icon ?? '•',
        actor: entry.actor ?? 'network',
        kind: entry.kind,
        title: entry.title,
        text: entry.text === '' ? null : entry.text,
        path: entry.path,
      };
    });
}
