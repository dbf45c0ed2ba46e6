/**
 * What "Block source" on an alert asks the firewall for: the durations offered, and the rule's
 * body for POST /api/firewall/rules. The API checks the rule (it refuses to block this host's or
 * the admin's own address); this only shapes the request. Pure.
 */

/** The durations offered; null: until an admin lifts it. */
export const BLOCK_DURATIONS: readonly { label: string; seconds: number | null }[] = [
  { label: '10 minutes', seconds: 600 },
  { label: '1 hour', seconds: 3600 },
  { label: '24 hours', seconds: 86_400 },
  { label: 'Permanent', seconds: null },
];

/** The firewall API's longest comment. */
export const MAX_COMMENT_LENGTH = 200;

export interface BlockRuleBody {
  kind: 'block';
  source: string;
  comment: string;
  alertId: string;
  expiresInSeconds?: number;
}

/** "from alert <id>: <summary>", the summary cut with an ellipsis so the whole fits the API's limit. */
export function blockComment(alertId: string, summary: string): string {
  const prefix = `from alert ${alertId}: `;
  const whole = prefix + summary;
  if (whole.length <= MAX_COMMENT_LENGTH) return whole;
  let cut = whole.slice(0, MAX_COMMENT_LENGTH - 1);
  // Never end on half of a surrogate pair (an emoji in a summary): it is not a character.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** The rule that blocks the alert's source for `seconds` (null: permanently). */
export function blockRuleBody(
  alert: { id: string; src: string; summary: string },
  seconds: number | null,
): BlockRuleBody {
  return {
    kind: 'block',
    source: alert.src,
    comment: blockComment(alert.id, alert.summary),
    alertId: alert.id,
    ...(seconds !== null && { expiresInSeconds: seconds }),
  };
}
