/**
 * The "New scan" form's values and the POST /api/scans body they become. Pure: the page catches
 * what is plainly missing before a round trip; the server checks everything again (targets, the
 * allowed networks, the port syntax) and its refusal is shown as it says it.
 */

import type { NewScanBody, ScanEngine } from './scan-types';

/** The API's limits (src/api/routes/scan-routes.ts). */
export const MAX_TARGETS = 64;
export const MAX_TARGET_LENGTH = 255;
export const MAX_PORTS_LENGTH = 2000;

/** What the form holds; text as typed. */
export interface ScanForm {
  /** Targets separated by spaces, commas or new lines. */
  targets: string;
  /** nmap's -p syntax; empty: the top ports. */
  ports: string;
  tcp: boolean;
  udp: boolean;
  engine: ScanEngine;
  /** Scan only the addresses that answer (the server's default; nmap's -Pn turns it off). */
  discovery: boolean;
}

export const EMPTY_SCAN_FORM: ScanForm = {
  targets: '',
  ports: '',
  tcp: true,
  udp: false,
  engine: 'flowtrack',
  discovery: true,
};

export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

/**
 * The targets field as the API's list: split on spaces, commas and new lines, empty parts
 * dropped, each target once in the order typed. Ranges (192.0.2.5-20) and IPv6 keep their dashes
 * and colons, so no target is split in the middle.
 */
export function parseTargets(text: string): string[] {
  const seen = new Set<string>();
  for (const part of text.split(/[\s,]+/)) if (part !== '') seen.add(part);
  return [...seen];
}

/** What the ports field scans when left empty, for its placeholder. */
export function defaultPortsText(tcp: boolean, udp: boolean): string {
  if (tcp && udp) return 'top 1,000 TCP and top UDP ports';
  if (udp) return 'top UDP ports';
  return 'top 1,000 TCP ports';
}

/** The POST body for the form, or what to fix first. */
export function scanBodyOf(form: ScanForm): Checked<NewScanBody> {
  const targets = parseTargets(form.targets);
  if (targets.length === 0)
    return fail(
      'Give at least one target: an address (192.0.2.7), a prefix (192.0.2.0/24), a range (192.0.2.5-20) or a host name.',
    );
  if (targets.length > MAX_TARGETS)
    return fail(
      `At most ${MAX_TARGETS} targets at once (${targets.length} given): join neighbours into a prefix or a range.`,
    );
  const long = targets.find((t) => t.length > MAX_TARGET_LENGTH);
  if (long !== undefined)
    return fail(`A target is at most ${MAX_TARGET_LENGTH} characters: ${long.slice(0, 40)}…`);
  if (!form.tcp && !form.udp) return fail('Choose TCP, UDP or both.');
  const ports = form.ports.trim();
  if (ports.length > MAX_PORTS_LENGTH)
    return fail(`The port list is at most ${MAX_PORTS_LENGTH} characters: use ranges (1-1024).`);
  return {
    ok: true,
    value: {
      targets,
      ...(ports !== '' && { ports }),
      tcp: form.tcp,
      udp: form.udp,
      engine: form.engine,
      discovery: form.discovery,
    },
  };
}

function fail(error: string): { ok: false; error: string } {
  return { ok: false, error };
}
