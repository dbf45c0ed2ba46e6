/**
 * `flowtrack serve`: the long-running service (API, store, logs, background jobs) until SIGINT or
 * SIGTERM, which close it cleanly.
 */

import { Command } from 'commander';
import { loadServiceConfig } from '../config/service-config.js';
import { startServer } from '../server/start-server.js';

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the FlowTrack service: HTTP API on localhost:8080, SQLite store in ./flowtrack-data')
    .option('-c, --config <file>', 'service configuration (YAML or JSON); FLOWTRACK_* variables override it')
    .option('--replay <capture>', 'run a capture file through the pipeline into the store once started')
    .action(async (opts: { config?: string; replay?: string }) => {
      const config = loadServiceConfig({
        ...(opts.config === undefined ? {} : { file: opts.config }),
        env: process.env,
      });
      const server = await startServer(config, opts.replay === undefined ? {} : { replay: opts.replay });
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.stderr.write('flowtrack: stopping\n');
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await server.close();
    });
}
