/**
 * The incident forms' values and the API bodies they become: reporting an incident, editing it,
 * linking evidence to it, commenting. Pure. The checks catch what is plainly wrong (a mistyped
 * address, a missing title) beside its field before a round trip; the server checks everything
 * again, and its refusal (an unknown user, an alert that does not exist) is shown as it says it.
 */

import { SEVERITIES, type Severity } from '../../api/api-types';
import { isIpAddress } from '../../lib/ip-address';
import type {
  Incident,
  IncidentChangeBody,
  IncidentLinkKind,
  NewIncidentBody,
  NewLinkBody,
} from './incident-types';

export const MAX_TITLE = 200;
export const MAX_DESCRIPTION = 20_000;
export const MAX_HOSTS = 100;
export const MAX_COMMENT = 4000;

type Checked<T, F extends string> =
  { ok: true; value: T } | { ok: false; errors: Partial<Record<F, string>> };

/** The report form, text as typed. */
export interface ReportForm {
  title: string;
  description: string;
  severity: Severity;
  /** Addresses separated by commas or spaces. */
  hosts: string;
  /** A user name; empty: nobody yet. */
  assignee: string;
  /** Alert ids to link, separated by commas or spaces. */
  alertIds: string;
}

export const EMPTY_REPORT_FORM: ReportForm = {
  title: '',
  description: '',
  severity: 'medium',
  hosts: '',
  assignee: '',
  alertIds: '',
};

export type ReportField = 'title' | 'description' | 'hosts' | 'assignee' | 'alertIds';

/** The POST body for the report form, or every problem at once by field. */
export function newIncidentBodyOf(form: ReportForm): Checked<NewIncidentBody, ReportField> {
  const errors: Partial<Record<ReportField, string>> = {};
  const title = form.title.trim();
  const titleProblem = titleProblemOf(title);
  if (titleProblem !== null) errors.title = titleProblem;
  if (form.description.length > MAX_DESCRIPTION)
    errors.description = `At most ${MAX_DESCRIPTION} characters.`;
  const hosts = parseHosts(form.hosts);
  if (!hosts.ok) errors.hosts = hosts.error;
  const assignee = form.assignee.trim();
  const assigneeProblem = assigneeProblemOf(assignee);
  if (assigneeProblem !== null) errors.assignee = assigneeProblem;
  const alertIds = parseAlertIds(form.alertIds);
  if (!alertIds.ok) errors.alertIds = alertIds.error;
  if (Object.keys(errors).length > 0 || !hosts.ok || !alertIds.ok) return { ok: false, errors };
  return {
    ok: true,
    value: {
      title,
      description: form.description.trim(),
      severity: form.severity,
      hosts: hosts.hosts,
      ...(assignee !== '' && { assignee }),
      ...(alertIds.ids.length > 0 && { links: alertIds.ids.map((ref) => ({ kind: 'alert' as const, ref })) }),
    },
  };
}

/** The report form with alert ids from a link (`/incidents/new?alert=a,b&alert=c`). */
export function reportFormFromQuery(query: URLSearchParams): ReportForm {
  const ids = query.getAll('alert').flatMap(splitList).filter(isAlertId);
  return { ...EMPTY_REPORT_FORM, alertIds: [...new Set(ids)].join(', ') };
}

/** The edit form, text as typed. */
export interface EditForm {
  title: string;
  description: string;
  severity: Severity;
  hosts: string;
  assignee: string;
}

export type EditField = 'title' | 'description' | 'hosts' | 'assignee';

export function editFormOf(incident: Incident): EditForm {
  return {
    title: incident.title,
    description: incident.description,
    severity: severityOf(incident.severity) ?? 'medium',
    hosts: incident.hosts.join(', '),
    assignee: incident.assignee ?? '',
  };
}

/** The PATCH body for the edit form (only what changed), null when nothing did, or the problems. */
export function incidentChangeOf(
  incident: Incident,
  form: EditForm,
): Checked<IncidentChangeBody | null, EditField> {
  const errors: Partial<Record<EditField, string>> = {};
  const title = form.title.trim();
  const titleProblem = titleProblemOf(title);
  if (titleProblem !== null) errors.title = titleProblem;
  const description = form.description.trim();
  if (description.length > MAX_DESCRIPTION) errors.description = `At most ${MAX_DESCRIPTION} characters.`;
  const hosts = parseHosts(form.hosts);
  if (!hosts.ok) errors.hosts = hosts.error;
  const assigneeText = form.assignee.trim();
  const assigneeProblem = assigneeProblemOf(assigneeText);
  if (assigneeProblem !== null) errors.assignee = assigneeProblem;
  if (Object.keys(errors).length > 0 || !hosts.ok) return { ok: false, errors };

  const change: IncidentChangeBody = {};
  if (title !== incident.title) change.title = title;
  if (description !== incident.description.trim()) change.description = description;
  if (form.severity !== incident.severity) change.severity = form.severity;
  if (hosts.hosts.join(',') !== incident.hosts.join(',')) change.hosts = hosts.hosts;
  const assignee = assigneeText === '' ? null : assigneeText;
  if (assignee !== incident.assignee) change.assignee = assignee;
  return { ok: true, value: Object.keys(change).length === 0 ? null : change };
}

/** The "Add link" form. */
export interface LinkForm {
  kind: IncidentLinkKind;
  ref: string;
  note: string;
}

export const EMPTY_LINK_FORM: LinkForm = { kind: 'alert', ref: '', note: '' };

export type LinkField = 'ref' | 'note';

/** What each kind of link takes as its reference: the field's hint, an example, what is wrong. */
export const LINK_REF: Record<IncidentLinkKind, { hint: string; placeholder: string; problem: string }> = {
  alert: {
    hint: 'An alert id.',
    placeholder: 'port_scan-…',
    problem: 'An alert id: letters, digits and _ . : - only.',
  },
  pcap: {
    hint: 'The id of the alert whose evidence capture it is.',
    placeholder: 'port_scan-…',
    problem: 'The id of the alert whose evidence capture it is: letters, digits and _ . : - only.',
  },
  flow: { hint: 'A flow id (a number).', placeholder: '123456', problem: 'A flow id is a number.' },
  block: {
    hint: 'A firewall rule id (a number).',
    placeholder: '42',
    problem: 'A firewall rule id is a number.',
  },
  scan: {
    hint: 'A scan id (a UUID, as in the scan page’s address).',
    placeholder: '0b6c…-…',
    problem: 'A scan id is a UUID, as in the scan page’s address.',
  },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `ref` can be a reference of `kind` (the server says whether the thing exists). */
export function isLinkRef(kind: IncidentLinkKind, ref: string): boolean {
  switch (kind) {
    case 'alert':
    case 'pcap':
      return isAlertId(ref);
    case 'flow':
    case 'block':
      return /^[1-9]\d{0,14}$/.test(ref);
    case 'scan':
      return UUID.test(ref);
  }
}

/** The POST body for the link form, or the problems. */
export function linkBodyOf(form: LinkForm): Checked<NewLinkBody, LinkField> {
  const ref = form.ref.trim();
  const note = form.note.trim();
  const errors: Partial<Record<LinkField, string>> = {};
  if (ref === '') errors.ref = `Give the reference. ${LINK_REF[form.kind].hint}`;
  else if (!isLinkRef(form.kind, ref)) errors.ref = LINK_REF[form.kind].problem;
  if (note.length > 500) errors.note = 'At most 500 characters.';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, value: { kind: form.kind, ref, ...(note !== '' && { note }) } };
}

/** The comment body, or why not. */
export function commentBodyOf(
  text: string,
): { ok: true; value: { text: string } } | { ok: false; error: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'Write the comment first.' };
  if (trimmed.length > MAX_COMMENT)
    return { ok: false, error: `At most ${MAX_COMMENT} characters (${trimmed.length} now).` };
  return { ok: true, value: { text: trimmed } };
}

/**
 * The addresses in `text` (separated by commas, spaces or lines), in order, each once; or which
 * are not addresses. The API takes IPv4 and IPv6 addresses, at most 100.
 */
export function parseHosts(text: string): { ok: true; hosts: string[] } | { ok: false; error: string } {
  const hosts = [...new Set(splitList(text))];
  const bad = hosts.filter((h) => !isIpAddress(h));
  if (bad.length > 0)
    return {
      ok: false,
      error: `Not ${bad.length === 1 ? 'an IP address' : 'IP addresses'}: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}.`,
    };
  if (hosts.length > MAX_HOSTS)
    return { ok: false, error: `At most ${MAX_HOSTS} hosts (${hosts.length} given).` };
  return { ok: true, hosts };
}

/** The alert ids in `text`, each once; or which cannot be alert ids. */
export function parseAlertIds(text: string): { ok: true; ids: string[] } | { ok: false; error: string } {
  const ids = [...new Set(splitList(text))];
  const bad = ids.filter((id) => !isAlertId(id));
  if (bad.length > 0) return { ok: false, error: `Not alert ids: ${bad.slice(0, 5).join(', ')}.` };
  return { ok: true, ids };
}

/** The tracker's alert ids, as the API's routes check them. */
export function isAlertId(text: string): boolean {
  return /^[A-Za-z0-9_.:-]{1,128}$/.test(text);
}

/** `text` as a Severity, or null for one this page does not know. */
export function severityOf(text: string): Severity | null {
  return SEVERITIES.find((s) => s === text) ?? null;
}

function titleProblemOf(title: string): string | null {
  if (title === '') return 'Give the incident a title.';
  if (title.length > MAX_TITLE) return `At most ${MAX_TITLE} characters.`;
  return null;
}

/** The server's user name rule (src/api/auth/username.ts); empty is "nobody". */
function assigneeProblemOf(assignee: string): string | null {
  if (assignee === '') return null;
  if (assignee.length > 64 || !/^[A-Za-z0-9._@-]+$/.test(assignee))
    return 'A user name: letters, digits and . _ @ - only.';
  return null;
}

function splitList(text: string): string[] {
  return text.split(/[\s,;]+/).filter((part) => part !== '');
}
