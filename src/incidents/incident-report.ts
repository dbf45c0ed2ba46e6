/**
 * An incident as one self-contained HTML file: what an analyst sends to a manager or attaches to
 * a ticket, readable offline and printable (to PDF from any browser's print dialog). Pure: the
 * detail and the linked alerts come in, a string goes out. Everything shown is escaped, the page
 * loads nothing (no script, no image, no font, no link to fetch) and says so in its CSP.
 */

import type { AlertRecord } from '../store/alert-repository.js';
import type { IncidentDetail } from './incident-types.js';

export interface ReportContext {
  /** Epoch milliseconds. */
  generatedAt: number;
  generatedBy: string;
  /** The FlowTrack host's name. */
  host: string;
  /** The linked alerts in full, for their evidence. */
  alerts: readonly AlertRecord[];
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2430;margin:2rem auto;max-width:60rem;padding:0 1rem}
h1{font-size:1.6rem;margin:0 0 .25rem}h2{font-size:1.15rem;border-bottom:1px solid #ccd3dd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{text-align:left;vertical-align:top;padding:.3rem .5rem;border-bottom:1px solid #e3e7ee}
th{background:#f3f5f8;font-weight:600}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
.sev{display:inline-block;padding:0 .4rem;border-radius:.3rem;font-weight:600}.sev-critical{background:#7a0010;color:#fff}.sev-high{background:#c62828;color:#fff}
.sev-medium{background:#ef6c00;color:#fff}.sev-low{background:#f9a825}.sev-info{background:#90a4ae}
.desc{white-space:pre-wrap}.muted{color:#5b6573}.mono{font-family:ui-monospace,Consolas,monospace;font-size:.92em}
footer{margin-top:2rem;color:#5b6573;font-size:.85rem}@media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
`;

export function renderIncidentReport(detail: IncidentDetail, ctx: ReportContext): string {
  const { incident: i, links, timeline } = detail;
  const alertRows = ctx.alerts
    .map(
      (a) =>
        `<tr><td class="mono">${esc(a.id)}</td><td>${esc(a.type)}</td><td>${severity(a.severity)}</td><td>${esc(a.status)}</td>` +
        `<td class="mono">${esc(a.src ?? '—')}</td><td class="mono">${esc(a.dst ?? '—')}</td>` +
        `<td>${time(a.start / 1000)}<br>${time(a.end / 1000)}</td><td>${esc(a.summary)}${thresholds(a)}</td></tr>`,
    )
    .join('\n');
  const otherLinks = links.filter((l) => l.kind !== 'alert');
  const linkRows = otherLinks
    .map(
      (l) =>
        `<tr><td>${esc(l.kind)}</td><td class="mono">${esc(l.ref)}</td><td>${esc(l.target?.label ?? 'no longer stored')}</td>` +
        `<td>${esc(l.note ?? '')}</td><td>${esc(l.addedBy)}, ${time(l.addedAt)}</td></tr>`,
    )
    .join('\n');
  const timelineRows = timeline
    .map(
      (e) =>
        `<tr><td>${time(e.at)}</td><td>${esc(e.source)}</td><td>${esc(e.actor ?? '—')}</td>` +
        `<td>${esc(e.title)}${e.text === null ? '' : `<div class="desc">${esc(e.text)}</div>`}</td></tr>`,
    )
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Incident ${i.id}: ${esc(i.title)}</title>
<style>${STYLE}</style>
</head>
<body>
<header>
<p class="muted">FlowTrack incident report · ${esc(ctx.host)}</p>
<h1>Incident ${i.id}: ${esc(i.title)}</h1>
<dl>
<dt>Severity</dt><dd>${severity(i.severity)}</dd>
<dt>Status</dt><dd>${esc(i.status)}${i.closedAt === null ? '' : ` (closed ${time(i.closedAt)})`}</dd>
<dt>Affected hosts</dt><dd class="mono">${i.hosts.length === 0 ? '—' : i.hosts.map(esc).join(', ')}</dd>
<dt>Assigned to</dt><dd>${esc(i.assignee ?? '—')}</dd>
<dt>Reported</dt><dd>${esc(i.createdBy)}, ${time(i.createdAt)}</dd>
<dt>Last change</dt><dd>${time(i.updatedAt)}</dd>
</dl>
</header>
<section aria-labelledby="description"><h2 id="description">Description</h2>
<div class="desc">${i.description === '' ? '<span class="muted">None given.</span>' : esc(i.description)}</div></section>
<section aria-labelledby="alerts"><h2 id="alerts">Linked alerts (${ctx.alerts.length})</h2>
${
  ctx.alerts.length === 0
    ? '<p class="muted">No alerts linked.</p>'
    : `<table aria-label="Linked alerts"><thead><tr><th>Alert</th><th>Type</th><th>Severity</th><th>Status</th><th>Source</th><th>Destination</th><th>Evidence from / to</th><th>Summary</th></tr></thead><tbody>
${alertRows}
</tbody></table>`
}</section>
<section aria-labelledby="evidence"><h2 id="evidence">Other evidence (${otherLinks.length})</h2>
${
  otherLinks.length === 0
    ? '<p class="muted">No flows, captures, blocks or scans linked.</p>'
    : `<table aria-label="Other evidence"><thead><tr><th>Kind</th><th>Reference</th><th>What</th><th>Note</th><th>Added</th></tr></thead><tbody>
${linkRows}
</tbody></table>`
}</section>
<section aria-labelledby="timeline"><h2 id="timeline">Timeline</h2>
<table aria-label="Timeline"><thead><tr><th>Time (UTC)</th><th>Source</th><th>Who</th><th>What</th></tr></thead><tbody>
${timelineRows}
</tbody></table></section>
<footer>Generated by FlowTrack on ${esc(ctx.host)} for ${esc(ctx.generatedBy)} at ${time(ctx.generatedAt)}. Times are UTC.</footer>
</body>
</html>
`;
}

function thresholds(a: AlertRecord): string {
  const t = a.evidence.thresholds;
  if (t.length === 0) return '';
  return `<div class="muted">${t.map((x) => `${esc(x.metric)} ${x.value} ≥ ${x.threshold}`).join('; ')}</div>`;
}

function severity(s: string): string {
  const known = ['info', 'low', 'medium', 'high', 'critical'].includes(s) ? s : 'info';
  return `<span class="sev sev-${known}">${esc(s)}</span>`;
}

/** ISO 8601 UTC to the second, or a dash for a time that is not one. */
function time(ms: number): string {
  return Number.isFinite(ms)
    ? new Date(Math.floor(ms))
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d{3}Z$/, 'Z')
    : '—';
}

/** Escapes text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
