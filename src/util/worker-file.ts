/**
 * Where a worker thread's compiled entry file is. Run from TypeScript sources (the tests), the
 * caller's module has a .ts URL and Node cannot start a .ts worker: the build's copy in dist/ is
 * used instead, and its absence is said with what to do.
 */

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ErrorCode, FlowTrackError } from './errors.js';

/**
 * The path of `file` (e.g. 'live/pipeline-worker.js', relative to dist/) for a caller whose
 * module URL is `callerUrl`, a module one folder below src/ or dist/.
 */
export function workerFile(callerUrl: string, file: string): string {
  const root = callerUrl.endsWith('.ts') ? new URL('../../dist/', callerUrl) : new URL('../', callerUrl);
  const path = fileURLToPath(new URL(file, root));
  if (!existsSync(path)) {
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `the worker ${path} is missing: run \`npm run build\` first`,
    );
  }
  return path;
}
