/**
 * `flowtrack sensor --hub nats://HOST:4222`: a sensor of a hub. It captures and detects here, as
 * `flowtrack serve` does, and sends its flows, alerts and health to the hub over NATS JetStream
 * (buffered on disk while the hub cannot be reached); its firewall follows the hub's blocks.
 * Options override the configuration file and the environment, through the same checks.
 */

import { Command } from 'commander';
import { loadServiceConfig } from '../config/service-config.js';
import { runService } from './serve-command.js';

interface SensorOptions {
  hub: string;
  name?: string;
  config?: string;
  interface?: string[];
  filter?: string;
  user?: string;
  passwordFile?: string;
  nkey?: string;
  creds?: string;
  tlsCa?: string;
}

export function sensorCommand(): Command {
  return new Command('sensor')
    .description(
      "run a sensor of a hub: capture and detect here, send flows, alerts and health to the hub over NATS JetStream, and apply the hub's blocks",
    )
    .requiredOption(
      '--hub <url>',
      'the NATS servers the hub takes its sensors from: nats://HOST:4222 (bus.url)',
    )
    .option('--name <name>', "this sensor's name at the hub (bus.sensorName); default: the host name")
    .option('-c, --config <file>', 'service configuration (YAML or JSON); FLOWTRACK_* variables override it')
    .option(
      '-i, --interface <name>',
      "capture on this interface (repeat for several; `any` for all); default: the default route's",
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('-f, --filter <bpf>', 'capture only what this tcpdump filter expression matches')
    .option('--nkey <file>', "the sensor's NATS nkey seed file (bus.nkeySeedFile)")
    .option('--creds <file>', "the sensor's NATS credentials file, JWT and seed (bus.credsFile)")
    .option('--user <name>', 'a NATS user (bus.user), with --password-file')
    .option('--password-file <file>', "a file holding the NATS user's password (bus.passwordFile)")
    .option(
      '--tls-ca <file>',
      "PEM of the authority that signed the tls:// servers' certificates (bus.tlsCaFile)",
    )
    .action(async (opts: SensorOptions) => {
      const overrides: Record<string, string> = { FLOWTRACK_BUS_URL: opts.hub };
      if (opts.name !== undefined) overrides.FLOWTRACK_BUS_SENSOR_NAME = opts.name;
      if (opts.interface) overrides.FLOWTRACK_CAPTURE_INTERFACES = opts.interface.join(',');
      if (opts.filter !== undefined) overrides.FLOWTRACK_CAPTURE_BPF = opts.filter;
      if (opts.nkey !== undefined) overrides.FLOWTRACK_BUS_NKEY_SEED_FILE = opts.nkey;
      if (opts.creds !== undefined) overrides.FLOWTRACK_BUS_CREDS_FILE = opts.creds;
      if (opts.user !== undefined) overrides.FLOWTRACK_BUS_USER = opts.user;
      if (opts.passwordFile !== undefined) overrides.FLOWTRACK_BUS_PASSWORD_FILE = opts.passwordFile;
      if (opts.tlsCa !== undefined) overrides.FLOWTRACK_BUS_TLS_CA_FILE = opts.tlsCa;
      const config = loadServiceConfig({
        ...(opts.config === undefined ? {} : { file: opts.config }),
        env: { ...process.env, ...overrides },
      });
      await runService(config, { sensor: true });
    });
}
