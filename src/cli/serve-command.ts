/**
 * `flowtrack serve`: the long-running service (live capture, API, store, logs, background jobs)
 * until SIGINT or SIGTERM, which stop tcpdump, store what the pipeline still holds and close the
 * rest. Command-line options override the configuration file and the environment, through the
 * same checks.
 */

import { Command, InvalidArgumentError, Option } from 'commander';
import { loadServiceConfig, type ServiceConfig } from '../config/service-config.js';
import { startServer, type StartServerOptions } from '../server/start-server.js';

interface ServeOptions {
  config?: string;
  replay?: string;
  speed: number | 'max';
  interface?: string[];
  filter?: string;
  capture: boolean;
  db?: string;
  bus?: string;
}

function parseSpeed(text: string): number | 'max' {
  if (text === 'max') return 'max';
  const speed = Number(text);
  if (!Number.isFinite(speed) || speed <= 0 || speed > 10_000) {
    throw new InvalidArgumentError('a factor of the capture\'s own pace such as 1, 10 or 0.5, or "max"');
  }
  return speed;
}

export function serveCommand(): Command {
  return new Command('serve')
    .description(
      "run the FlowTrack service: live capture on the default route's interface, HTTP API on localhost:8080, SQLite store in ./flowtrack-data",
    )
    .option('-c, --config <file>', 'service configuration (YAML or JSON); FLOWTRACK_* variables override it')
    .option(
      '-i, --interface <name>',
      "capture on this interface (repeat for several; `any` for all); default: the default route's",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('-f, --filter <bpf>', 'capture only what this tcpdump filter expression matches')
    .option('--no-capture', 'no live capture: serve the API and the store only')
    .option('--db <url>', 'the store: a SQLite file or postgres://USER@HOST/DB (store.url)')
    .option(
      '--bus <url>',
      'be the hub of sensors: take their flows and alerts from NATS JetStream at nats://HOST:4222 (bus.url)',
    )
    .option('--replay <capture>', 'drive the pipeline from a capture file instead of live capture')
    .addOption(
      new Option('--speed <factor>', "replay pace: times the capture's own (1 = as recorded), or max")
        .argParser(parseSpeed)
        .default('max' as const),
    )
    .action(async (opts: ServeOptions) => {
      // As environment variables: the configuration's checks then apply to them too.
      const overrides: Record<string, string> = {};
      if (opts.interface) overrides.FLOWTRACK_CAPTURE_INTERFACES = opts.interface.join(',');
      if (opts.filter !== undefined) overrides.FLOWTRACK_CAPTURE_BPF = opts.filter;
      if (!opts.capture) overrides.FLOWTRACK_CAPTURE_ENABLED = 'false';
      if (opts.db !== undefined) overrides.FLOWTRACK_STORE_URL = opts.db;
      if (opts.bus !== undefined) overrides.FLOWTRACK_BUS_URL = opts.bus;
      const config = loadServiceConfig({
        ...(opts.config === undefined ? {} : { file: opts.config }),
        env: { ...process.env, ...overrides },
      });
      await runService(config, {
        ...(opts.replay !== undefined && { replay: opts.replay, replaySpeed: opts.speed }),
      });
    });
}

/** Starts the service and runs it until SIGINT or SIGTERM, then stores what it holds and closes. */
export async function runService(config: ServiceConfig, options: StartServerOptions): Promise<void> {
  const server = await startServer(config, options);
  await new Promise<void>((resolve) => {
    // Listeners stay for the whole shutdown: with none, a second signal would kill the
    // process in the middle of storing the flows. `timeout` and a terminal's Ctrl-C often
    // deliver two at once (to the process and to its group), so only a third quits at once.
    let signals = 0;
    const onSignal = (): void => {
      signals++;
      if (signals === 1) {
        process.stderr.write('flowtrack: stopping\n');
        resolve();
      } else if (signals === 2) {
        process.stderr.write(
          'flowtrack: still stopping (storing the flows and alerts in hand); signal once more to quit at once and lose them\n',
        );
      } else {
        process.exit(130);
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  await server.close();
}
