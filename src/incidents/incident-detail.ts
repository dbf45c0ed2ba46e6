/**
 * An incident as the API and its report show it: the incident, each link with a line saying what
 * it points at, and one timeline, oldest first, joining the incident's own entries (reported,
 * status changes, edits, comments, links), its linked alerts (their evidence span and their
 * history: acknowledged, assigned, commented, resolved), the firewall blocks that answer them or
 * its hosts, its linked scans and flows. Reads the store; changes nothing.
 */

import type { Store } from '../store/store.js';
import type { AlertRecord } from '../store/alert-repository.js';
import type { FirewallRule } from '../store/firewall-rule-repository.js';
import type { Incident, IncidentLink } from '../store/incident-repository.js';
import type { ScanRecord } from '../store/scan-repository.js';
import type { StoredFlow } from '../store/flow-repository.js';
import type { IncidentDetail, IncidentLinkView, LinkTarget, TimelineEntry } from './incident-types.js';

export type IncidentSources = Pick<Store, 'incidents' | 'alerts' | 'flows' | 'firewallRules' | 'scans'>;

/** Firewall rules looked through for blocks of the incident's hosts (the newest). */
const RULES_SEARCHED = 10_000;

/** Null when there is no incident `id`. */
export async function incidentDetail(store: IncidentSources, id: number): Promise<IncidentDetail | null> {
  const incident = await store.incidents.findById(id);
  if (!incident) return null;
  const [links, events] = await Promise.all([store.incidents.links(id), store.incidents.events(id)]);
  const alertIds = [
    ...new Set(links.filter((l) => l.kind === 'alert' || l.kind === 'pcap').map((l) => l.ref)),
  ];
  const alerts = new Map((await store.alerts.findByIds(alertIds)).map((a) => [a.id, a]));
  const flows = new Map<string, StoredFlow>();
  const scans = new Map<string, ScanRecord>();
  const linkedRules = new Map<string, FirewallRule>();
  for (const link of links) {
    if (link.kind === 'flow' && /^\d{1,15}$/.test(link.ref)) {
      const flow = await store.flows.findById(Number(link.ref));
      if (flow) flows.set(link.ref, flow);
    } else if (link.kind === 'scan') {
      const scan = await store.scans.findById(link.ref);
      if (scan) scans.set(link.ref, scan);
    } else if (link.kind === 'block' && /^\d{1,15}$/.test(link.ref)) {
      const rule = await store.firewallRules.findById(Number(link.ref));
      if (rule) linkedRules.set(link.ref, rule);
    }
  }
  const blocks = await blocksOf(store, incident, [...alerts.values()], [...linkedRules.values()]);
  const alertEvents = await store.alerts.eventsOf([...alerts.keys()]);

  const linkViews: IncidentLinkView[] = links.map((link) => ({
    ...link,
    target: targetOf(link, { alerts, flows, scans, rules: linkedRules }),
  }));

  const timeline: TimelineEntry[] = [];
  for (const e of events) {
    timeline.push({
      at: e.tsMs,
      source: 'incident',
      kind: e.kind,
      actor: e.actor,
      title: incidentEventTitle(e.kind, e.text),
      text: e.kind === 'commented' ? e.text : null,
      path: null,
    });
  }
  for (const a of alerts.values()) {
    const path = `/alerts/${encodeURIComponent(a.id)}`;
    timeline.push({
      at: Math.floor(a.start / 1000),
      source: 'alert',
      kind: 'raised',
      actor: null,
      title: `Alert raised: ${alertLabel(a)}`,
      text: a.summary,
      path,
    });
    if (a.end > a.start) {
      timeline.push({
        at: Math.floor(a.end / 1000),
        source: 'alert',
        kind: 'last evidence',
        actor: null,
        title: `Last evidence of ${a.type} ${a.id} (${a.updates} reports)`,
        text: null,
        path,
      });
    }
  }
  for (const e of alertEvents) {
    timeline.push({
      at: e.tsMs,
      source: 'alert',
      kind: e.kind,
      actor: e.actor,
      title:
        e.kind === 'assigned'
          ? `Alert ${e.alertId} ${e.text === null ? 'unassigned' : `assigned to ${e.text}`}`
          : `Alert ${e.alertId} ${e.kind}`,
      text: e.kind === 'assigned' ? null : e.text,
      path: `/alerts/${encodeURIComponent(e.alertId)}`,
    });
  }
  for (const rule of blocks) {
    const what =
      `${rule.kind} ${rule.source ?? (rule.port === null ? '' : `${rule.protocol ?? ''} port ${rule.port}`)}`.trim();
    timeline.push({
      at: rule.createdAt,
      source: 'block',
      kind: rule.kind === 'block' ? 'blocked' : rule.kind,
      actor: rule.createdBy,
      title: `Firewall rule ${rule.id}: ${what}${rule.alertId === null ? '' : ` (answering alert ${rule.alertId})`}`,
      text: rule.comment,
      path: '/firewall',
    });
    if (rule.removedAt !== null) {
      timeline.push({
        at: rule.removedAt,
        source: 'block',
        kind: rule.removedBy === 'expired' ? 'expired' : 'lifted',
        actor: rule.removedBy,
        title: `Firewall rule ${rule.id} ${rule.removedBy === 'expired' ? 'expired' : 'lifted'}: ${what}`,
        text: null,
        path: '/firewall',
      });
    }
  }
  for (const scan of scans.values()) {
    const path = `/scans/${encodeURIComponent(scan.id)}`;
    timeline.push({
      at: scan.createdAt,
      source: 'scan',
      kind: 'scan requested',
      actor: scan.requestedBy,
      title: `Scan of ${scan.targets.join(', ')} requested`,
      text: null,
      path,
    });
    if (scan.finishedAt !== null) {
      timeline.push({
        at: scan.finishedAt,
        source: 'scan',
        kind: `scan ${scan.status}`,
        actor: null,
        title: `Scan ${scan.status}: ${scan.openPorts} open ports, ${scan.findings} findings${scan.maxRisk === null ? '' : `, highest risk ${scan.maxRisk}`}`,
        text: scan.error,
        path,
      });
    }
  }
  for (const flow of flows.values()) {
    timeline.push({
      at: Math.floor(flow.firstSeenUs / 1000),
      source: 'flow',
      kind: 'flow',
      actor: null,
      title: `Flow ${flowLabel(flow)}`,
      text: `${flow.packetsToServer + flow.packetsToClient} packets, ${flow.bytesToServer + flow.bytesToClient} bytes, ${flow.state}`,
      path: `/flows?address=${encodeURIComponent(flow.srcAddr)}`,
    });
  }
  // Stable: entries at the same millisecond keep the order they were pushed in.
  timeline.sort((a, b) => a.at - b.at);
  return { incident, links: linkViews, timeline };
}

/**
 * Rules linked by hand, rules made in answer to a linked alert, and blocks of the incident's
 * hosts or its alerts' attackers (the same address, or that address as a /32 or /128).
 */
async function blocksOf(
  store: IncidentSources,
  incident: Incident,
  alerts: readonly AlertRecord[],
  linked: readonly FirewallRule[],
): Promise<FirewallRule[]> {
  const alertIds = new Set(alerts.map((a) => a.id));
  const addresses = new Set<string>(incident.hosts);
  for (const a of alerts) if (a.src !== null) addresses.add(a.src);
  const found = new Map(linked.map((r) => [r.id, r]));
  if (alertIds.size > 0 || addresses.size > 0) {
    for (const rule of await store.firewallRules.history(RULES_SEARCHED)) {
      const source = rule.source?.replace(/\/(32|128)$/, '') ?? null;
      if (
        (rule.alertId !== null && alertIds.has(rule.alertId)) ||
        (source !== null && addresses.has(source))
      ) {
        found.set(rule.id, rule);
      }
    }
  }
  return [...found.values()].sort((a, b) => a.id - b.id);
}

function targetOf(
  link: IncidentLink,
  found: {
    alerts: Map<string, AlertRecord>;
    flows: Map<string, StoredFlow>;
    scans: Map<string, ScanRecord>;
    rules: Map<string, FirewallRule>;
  },
): LinkTarget | null {
  switch (link.kind) {
    case 'alert':
    case 'pcap': {
      const a = found.alerts.get(link.ref);
      if (!a) return null;
      return {
        label: link.kind === 'pcap' ? `evidence capture of ${alertLabel(a)}` : alertLabel(a),
        path: `/alerts/${encodeURIComponent(a.id)}`,
        from: Math.floor(a.start / 1000),
        to: Math.floor(a.end / 1000),
      };
    }
    case 'flow': {
      const f = found.flows.get(link.ref);
      if (!f) return null;
      return {
        label: flowLabel(f),
        path: `/flows?address=${encodeURIComponent(f.srcAddr)}`,
        from: Math.floor(f.firstSeenUs / 1000),
        to: Math.floor(f.lastSeenUs / 1000),
      };
    }
    case 'scan': {
      const s = found.scans.get(link.ref);
      if (!s) return null;
      return {
        label: `scan of ${s.targets.join(', ')} (${s.status}, ${s.openPorts} open ports)`,
        path: `/scans/${encodeURIComponent(s.id)}`,
        from: s.createdAt,
        to: s.finishedAt,
      };
    }
    case 'block': {
      const r = found.rules.get(link.ref);
      if (!r) return null;
      return {
        label: `${r.kind} ${r.source ?? `${r.protocol ?? ''} port ${r.port ?? ''}`} (${r.removedAt === null ? 'in force' : 'lifted'})`,
        path: '/firewall',
        from: r.createdAt,
        to: r.removedAt,
      };
    }
  }
}

/** "port_scan from 10.0.0.5 to 10.0.0.9 (high, open)". */
export function alertLabel(a: AlertRecord): string {
  const from = a.src === null ? '' : ` from ${a.src}`;
  const to = a.dst === null ? '' : ` to ${a.dst}`;
  return `${a.type}${from}${to} (${a.severity}, ${a.status})`;
}

function flowLabel(f: StoredFlow): string {
  const ports = f.protocol === 'tcp' || f.protocol === 'udp';
  const side = (addr: string, port: number): string =>
    ports ? `${addr.includes(':') ? `[${addr}]` : addr}:${port}` : addr;
  return `${f.protocol} ${side(f.srcAddr, f.srcPort)} → ${side(f.dstAddr, f.dstPort)}`;
}

function incidentEventTitle(kind: string, text: string | null): string {
  switch (kind) {
    case 'created':
      return `Incident reported: ${text ?? ''}`;
    case 'status':
      return `Status ${text ?? ''}`;
    case 'edited':
      return `Edited: ${text ?? ''}`;
    case 'commented':
      return 'Comment';
    case 'linked':
      return `Linked ${text ?? ''}`;
    case 'unlinked':
      return `Unlinked ${text ?? ''}`;
    default:
      return text ?? kind;
  }
}
