/**
 * The Backups page (admins only): the backups in the server's backup folder, newest first, with
 * "Create backup", and per backup "Download" (the file, as the signed-in admin) and "Restore"
 * (after a dialog that says what a restore replaces). Every failure shows the server's message
 * where it happened; a restore's result says where the previous database is kept.
 */

import { useState } from 'react';
import { saveFile, useApiMutation, useApiQuery } from '../../api/queries';
import { useApiClient } from '../../api/use-api';
import { QueryView } from '../../components/QueryView';
import {
  describeCreated,
  describeRestore,
  downloadPath,
  formatBackupTime,
  formatBytes,
  summarizeBackups,
} from './backup-text';
import type { BackupList, BackupListing, CreatedBackup, RestoreResult } from './backup-types';
import { RestoreDialog } from './RestoreDialog';
import './backups.css';

const LIST_PATH = '/api/backups';

export function BackupsPage() {
  const client = useApiClient();
  const list = useApiQuery<BackupList>(LIST_PATH);
  const create = useApiMutation<undefined, CreatedBackup>({
    method: 'POST',
    path: () => '/api/backup/create',
    invalidates: [LIST_PATH, '/api/logs/audit'],
  });
  // A restore changes everything the dashboard has read: every cached answer is stale.
  const restore = useApiMutation<{ name: string }, RestoreResult>({
    method: 'POST',
    path: () => '/api/backup/restore',
    body: ({ name }) => ({ name }),
    invalidates: ['/api'],
  });
  const [restoring, setRestoring] = useState<BackupListing | null>(null);
  const [download, setDownload] = useState<
    { name: string; state: 'busy' } | { name: string; state: 'failed'; message: string } | null
  >(null);

  const startDownload = async (name: string): Promise<void> => {
    setDownload({ name, state: 'busy' });
    try {
      const file = await client.download(downloadPath(name));
      saveFile(file.blob, file.filename);
      setDownload(null);
    } catch (err) {
      setDownload({ name, state: 'failed', message: messageOf(err) });
    }
  };

  const restoreBusy = restore.isPending;
  return (
    <section className="stack backups-page" aria-labelledby="backups-title">
      <header className="page-header">
        <h1 id="backups-title">Backups</h1>
        <button
          type="button"
          className="button-primary"
          disabled={create.isPending || restoreBusy}
          aria-describedby="backups-create-status"
          onClick={() => {
            create.mutate(undefined);
          }}
        >
          Create backup
        </button>
      </header>

      <div id="backups-create-status" className="backups-messages">
        {create.isPending && (
          <p className="notice" role="status">
            Making a backup. The database stays in use meanwhile.
          </p>
        )}
        {create.isSuccess && (
          <p className="notice backups-ok" role="status">
            {describeCreated(create.data)}
          </p>
        )}
        {create.isError && (
          <p className="form-error" role="alert">
            The backup was not made: {create.error.message}
          </p>
        )}
        {restoring === null && restore.isError && (
          <p className="form-error" role="alert">
            {restore.variables.name} was not restored: {restore.error.message}
          </p>
        )}
        {download?.state === 'failed' && (
          <p className="form-error" role="alert">
            {download.name} could not be downloaded: {download.message}
          </p>
        )}
      </div>

      {restore.isPending && restoring === null && (
        <p className="notice" role="status">
          Restoring {restore.variables.name}…
        </p>
      )}
      {restore.isSuccess && (
        <section className="panel backups-restored" role="status" aria-labelledby="backups-restored-title">
          <h2 id="backups-restored-title">Restored {restore.variables.name}</h2>
          <ul>
            {describeRestore(restore.variables.name, restore.data).map((line) => (
              <li key={line}>{line}</li>
            ))}
          </ul>
        </section>
      )}

      <section className="panel" aria-labelledby="backups-list-title">
        <header className="panel-header">
          <h2 id="backups-list-title">In the backup folder</h2>
          {list.data && list.data.items.length > 0 && (
            <span className="backups-summary">{summarizeBackups(list.data.items)}</span>
          )}
        </header>
        <p className="backups-note">
          Each backup holds the whole database as it was when it was made: flows and traffic history, alerts,
          users, firewall rules, settings and the audit log. A backup of an older schema is brought up to date
          by the restore.
        </p>
        <QueryView
          query={list}
          loadingLines={4}
          isEmpty={(data) => data.items.length === 0}
          empty={{
            title: 'No backups yet',
            hint: 'Create one now. The server also makes one on its own schedule (backup.intervalHours).',
          }}
        >
          {(data) => (
            <div className="table-scroll">
              <table className="table" aria-label="Backups">
                <thead>
                  <tr>
                    <th scope="col">Name</th>
                    <th scope="col">Created</th>
                    <th scope="col" className="num">
                      Size
                    </th>
                    <th scope="col">Schema</th>
                    <th scope="col">
                      <span className="visually-hidden">Actions</span>
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {data.items.map((backup) => {
                    const nameId = `backup-${backup.name}`;
                    const downloading = download?.name === backup.name && download.state === 'busy';
                    return (
                      <tr key={backup.name}>
                        <td className="mono" id={nameId}>
                          {backup.name}
                        </td>
                        <td className="backups-nowrap">
                          <time dateTime={backup.createdAt}>{formatBackupTime(backup.createdAt)}</time>
                        </td>
                        <td className="num backups-nowrap">{formatBytes(backup.bytes)}</td>
                        <td>v{backup.schemaVersion}</td>
                        <td>
                          <div className="backups-actions">
                            <button
                              type="button"
                              className="button-quiet"
                              aria-describedby={nameId}
                              aria-busy={downloading}
                              disabled={downloading}
                              onClick={() => {
                                void startDownload(backup.name);
                              }}
                            >
                              Download
                            </button>
                            <button
                              type="button"
                              className="button-quiet backups-restore"
                              aria-describedby={nameId}
                              disabled={restoreBusy}
                              onClick={() => {
                                restore.reset();
                                setRestoring(backup);
                              }}
                            >
                              Restore
                            </button>
                          </div>
                        </td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )}
        </QueryView>
      </section>

      <RestoreDialog
        backup={restoring}
        busy={restoreBusy}
        error={restore.isError ? restore.error.message : null}
        onConfirm={(backup) => {
          restore.mutate(
            { name: backup.name },
            {
              onSuccess: () => {
                setRestoring(null);
              },
            },
          );
        }}
        onCancel={() => {
          setRestoring(null);
        }}
      />
    </section>
  );
}

function messageOf(err: unknown): string {
  // ApiError carries the server's own message.
  if (err instanceof Error) return err.message;
  return String(err);
}
