/**
 * Backups from the API, for admins: list, create now, download, restore. A backup is named, never
 * given by path: the name must match the backup file pattern (anything else is refused as bad
 * input and logged), and the file is looked up inside the backup folder only. A restore checks the
 * whole file before it stops anything; every action is audited. A download must never open
 * anything but a regular file the backup folder's listing holds (no link, nothing outside it).
 */

import { constants, type ReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import {
  BACKUP_NAME_PATTERN,
  resolveBackupName,
  type BackupInfo,
  type BackupListing,
  type RestoreResult,
} from '../../store/backup.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { Api, ApiDeps } from '../api-context.js';
import { audit } from '../audit.js';

/** What the server offers for backups (see server/start-server.ts). */
export interface BackupService {
  list(): Promise<BackupListing[]>;
  create(): Promise<BackupInfo>;
  /** Restores the named backup of the backup folder into the live store. */
  restore(name: string): Promise<RestoreResult>;
}

/** A backup as the API shows it: its name, not where the server keeps it. */
function withoutPath<T extends { path: string }>(backup: T): Omit<T, 'path'> {
  const shown: Partial<T> = { ...backup };
  delete shown.path;
  return shown as Omit<T, 'path'>;
}

const nameSchema = z.string().max(128).regex(BACKUP_NAME_PATTERN, 'a backup name from GET /api/backups');

/** A backup file opened for download. */
interface OpenedBackup {
  bytes: number;
  stream: ReadStream;
}

/**
 * Opens the backup called `name` for reading. It is looked up in the backup folder's listing
 * (regular files only, links left out), checked again by resolveBackupName as a restore is, and
 * opened with O_NOFOLLOW, then checked to be a regular file, so a name swapped for a link or a
 * folder between the listing and the open is refused rather than followed.
 */
async function openBackup(service: BackupService, name: string): Promise<OpenedBackup> {
  const notFound = (): FlowTrackError =>
    new FlowTrackError(
      ErrorCode.NOT_FOUND,
      `there is no backup called ${name} in the backup folder: GET /api/backups lists them`,
    );
  const listed = (await service.list()).find((backup) => backup.name === name);
  if (listed === undefined) throw notFound();
  const path = resolveBackupName(dirname(listed.path), name);
  let handle: FileHandle;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // Deleted (pruned) since the listing, or replaced by a link: either way not a backup to send.
    if (code === 'ENOENT' || code === 'ELOOP') throw notFound();
    throw new FlowTrackError(ErrorCode.IO_ERROR, `cannot open the backup ${name}`, { cause: err });
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw notFound();
    return { bytes: info.size, stream: handle.createReadStream() };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

export function registerBackupRoutes(app: Api, deps: ApiDeps): void {
  const service = (): BackupService => {
    if (!deps.backups) throw new FlowTrackError(ErrorCode.NOT_FOUND, 'this server keeps no backups');
    return deps.backups;
  };

  app.get(
    '/api/backups',
    {
      config: { access: 'admin' },
      schema: { summary: 'Backups in the backup folder, newest first', tags: ['backup'] },
    },
    async () => ({ items: (await service().list()).map(withoutPath) }),
  );

  app.post(
    '/api/backup/create',
    { config: { access: 'admin' }, schema: { summary: 'Make a backup now', tags: ['backup'] } },
    async (request, reply) => {
      try {
        const info = withoutPath(await service().create());
        await audit(deps, request, { action: 'backup.create', target: info.name, after: info });
        return await reply.code(201).send(info);
      } catch (err) {
        await audit(deps, request, { action: 'backup.create', outcome: 'failed' });
        throw err;
      }
    },
  );

  app.get(
    '/api/backups/:name/download',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'A backup file of the backup folder, as an attachment',
        tags: ['backup'],
        params: z.object({ name: nameSchema }).strict(),
      },
    },
    async (request, reply) => {
      const name = request.params.name;
      let file: OpenedBackup;
      try {
        file = await openBackup(service(), name);
      } catch (err) {
        await audit(deps, request, { action: 'backup.download', target: name, outcome: 'failed' }).catch(
          () => undefined,
        );
        throw err;
      }
      try {
        await audit(deps, request, { action: 'backup.download', target: name, after: { bytes: file.bytes } });
      } catch (err) {
        // Not audited, not sent.
        file.stream.destroy();
        throw err;
      }
      // The name matched BACKUP_NAME_PATTERN (letters, digits, '-', '.'): safe inside the quotes.
      return reply
        .type('application/octet-stream')
        .header('content-disposition', `attachment; filename="${name}"`)
        .header('content-length', file.bytes)
        .header('cache-control', 'no-store')
        .send(file.stream);
    },
  );

  app.post(
    '/api/backup/restore',
    {
      config: { access: 'admin' },
      schema: {
        summary: 'Replace the database with a backup (checked first; the previous database is kept)',
        tags: ['backup'],
        body: z.object({ name: nameSchema }).strict(),
      },
    },
    async (request) => {
      const name = request.body.name;
      try {
        const result = await service().restore(name);
        await audit(deps, request, { action: 'backup.restore', target: name, after: result });
        return result;
      } catch (err) {
        await audit(deps, request, { action: 'backup.restore', target: name, outcome: 'failed' }).catch(
          () => undefined,
        );
        throw err;
      }
    },
  );
}
