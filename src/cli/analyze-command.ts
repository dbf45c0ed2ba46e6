/**
 * `flowtrack analyze FILE`: the analysis report of a capture in a terminal or as JSON, with an
 * optional file of every flow and an optional IPFIX export of them. Exit status: 0 read to the
 * end, 2 the capture is corrupt or cut short part-way (the report covers what came before), 1
 * nothing could be read.
 */

import { Command, Option } from 'commander';
import { analyzeCapture, type AnalyzeOptions } from '../analyze/analyze-capture.js';
import { renderReportText } from '../analyze/render-text.js';
import { FlowFileWriter, flowFormatFor, type FlowFileFormat } from '../flows/flow-writer.js';
import {
  DEFAULT_MAX_BUFFERED_FLOWS,
  IpfixExporter,
  parseCollectorAddress,
  type IpfixExportStats,
} from '../flows/ipfix-exporter.js';
import { flowRowOf } from '../store/flow-repository.js';
import { DEFAULT_FLOW_OPTIONS } from '../flows/flow-table.js';
import { FlowTrackError, ErrorCode } from '../util/errors.js';
import { ProgressBar } from './progress-bar.js';
import { parseDetectionSettings } from '../detect/detector-registry.js';
import { loadAnalysisConfig } from '../config/analysis-config.js';

export const EXIT_PARTIAL = 2;

interface AnalyzeFlags {
  json?: boolean;
  flows?: string;
  flowsFormat?: FlowFileFormat;
  ipfix?: string;
  top: string;
  maxFlows: string;
  idleTimeout: string;
  activeTimeout: string;
  closedTimeout: string;
  progress: boolean;
  detect: boolean;
  set: string[];
  config?: string;
}

export function analyzeCommand(): Command {
  return new Command('analyze')
    .description(
      'Read a pcap or pcapng capture (gzip too; "-" for standard input), build flows and report them',
    )
    .argument('<file>', 'capture file, or - for standard input')
    .option('--json', 'print the report as one JSON document')
    .option('--flows <file>', 'write every flow to FILE (JSON lines; CSV when FILE ends in .csv)')
    .addOption(new Option('--flows-format <format>', 'format of --flows').choices(['jsonl', 'csv']))
    .option(
      '--ipfix <host:port>',
      'send every flow as IPFIX over UDP to a collector (e.g. nfcapd), one record per direction',
    )
    .option('--top <n>', 'rows in each top list', '10')
    .option(
      '--max-flows <n>',
      'live flows kept at once; the oldest idle is evicted beyond',
      String(DEFAULT_FLOW_OPTIONS.maxFlows),
    )
    .option(
      '--idle-timeout <seconds>',
      'end a flow after this long without packets',
      String(DEFAULT_FLOW_OPTIONS.idleTimeoutMicros / 1e6),
    )
    .option(
      '--active-timeout <seconds>',
      'split a flow that lasts longer than this',
      String(DEFAULT_FLOW_OPTIONS.activeTimeoutMicros / 1e6),
    )
    .option(
      '--closed-timeout <seconds>',
      'keep a TCP flow this long after FIN or RST',
      String(DEFAULT_FLOW_OPTIONS.closedTimeoutMicros / 1e6),
    )
    .option('--no-progress', 'never draw the progress bar (it is drawn only on a terminal)')
    .option('--no-detect', 'do not run the attack detectors')
    .option('--config <file>', 'JSON configuration: flow limits and detector options (the command line wins)')
    .option(
      '--set <detector.option=value>',
      'set a detector option (repeatable); `flowtrack detectors` lists them',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .addHelpText(
      'after',
      `
Exit status: 0 the capture was read to its end; 2 it is corrupt or cut short part-way (the
report covers everything before the byte offset it names); 1 it could not be read at all.

Settings come from the built-in defaults, then --config FILE, then the command line, e.g.
  {"flows": {"maxFlows": 1000000, "idleTimeoutSeconds": 30},
   "detection": {"connection_flood": {"perMinute": 200}}}

Examples:
  flowtrack analyze trace.pcapng
  flowtrack analyze --set connection_flood.perMinute=200 trace.pcap
  flowtrack analyze --json trace.pcap.gz > report.json
  flowtrack analyze --ipfix 127.0.0.1:4739 trace.pcap
  tcpdump -i eth0 -c 10000 -w - | flowtrack analyze -

--ipfix HOST:PORT sends each flow as it ends to an IPFIX (RFC 7011) collector over UDP (nfcapd,
...), as one unidirectional record per direction (client to server, server to client) with
frame bytes and packets, and waits for the last message to leave before the report is printed;
the report then says how many flows, records and messages were sent and any send errors
("ipfixExport" in --json). UDP cannot tell whether the collector received them.`,
    )
    .action(async (file: string, flags: AnalyzeFlags, command: Command) => {
      const fromCommandLine = (name: string): boolean => command.getOptionValueSource(name) === 'cli';
      process.exitCode = await runAnalyze(file, flags, fromCommandLine);
    });
}

async function runAnalyze(
  file: string,
  flags: AnalyzeFlags,
  fromCommandLine: (name: string) => boolean,
): Promise<number> {
  const config = flags.config ? loadAnalysisConfig(flags.config) : { flows: {}, detection: {} };
  const commandLineDetection = parseDetectionSettings(flags.set);
  const detection = { ...config.detection };
  for (const [name, values] of Object.entries(commandLineDetection))
    detection[name] = { ...detection[name], ...values };
  // A flow setting given on the command line wins over the file, the file over the default.
  const flowSetting = (
    flag: keyof AnalyzeFlags,
    key: keyof typeof config.flows,
    parse: () => number,
  ): number => (fromCommandLine(flag) ? parse() : (config.flows[key] ?? parse()));
  const options: AnalyzeOptions = {
    detect: flags.detect,
    detection,
    top: positiveInt('--top', flags.top),
    flows: {
      maxFlows: flowSetting('maxFlows', 'maxFlows', () => positiveInt('--max-flows', flags.maxFlows)),
      idleTimeoutMicros: flowSetting('idleTimeout', 'idleTimeoutMicros', () =>
        seconds('--idle-timeout', flags.idleTimeout),
      ),
      activeTimeoutMicros: flowSetting('activeTimeout', 'activeTimeoutMicros', () =>
        seconds('--active-timeout', flags.activeTimeout),
      ),
      closedTimeoutMicros: flowSetting('closedTimeout', 'closedTimeoutMicros', () =>
        seconds('--closed-timeout', flags.closedTimeout),
      ),
    },
  };
  const exporter = flags.ipfix ? openIpfixExporter(flags.ipfix, options.flows?.maxFlows ?? 0) : null;
  let writer: FlowFileWriter | null = null;
  if (flags.flows) {
    try {
      writer = new FlowFileWriter(flags.flows, flags.flowsFormat ?? flowFormatFor(flags.flows));
    } catch (err) {
      throw new FlowTrackError(
        ErrorCode.IO_ERROR,
        `cannot write flows to ${flags.flows}: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  if (writer || exporter) {
    const w = writer;
    options.onFlow = (flow) => {
      w?.write(flow);
      exporter?.export(flowRowOf(flow));
    };
  }
  // Reading pauses while the exporter's buffer is half full rather than let it drop flows.
  if (exporter) options.waitForRoom = () => exporter.waitForRoom();
  const bar = new ProgressBar(process.stderr, 'reading');
  if (flags.progress && bar.enabled) options.onProgress = (done, total) => bar.update(done, total);
  try {
    const report = await analyzeCapture(file, options);
    bar.clear();
    // Every flow has ended: the last IPFIX messages leave before the report says what was sent.
    await exporter?.close();
    const ipfixExport = exporter && { collector: exporter.collector, ...exporter.stats() };
    if (flags.json) {
      process.stdout.write(JSON.stringify(ipfixExport ? { ...report, ipfixExport } : report, null, 2) + '\n');
    } else {
      process.stdout.write(renderReportText(report));
      if (ipfixExport) process.stdout.write(ipfixSummary(ipfixExport));
    }
    if (ipfixExport) warnAboutIpfix(ipfixExport);
    if (report.input.readError) {
      process.stderr.write(
        `flowtrack: ${file}: reading stopped at byte ${report.input.readError.offset}: ${report.input.readError.reason}\n`,
      );
      return EXIT_PARTIAL;
    }
    return 0;
  } finally {
    bar.clear();
    writer?.close();
    await exporter?.close();
  }
}

function openIpfixExporter(target: string, maxFlows: number): IpfixExporter {
  // A capture's last flows all end at once when it is read to the end (up to --max-flows of
  // them), with no chance to pause the reading: the buffer holds them on top of the usual room.
  return new IpfixExporter({
    ...parseCollectorAddress(target, '--ipfix'),
    maxBufferedFlows: DEFAULT_MAX_BUFFERED_FLOWS + maxFlows,
  });
}

type IpfixSummary = IpfixExportStats & { collector: string };

const counted = (n: number, thing: string): string => `${n} ${thing}${n === 1 ? '' : 's'}`;

function ipfixSummary(s: IpfixSummary): string {
  return (
    `\nIPFIX export to ${s.collector}: ${counted(s.flows, 'flow')} as ${counted(s.records, 'record')} ` +
    `in ${counted(s.messages, 'message')} (${counted(s.packets, 'packet')}, ${counted(s.bytes, 'byte')})\n`
  );
}

/** Says on standard error what did not reach the collector (the analysis itself still succeeded). */
function warnAboutIpfix(s: IpfixSummary): void {
  const problems = [
    s.sendErrors > 0 && `${counted(s.sendErrors, 'send error')} (last: ${s.lastError ?? 'unknown'})`,
    s.bufferedFlows > 0 && `${counted(s.bufferedFlows, 'flow')} not sent`,
    s.droppedFlows > 0 && `${counted(s.droppedFlows, 'flow')} dropped: the export buffer was full`,
    s.invalidFlows > 0 && `${counted(s.invalidFlows, 'flow')} could not be encoded`,
  ].filter((p): p is string => typeof p === 'string');
  if (problems.length > 0) {
    process.stderr.write(
      `flowtrack: IPFIX export to ${s.collector}: ${problems.join('; ')}; is the collector running?\n`,
    );
  }
}

function positiveInt(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${name} must be a whole number of at least 1, not "${value}"`,
    );
  }
  return n;
}

function seconds(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_OPTION,
      `${name} must be a number of seconds above 0, not "${value}"`,
    );
  }
  return Math.round(n * 1e6);
}
