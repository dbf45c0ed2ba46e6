/**
 * The incident API's answers and bodies as the incident pages read and send them. The incident,
 * its links and its timeline are the server's own types (src/store/incident-repository.ts and
 * src/incidents/incident-types.ts; imported as types only, so nothing reaches the bundle); the
 * pages and bodies around them are kept by hand beside the pages (contract: /api/incidents), as
 * web/src/api/api-types.ts does. The fixed lists are copied: values are not imported.
 */

import type { Severity } from '../../api/api-types';
import type {
  Incident,
  IncidentLinkKind,
  IncidentStatus,
} from '../../../../src/store/incident-repository.js';

export type {
  Incident,
  IncidentLink,
  IncidentLinkKind,
  IncidentStatus,
} from '../../../../src/store/incident-repository.js';
export type {
  IncidentDetail,
  IncidentLinkView,
  LinkTarget,
  TimelineEntry,
  TimelineSource,
} from '../../../../src/incidents/incident-types.js';

/** src/store/incident-repository.ts INCIDENT_STATUSES, in the order an incident moves. */
export const INCIDENT_STATUSES = [
  'open',
  'investigating',
  'contained',
  'closed',
] as const satisfies readonly IncidentStatus[];

/** src/store/incident-repository.ts INCIDENT_LINK_KINDS. */
export const INCIDENT_LINK_KINDS = [
  'alert',
  'flow',
  'pcap',
  'block',
  'scan',
] as const satisfies readonly IncidentLinkKind[];

/** GET /api/incidents. */
export interface IncidentListPage {
  items: Incident[];
  nextCursor: string | null;
}

/** A link as POST /api/incidents (links) and POST /api/incidents/:id/links take it. */
export interface NewLinkBody {
  kind: IncidentLinkKind;
  ref: string;
  note?: string;
}

/** POST /api/incidents. */
export interface NewIncidentBody {
  title: string;
  description: string;
  severity: Severity;
  hosts: string[];
  assignee?: string | null;
  links?: NewLinkBody[];
}

/** PATCH /api/incidents/:id: only what changes; a null assignee unassigns. */
export interface IncidentChangeBody {
  title?: string;
  description?: string;
  severity?: Severity;
  hosts?: string[];
  assignee?: string | null;
  status?: IncidentStatus;
}
