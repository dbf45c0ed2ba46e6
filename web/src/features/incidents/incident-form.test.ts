/** The incident forms' values as API bodies: what is sent, and what is asked for first. */

import { describe, expect, it } from 'vitest';
import {
  commentBodyOf,
  editFormOf,
  EMPTY_LINK_FORM,
  EMPTY_REPORT_FORM,
  incidentChangeOf,
  isLinkRef,
  linkBodyOf,
  newIncidentBodyOf,
  parseAlertIds,
  parseHosts,
  reportFormFromQuery,
  type ReportForm,
} from './incident-form';
import { isIpAddress } from '../../lib/ip-address';
import type { Incident } from './incident-types';

const INCIDENT: Incident = {
  id: 7,
  title: 'Scan from 203.0.113.7',
  description: 'Seen on the edge.',
  severity: 'high',
  status: 'investigating',
  hosts: ['10.0.0.5', '10.0.0.9'],
  assignee: 'ada',
  createdBy: 'ada',
  createdAt: 0,
  updatedAt: 0,
  closedAt: null,
};

function report(overrides: Partial<ReportForm>): ReportForm {
  return { ...EMPTY_REPORT_FORM, title: 'Brute force on ssh', ...overrides };
}

describe('hosts as typed', () => {
  it('reads addresses separated by commas, spaces or lines, each once, in order', () => {
    expect(parseHosts(' 10.0.0.5, 10.0.0.9\n2001:db8::1  10.0.0.5 ;192.0.2.1')).toEqual({
      ok: true,
      hosts: ['10.0.0.5', '10.0.0.9', '2001:db8::1', '192.0.2.1'],
    });
    expect(parseHosts('   ')).toEqual({ ok: true, hosts: [] });
  });

  it('names what is not an address', () => {
    expect(parseHosts('10.0.0.5, server1, 10.0.0.256, 10.0.0.0/24')).toEqual({
      ok: false,
      error: 'Not IP addresses: server1, 10.0.0.256, 10.0.0.0/24.',
    });
    expect(parseHosts('10.0.0.1 nope')).toEqual({ ok: false, error: 'Not an IP address: nope.' });
  });

  it('takes at most 100', () => {
    const many = Array.from({ length: 101 }, (_, i) => `10.0.${Math.floor(i / 250)}.${i % 250}`).join(' ');
    expect(parseHosts(many)).toMatchObject({ ok: false, error: /At most 100/ });
  });

  it('knows an address when it sees one', () => {
    for (const ok of ['192.0.2.1', '0.0.0.0', '::1', 'fe80::1', '2001:db8::ff00:42:8329', '::ffff:192.0.2.1'])
      expect(isIpAddress(ok), ok).toBe(true);
    for (const bad of ['', '1.2.3', '01.2.3.4x', '1.2.3.4.5', 'gggg::1', 'example.com', '1:2'])
      expect(isIpAddress(bad), bad).toBe(false);
  });
});

describe('reporting an incident', () => {
  it('sends the incident with hosts, an assignee and alerts to link', () => {
    expect(
      newIncidentBodyOf(
        report({
          title: '  Brute force on ssh ',
          description: ' From one source. ',
          severity: 'high',
          hosts: '10.0.0.5 10.0.0.9',
          assignee: ' bob ',
          alertIds: 'brute_force-a1-3, brute_force-a1-4',
        }),
      ),
    ).toEqual({
      ok: true,
      value: {
        title: 'Brute force on ssh',
        description: 'From one source.',
        severity: 'high',
        hosts: ['10.0.0.5', '10.0.0.9'],
        assignee: 'bob',
        links: [
          { kind: 'alert', ref: 'brute_force-a1-3' },
          { kind: 'alert', ref: 'brute_force-a1-4' },
        ],
      },
    });
  });

  it('sends only what was given', () => {
    expect(newIncidentBodyOf(report({}))).toEqual({
      ok: true,
      value: { title: 'Brute force on ssh', description: '', severity: 'medium', hosts: [] },
    });
  });

  it('points at every problem at once', () => {
    const result = newIncidentBodyOf(
      report({ title: ' ', hosts: 'web1', assignee: 'bob smith', alertIds: 'ok-1 not/an/id' }),
    );
    expect(result).toMatchObject({
      ok: false,
      errors: { title: /title/, hosts: /web1/, assignee: /user name/, alertIds: /not\/an\/id/ },
    });
    expect(newIncidentBodyOf(report({ title: 'x'.repeat(201) }))).toMatchObject({
      ok: false,
      errors: { title: /200/ },
    });
  });

  it('starts with the alerts a link names', () => {
    expect(reportFormFromQuery(new URLSearchParams('alert=a-1,a-2&alert=a-1&alert=bad/id')).alertIds).toBe(
      'a-1, a-2',
    );
    expect(reportFormFromQuery(new URLSearchParams('')).alertIds).toBe('');
  });

  it('reads alert ids', () => {
    expect(parseAlertIds('port_scan-x:1, port_scan-x:1 ddos-2')).toEqual({
      ok: true,
      ids: ['port_scan-x:1', 'ddos-2'],
    });
  });
});

describe('editing an incident', () => {
  it('sends nothing when nothing changed', () => {
    expect(incidentChangeOf(INCIDENT, editFormOf(INCIDENT))).toEqual({ ok: true, value: null });
    expect(incidentChangeOf(INCIDENT, { ...editFormOf(INCIDENT), hosts: '10.0.0.5  10.0.0.9 ' })).toEqual({
      ok: true,
      value: null,
    });
  });

  it('sends only what changed; an emptied assignee as null', () => {
    expect(
      incidentChangeOf(INCIDENT, {
        ...editFormOf(INCIDENT),
        severity: 'critical',
        hosts: '10.0.0.5',
        assignee: '',
      }),
    ).toEqual({ ok: true, value: { severity: 'critical', hosts: ['10.0.0.5'], assignee: null } });
    expect(incidentChangeOf(INCIDENT, { ...editFormOf(INCIDENT), title: 'Scan, contained' })).toEqual({
      ok: true,
      value: { title: 'Scan, contained' },
    });
  });

  it('refuses a blank title or a mistyped host', () => {
    expect(incidentChangeOf(INCIDENT, { ...editFormOf(INCIDENT), title: '', hosts: '10.0.0' })).toMatchObject(
      {
        ok: false,
        errors: { title: /title/, hosts: /10\.0\.0/ },
      },
    );
  });
});

describe('linking evidence', () => {
  it('checks the reference by its kind', () => {
    expect(isLinkRef('alert', 'port_scan-abc-1')).toBe(true);
    expect(isLinkRef('pcap', 'port_scan-abc-1')).toBe(true);
    expect(isLinkRef('flow', '123456')).toBe(true);
    expect(isLinkRef('flow', '12a')).toBe(false);
    expect(isLinkRef('block', '0')).toBe(false);
    expect(isLinkRef('scan', '0b6c3e0e-1a2b-4c3d-8e9f-0123456789ab')).toBe(true);
    expect(isLinkRef('scan', '42')).toBe(false);
  });

  it('sends the link, with a note only when given', () => {
    expect(linkBodyOf({ kind: 'block', ref: ' 42 ', note: '' })).toEqual({
      ok: true,
      value: { kind: 'block', ref: '42' },
    });
    expect(linkBodyOf({ kind: 'alert', ref: 'a-1', note: ' first sighting ' })).toEqual({
      ok: true,
      value: { kind: 'alert', ref: 'a-1', note: 'first sighting' },
    });
  });

  it('asks for the reference, and says what it should look like', () => {
    expect(linkBodyOf(EMPTY_LINK_FORM)).toMatchObject({
      ok: false,
      errors: { ref: /reference\. An alert id/ },
    });
    expect(linkBodyOf({ kind: 'scan', ref: 'last week', note: '' })).toMatchObject({
      ok: false,
      errors: { ref: /UUID/ },
    });
  });
});

describe('commenting', () => {
  it('sends the comment trimmed, and refuses an empty or overlong one', () => {
    expect(commentBodyOf('  Contained at the edge.  ')).toEqual({
      ok: true,
      value: { text: 'Contained at the edge.' },
    });
    expect(commentBodyOf(' \n ')).toMatchObject({ ok: false });
    expect(commentBodyOf('x'.repeat(4001))).toMatchObject({ ok: false, error: /4000/ });
  });
});
