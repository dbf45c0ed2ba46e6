/**
 * Backups from the API, for admins: list, create now, restore. A backup is named, never given by
 * path: the name must match the backup file pattern (anything else is refused as bad input and
 * logged), and the file is looked up inside the backup folder only. A restore checks the whole
 * file before it stops anything; every action is audited.
 */

import { z } from 'zod';
import {
  BACKUP_NAME_PATTERN,
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
