/**
 * Asks before a restore, saying plainly what it does: the whole current database is replaced by
 * the backup (src/store/backup.ts restoreBackup swaps the database file, or the PostgreSQL
 * database, as a whole), the previous one is kept and where, and sessions may end. The restore
 * runs only on "Restore this backup".
 */

import { ConfirmDialog } from '../../components/ConfirmDialog';
import { formatBackupTime } from './backup-text';
import type { BackupListing } from './backup-types';

export function RestoreDialog({
  backup,
  busy,
  error,
  onConfirm,
  onCancel,
}: {
  /** The backup to restore; null: the dialog is closed. */
  backup: BackupListing | null;
  busy: boolean;
  /** The server's message when the restore was refused (a damaged backup, one already running). */
  error: string | null;
  onConfirm: (backup: BackupListing) => void;
  onCancel: () => void;
}) {
  return (
    <ConfirmDialog
      open={backup !== null}
      title="Restore a backup"
      confirmLabel="Restore this backup"
      danger
      busy={busy}
      error={error}
      onConfirm={() => {
        if (backup !== null) onConfirm(backup);
      }}
      onCancel={onCancel}
    >
      {backup !== null && (
        <>
          <p>
            The <strong>whole current database</strong> is replaced by the backup made{' '}
            <time dateTime={backup.createdAt}>{formatBackupTime(backup.createdAt)}</time> (
            <code>{backup.name}</code>): flows and traffic history, alerts and incidents, users and their
            roles and passwords, firewall rules, settings and the audit log all go back to how they were then.
            Whatever was recorded or changed since is no longer in the live database.
          </p>
          <p>
            The current database is not deleted: it is kept beside the database file as{' '}
            <code>&lt;file&gt;.before-restore-&lt;time&gt;</code> (with PostgreSQL, as the database{' '}
            <code>&lt;name&gt;_before_restore_&lt;time&gt;</code>). The result names it exactly.
          </p>
          <p>
            <strong>Signed-in sessions may end</strong>, yours included: sign-ins made after the backup are
            not in it, and users created since are gone. The firewall then follows the backup's rules.
          </p>
          <p>The backup is checked completely first; if it is damaged, nothing is changed.</p>
        </>
      )}
    </ConfirmDialog>
  );
}
