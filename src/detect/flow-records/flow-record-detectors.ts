/**
 * The detectors that run on flow records (NetFlow v5/v9, IPFIX) instead of packets: port scans,
 * host sweeps, brute force, SYN floods and UDP/ICMP volume floods, each with the options of its
 * packet detector (a user's `port_scan.minPorts=20` applies to both) and reporting the same alert
 * types, severities and summaries through the same AlertTracker, so an attack seen in records reads
 * like one seen in packets; summaries and sample flows say it was seen in flow records.
 *
 * A record is one direction of a flow, as the store's FlowRow (packetsToClient 0). A row holding
 * both directions (an IPFIX biflow, a FlowTrack sensor's flow) is read as two records. Records come
 * in batches, roughly in end-time order but minutes late at times; every time used is a record's
 * (never a clock): ticks come once per second of the latest record time seen, or from `onTick`.
 * A malformed row is counted and dropped (see stats), never thrown.
 *
 * Must never: allocate per record beyond what a report needs, keep state that grows with the
 * sources of a spoofed flood (every table is fixed, evictions are counted), read a clock.
 */

import type { AlertTracker } from '../../alerts/alert-tracker.js';
import type { FlowRow } from '../../store/flow-repository.js';
import { ErrorCode, FlowTrackError } from '../../util/errors.js';
import type { BruteForceOptions } from '../brute-force/attempt-pairs.js';
import { bruteForceFactory } from '../brute-force/brute-force.js';
import type { DetectionSettings } from '../detector-registry.js';
import type { DetectorFactory, DetectorOptions } from '../detector.js';
import { hostSweepFactory, type HostSweepOptions } from '../host-sweep/host-sweep.js';
import { portScanFactory, type PortScanOptions } from '../port-scan/port-scan.js';
import { synFloodFactory, type SynFloodOptions } from '../syn-flood/syn-flood.js';
import { volumeFloodFactory, type VolumeFloodOptions } from '../volume-flood/volume-flood.js';
import { AnswerMemory } from './answer-memory.js';
import { RecordBruteForce } from './record-brute-force.js';
import { RecordFloods } from './record-floods.js';
import { RecordHostSweep } from './record-host-sweep.js';
import { RecordPortScan } from './record-port-scan.js';
import { RecordView } from './record-view.js';

/** The packet detectors whose options the flow-record detectors take (DetectionSettings names). */
export const FLOW_RECORD_DETECTORS = [
  'port_scan',
  'host_sweep',
  'brute_force',
  'syn_flood',
  'volume_flood',
] as const;

const TICK_MICROS = 1_000_000;
/** How long an answer read before its probe is remembered (records are minutes late at most). */
const ANSWER_KEEP_MICROS = 300_000_000;

/** What the flow-record detectors have read, dropped and hold. */
export interface FlowRecordStats {
  /** Rows read (a biflow row is one). */
  records: number;
  /** Rows dropped as malformed, and why the last one was. */
  malformed: number;
  lastMalformed: string | null;
  /** Entries in use now, over every table (each table is fixed in size). */
  tracked: number;
  /** Entries evicted to make room, over every table. */
  evicted: number;
  /** Records too late (older than the flood meters' windows) to count in a rate. */
  tooLateForRates: number;
}

export class FlowRecordDetectors {
  private readonly view = new RecordView();
  private readonly portScan: RecordPortScan;
  private readonly hostSweep: RecordHostSweep;
  private readonly bruteForce: RecordBruteForce;
  private readonly floods: RecordFloods;
  private now = -Infinity;
  private nextTick = -Infinity;
  private records = 0;
  private malformed = 0;
  private lastMalformed: string | null = null;

  /**
   * @param settings option overrides per packet detector name (as parseDetectionSettings gives);
   *   throws FlowTrackError (BAD_OPTION) naming every bad one
   */
  constructor(alerts: AlertTracker, settings: DetectionSettings = {}) {
    const problems: string[] = [];
    const portScan = optionsOf<PortScanOptions>(portScanFactory, settings, problems);
    const hostSweep = optionsOf<HostSweepOptions>(hostSweepFactory, settings, problems);
    const bruteForce = optionsOf<BruteForceOptions>(bruteForceFactory, settings, problems);
    const synFlood = optionsOf<SynFloodOptions>(synFloodFactory, settings, problems);
    const volumeFlood = optionsOf<VolumeFloodOptions>(volumeFloodFactory, settings, problems);
    if (problems.length > 0) {
      throw new FlowTrackError(
        ErrorCode.BAD_OPTION,
        `bad detection setting for the flow-record detectors: ${problems.join('; ')}`,
      );
    }
    const answers = new AnswerMemory(ANSWER_KEEP_MICROS);
    this.portScan = new RecordPortScan(portScan, alerts, answers);
    this.hostSweep = new RecordHostSweep(hostSweep, alerts, answers);
    this.bruteForce = new RecordBruteForce(bruteForce, alerts);
    this.floods = new RecordFloods(synFlood, volumeFlood, alerts);
  }

  /** One record (or biflow row). Malformed rows are counted in stats and skipped. */
  onFlow(row: FlowRow): void {
    const v = this.view;
    const problem = v.read(row);
    if (problem !== null) {
      this.malformed++;
      this.lastMalformed = problem;
      return;
    }
    this.records++;
    // Written out rather than advance(v.lastUs): a time passed to a call is boxed (an allocation).
    if (v.lastUs > this.now) {
      this.now = v.lastUs;
      if (this.now >= this.nextTick) this.tick();
    }
    this.dispatch(v);
    if (v.hasReverse()) {
      v.reverse();
      this.dispatch(v);
    }
  }

  /** Lets record time pass without records (a quiet collector): ticks when a second has passed. */
  onTick(nowUs: number): void {
    if (!Number.isFinite(nowUs) || nowUs <= this.now) return;
    this.now = nowUs;
    if (nowUs >= this.nextTick) this.tick();
  }

  /** End of input or shutdown: reports what is pending. */
  finish(nowUs: number): void {
    const now = Number.isFinite(nowUs) ? Math.max(nowUs, this.now) : this.now;
    if (now === -Infinity) return;
    this.now = now;
    this.floods.finish(now);
    this.portScan.finish();
    this.hostSweep.finish();
    this.bruteForce.finish();
  }

  stats(): FlowRecordStats {
    return {
      records: this.records,
      malformed: this.malformed,
      lastMalformed: this.lastMalformed,
      tracked: this.portScan.tracked + this.hostSweep.tracked + this.bruteForce.tracked + this.floods.tracked,
      evicted:
        this.portScan.evicted + this.hostSweep.evicted + this.bruteForce.evicted + this.floods.evictedCount,
      tooLateForRates: this.floods.outsideHorizon,
    };
  }

  private dispatch(v: RecordView): void {
    this.portScan.onRecord(v);
    this.hostSweep.onRecord(v);
    this.bruteForce.onRecord(v);
    this.floods.onRecord(v);
  }

  /** Record time has passed a second boundary: one tick at `now`, however many seconds it jumped. */
  private tick(): void {
    const now = this.now;
    if (this.nextTick !== -Infinity) this.floods.tick(now);
    this.nextTick = now - (now % TICK_MICROS) + TICK_MICROS;
  }
}

/**
 * A packet detector's defaults overridden by its settings; each bad value or unknown option is
 * added to `problems` (with the name, the value and what is valid).
 */
function optionsOf<O extends DetectorOptions>(
  factory: DetectorFactory<O>,
  settings: DetectionSettings,
  problems: string[],
): O {
  const overrides = settings[factory.name] ?? {};
  for (const [option, value] of Object.entries(overrides)) {
    if (!(option in factory.defaults)) {
      problems.push(
        `detector ${factory.name} has no option "${option}" (options: ${Object.keys(factory.defaults).join(', ')})`,
      );
    } else if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      problems.push(`${factory.name}.${option} must be a number of at least 0, not "${String(value)}"`);
    }
  }
  return { ...factory.defaults, ...overrides };
}
