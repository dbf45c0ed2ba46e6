/**
 * "Close port" on a finding, for admins: a confirmation that names the port and what closing it
 * does, then a `close` rule through the firewall API. The API decides: it refuses (409) a
 * protected port (ssh, its own) and that reason is shown in the dialog, which stays open.
 */

import { ConfirmDialog } from '../../components/ConfirmDialog';
import { closeComment } from './close-port';
import { portLabel } from './scan-format';
import type { CreatedCloseRule, Finding } from './scan-types';
import { useClosePort } from './use-scans';

export function ClosePortDialog({
  scanId,
  finding,
  onClosed,
  onCancel,
}: {
  scanId: string;
  /** The finding whose port to close; null: the dialog is shut. */
  finding: Finding | null;
  onClosed: (finding: Finding, rule: CreatedCloseRule) => void;
  onCancel: () => void;
}) {
  const close = useClosePort(scanId);
  const label = finding === null ? '' : portLabel(finding);
  return (
    <ConfirmDialog
      open={finding !== null}
      title={finding === null ? 'Close port' : `Close port ${label}?`}
      confirmLabel="Close the port"
      danger
      busy={close.isPending}
      error={close.isError ? close.error.message : null}
      onCancel={() => {
        close.reset();
        onCancel();
      }}
      onConfirm={() => {
        if (finding === null) return;
        close.mutate(finding, {
          onSuccess: (rule) => {
            close.reset();
            onClosed(finding, rule);
          },
        });
      }}
    >
      {finding !== null && (
        <>
          <p>
            Port <code>{label}</code> ({finding.service}) will be closed: new connections to it will be
            dropped by this host&rsquo;s firewall. The rule is by port, so it applies to every address of this
            host, not only <code>{finding.address}</code>.
          </p>
          <p className="scan-muted">
            It shows on the Firewall page with the comment &ldquo;{closeComment(scanId, finding.title)}
            &rdquo;, and can be removed there.
          </p>
        </>
      )}
    </ConfirmDialog>
  );
}
