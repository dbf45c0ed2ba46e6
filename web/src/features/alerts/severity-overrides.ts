/**
 * The admin's per-type severity overrides as the rules page edits them: a draft with one choice per
 * alert type ('' keeps the detector's severity), the PUT body it becomes, and who changed them
 * last. Overrides for types this page does not know (a newer server's) are kept as they are. Pure.
 */

import { SEVERITIES, type Severity } from '../../api/api-types';
import { formatTimestamp } from '../../lib/format';
import { ALERT_TYPES, type SeverityOverrides, type SeverityOverridesView } from './alert-types';

/** A choice per type: a severity, or '' for the detector's own. */
export type OverrideDraft = Record<string, Severity | ''>;

/** The choices offered, mildest first after the default (SEVERITIES lists the gravest first). */
export const OVERRIDE_CHOICES: readonly { value: Severity | ''; label: string }[] = [
  { value: '', label: "Detector's default" },
  ...[...SEVERITIES].reverse().map((severity) => ({ value: severity, label: severity })),
];

/** The types to show: every type this page knows, then any other the server has an override for. */
export function overrideTypes(saved: SeverityOverrides): string[] {
  const known: readonly string[] = ALERT_TYPES;
  return [
    ...known,
    ...Object.keys(saved)
      .filter((type) => !known.includes(type))
      .sort(),
  ];
}

/** The draft of the saved overrides. */
export function draftOf(saved: SeverityOverrides): OverrideDraft {
  return Object.fromEntries(overrideTypes(saved).map((type) => [type, saved[type] ?? '']));
}

/** The overrides of a draft, as PUT /api/alert_severity_overrides takes them: defaults left out. */
export function overridesOf(draft: OverrideDraft): SeverityOverrides {
  const overrides: SeverityOverrides = {};
  for (const [type, choice] of Object.entries(draft)) if (choice !== '') overrides[type] = choice;
  return overrides;
}

/** Whether the draft differs from what is saved. */
export function overridesChanged(saved: SeverityOverrides, draft: OverrideDraft): boolean {
  const next = overridesOf(draft);
  const types = new Set([...Object.keys(saved), ...Object.keys(next)]);
  return [...types].some((type) => saved[type] !== next[type]);
}

/** Who changed the overrides last and when, or that nobody has. */
export function lastChangedText(
  view: Pick<SeverityOverridesView, 'updatedBy' | 'updatedAt'>,
  timeZone?: string,
): string {
  if (view.updatedAt === null) return "Never changed: every type has its detector's severity.";
  const when = formatTimestamp(view.updatedAt, 'minute', timeZone);
  return view.updatedBy === null ? `Last changed at ${when}` : `Last changed by ${view.updatedBy} at ${when}`;
}
