/**
 * What "Close port" on a finding asks the firewall for: a `close` rule for the finding's port,
 * with the scan and the finding named in its comment. The API checks the rule (it refuses, 409,
 * a protected port such as ssh or its own); this only shapes the request. Pure.
 */

import type { ClosePortBody, Finding, ScanProtocol } from './scan-types';

/** The firewall API's longest comment. */
export const MAX_COMMENT_LENGTH = 200;

/** "scan <id>: <title>", the title cut with an ellipsis so the whole fits the API's limit. */
export function closeComment(scanId: string, title: string): string {
  const whole = `scan ${scanId}: ${title}`;
  if (whole.length <= MAX_COMMENT_LENGTH) return whole;
  let cut = whole.slice(0, MAX_COMMENT_LENGTH - 1);
  // Never end on half of a surrogate pair: it is not a character.
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** The rule that closes the finding's port (on every address of the host: a close rule is by port). */
export function closePortBody(
  scanId: string,
  finding: Pick<Finding, 'protocol' | 'port' | 'title'>,
): ClosePortBody {
  return {
    kind: 'close',
    protocol: finding.protocol,
    port: finding.port,
    comment: closeComment(scanId, finding.title),
  };
}

/** One key per closable port: the same port on two of the host's addresses is one rule. */
export function portKey(port: { protocol: ScanProtocol; port: number }): string {
  return `${port.port}/${port.protocol}`;
}
