/**
 * Groups of related alerts (same attacker; same victim of a many-source attack; alerts with no
 * address, by type) as the grouped view shows them, and the requests that acknowledge or resolve
 * a whole group. A group's key is the server's (`src:192.0.2.7`, `dst:…`, `type:capture_gap`,
 * src/alerts/alert.ts alertGroupKey); a key of another shape is shown as it is, never guessed. Pure.
 */

import { isIpAddress } from '../../lib/ip-address';
import { LOCAL_SENSOR } from '../sensors/sensor-filter';
import { lifecycleBody, type Checked } from './alert-lifecycle';
import { ALERT_TYPES, type AlertGroup } from './alert-types';

export type GroupKind = 'src' | 'dst' | 'type';

export interface ParsedGroup {
  kind: GroupKind;
  /** The address, or the alert type. */
  value: string;
}

/** A group key's parts, or null for a key this page would not send back to the API. */
export function parseAlertGroup(key: string): ParsedGroup | null {
  const colon = key.indexOf(':');
  if (colon === -1) return null;
  const kind = key.slice(0, colon);
  const value = key.slice(colon + 1);
  if ((kind === 'src' || kind === 'dst') && isIpAddress(value)) return { kind, value };
  if (kind === 'type' && ALERT_TYPES.some((type) => type === value)) return { kind, value };
  return null;
}

const KIND_WORD: Record<GroupKind, string> = {
  src: 'source',
  dst: 'destination',
  type: 'type',
};

/** The group as a table names it: "Source 192.0.2.7", "Destination 198.51.100.1", "Type capture_gap". */
export function groupLabel(key: string): string {
  const phrase = groupPhrase(key);
  return phrase.charAt(0).toUpperCase() + phrase.slice(1);
}

/** The group inside a sentence: "source 192.0.2.7"; an unknown key as `group "…"`. */
export function groupPhrase(key: string): string {
  const group = parseAlertGroup(key);
  return group === null ? `group "${key}"` : `${KIND_WORD[group.kind]} ${group.value}`;
}

export type GroupAction = 'acknowledge' | 'resolve';

export const GROUP_ACTION_LABELS: Record<GroupAction, string> = {
  acknowledge: 'Acknowledge all',
  resolve: 'Resolve all',
};

/** POST path of a change to a whole group. */
export function groupActionPath(action: GroupAction): string {
  return `/api/anomalies/groups/${action}`;
}

/** A change to a whole group: of one sensor's alerts when `sensor` is given. */
export interface GroupActionBody {
  group: string;
  comment?: string;
  sensor?: string;
}

/**
 * The body of a change to a whole group, with the comment when one was written and the sensor
 * the list is filtered by (the change then acts on that sensor's alerts only).
 */
export function groupActionBody(group: string, comment: string, sensor?: string): Checked<GroupActionBody> {
  const body = lifecycleBody(comment);
  if (!body.ok) return body;
  return { ok: true, value: { group, ...body.value, ...(sensor !== undefined && { sensor }) } };
}

/**
 * What a change to the group will do, for its confirmation. Acknowledging acts on the group's new
 * alerts; resolving on all that are not resolved yet, however the list is filtered.
 */
export function groupActionEffect(
  action: GroupAction,
  group: Pick<AlertGroup, 'group' | 'open'>,
  sensor?: string,
): string {
  const phrase = `${groupPhrase(group.group)}${seenBy(sensor)}`;
  if (action === 'acknowledge')
    return `Marks the ${alerts(group.open, 'new')} of ${phrase} acknowledged by you.`;
  return `Marks every alert of ${phrase} that is not resolved yet (${alerts(group.open, 'new')} among them) resolved by you.`;
}

/** What came of a change to the group, for the notice after it. */
export function groupActionResult(action: GroupAction, group: string, changed: number): string {
  const phrase = groupPhrase(group);
  if (changed === 0)
    return `No alert of ${phrase} needed ${action === 'acknowledge' ? 'acknowledging' : 'resolving'}.`;
  return `${action === 'acknowledge' ? 'Acknowledged' : 'Resolved'} ${alerts(changed)} of ${phrase}.`;
}

/** " seen by edge-1" for a change narrowed to a sensor's alerts; "" for all of them. */
function seenBy(sensor: string | undefined): string {
  if (sensor === undefined) return '';
  return sensor === LOCAL_SENSOR ? ' seen by this host' : ` seen by ${sensor}`;
}

function alerts(count: number, adjective?: string): string {
  const noun = count === 1 ? 'alert' : 'alerts';
  return adjective === undefined ? `${count} ${noun}` : `${count} ${adjective} ${noun}`;
}
