/**
 * An incident as the API gives it: the incident, its links each with a short description of what
 * it points at, and one timeline merging the incident's own entries with its linked alerts (their
 * evidence and history), blocks, scans and flows. Types only: the dashboard imports them.
 */

import type { Incident, IncidentLink } from '../store/incident-repository.js';

/** What a link points at, in a line; null when it is gone (retention) or unknown. */
export interface LinkTarget {
  /** E.g. "port_scan from 10.0.0.5 (high, open)", "tcp 10.0.0.5:4242 → 10.0.0.9:22". */
  label: string;
  /** The dashboard path that shows it, e.g. "/alerts/port_scan-abc-1". */
  path: string | null;
  /** Epoch milliseconds the evidence begins and ends (alerts, flows), or when it was made. */
  from: number | null;
  to: number | null;
}

export interface IncidentLinkView extends IncidentLink {
  target: LinkTarget | null;
}

export type TimelineSource = 'incident' | 'alert' | 'block' | 'scan' | 'flow';

/** One line of the timeline. */
export interface TimelineEntry {
  /** Epoch milliseconds. */
  at: number;
  source: TimelineSource;
  /** E.g. "created", "status", "commented", "raised", "acknowledged", "blocked", "scan finished". */
  kind: string;
  /** Who did it (a user, or "system"); null for what the network did (an alert's evidence). */
  actor: string | null;
  /** One line. */
  title: string;
  /** A comment's text or a detail; null when the title says it all. */
  text: string | null;
  /** The dashboard path of the thing, when it has one. */
  path: string | null;
}

export interface IncidentDetail {
  incident: Incident;
  links: IncidentLinkView[];
  /** Oldest first. */
  timeline: TimelineEntry[];
}
