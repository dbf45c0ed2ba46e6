import { describe, expect, it } from 'vitest';
import {
  groupActionBody,
  groupActionEffect,
  groupActionPath,
  groupActionResult,
  groupLabel,
  groupPhrase,
  parseAlertGroup,
} from './alert-groups';

describe('alert groups', () => {
  it("reads the server's group keys: attacker, victim, or type", () => {
    expect(parseAlertGroup('src:192.0.2.7')).toEqual({ kind: 'src', value: '192.0.2.7' });
    expect(parseAlertGroup('dst:2001:db8::1')).toEqual({ kind: 'dst', value: '2001:db8::1' });
    expect(parseAlertGroup('type:capture_gap')).toEqual({ kind: 'type', value: 'capture_gap' });
    for (const bad of ['', 'src:', 'src:example.com', 'type:nope', 'host:192.0.2.7', '192.0.2.7'])
      expect(parseAlertGroup(bad), bad).toBeNull();
  });

  it('names a group in words, and an unknown key as it is', () => {
    expect(groupLabel('src:192.0.2.7')).toBe('Source 192.0.2.7');
    expect(groupLabel('dst:198.51.100.1')).toBe('Destination 198.51.100.1');
    expect(groupLabel('type:resource')).toBe('Type resource');
    expect(groupLabel('vlan:12')).toBe('Group "vlan:12"');
    expect(groupPhrase('src:192.0.2.7')).toBe('source 192.0.2.7');
    expect(groupPhrase('vlan:12')).toBe('group "vlan:12"');
  });

  it('asks for a change to a whole group, with the comment when there is one', () => {
    expect(groupActionPath('acknowledge')).toBe('/api/anomalies/groups/acknowledge');
    expect(groupActionPath('resolve')).toBe('/api/anomalies/groups/resolve');
    expect(groupActionBody('src:192.0.2.7', '')).toEqual({ ok: true, value: { group: 'src:192.0.2.7' } });
    expect(groupActionBody('src:192.0.2.7', ' our scanner ')).toEqual({
      ok: true,
      value: { group: 'src:192.0.2.7', comment: 'our scanner' },
    });
    expect(groupActionBody('src:192.0.2.7', 'x'.repeat(4001)).ok).toBe(false);
    expect(groupActionBody('src:192.0.2.7', '', 'edge-1')).toEqual({
      ok: true,
      value: { group: 'src:192.0.2.7', sensor: 'edge-1' },
    });
  });

  it('says what a change to the group will do and what it did', () => {
    expect(groupActionEffect('acknowledge', { group: 'src:192.0.2.7', open: 3 })).toBe(
      'Marks the 3 new alerts of source 192.0.2.7 acknowledged by you.',
    );
    expect(groupActionEffect('resolve', { group: 'src:192.0.2.7', open: 1 })).toBe(
      'Marks every alert of source 192.0.2.7 that is not resolved yet (1 new alert among them) resolved by you.',
    );
    expect(groupActionEffect('acknowledge', { group: 'src:192.0.2.7', open: 2 }, 'edge-1')).toBe(
      'Marks the 2 new alerts of source 192.0.2.7 seen by edge-1 acknowledged by you.',
    );
    expect(groupActionEffect('resolve', { group: 'src:192.0.2.7', open: 0 }, 'local')).toBe(
      'Marks every alert of source 192.0.2.7 seen by this host that is not resolved yet (0 new alerts among them) resolved by you.',
    );
    expect(groupActionResult('acknowledge', 'src:192.0.2.7', 3)).toBe(
      'Acknowledged 3 alerts of source 192.0.2.7.',
    );
    expect(groupActionResult('resolve', 'dst:198.51.100.1', 1)).toBe(
      'Resolved 1 alert of destination 198.51.100.1.',
    );
    expect(groupActionResult('resolve', 'type:resource', 0)).toBe(
      'No alert of type resource needed resolving.',
    );
  });
});
