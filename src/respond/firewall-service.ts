/**
 * The firewall as FlowTrack runs it: rules an admin sets (API, CLI) and blocks the policy sets by
 * itself when an alert names an attacker, kept in the database and enforced by one backend
 * (nftables, iptables with ipset, or dry-run).
 *
 * - The database is the truth. `start()` reconciles the kernel with it (re-applies what is
 *   missing, removes FlowTrack's own stale entries), and so does a check every minute, so a rule
 *   deleted by hand comes back and one added by hand to FlowTrack's sets goes.
 * - Every block, by hand or automatic, passes `whyNotBlock` first: loopback, the host's own
 *   addresses, gateways and DNS servers, logged-in admins and the allow-list are never blocked.
 *   Closing a protected port (ssh, the API's own) is refused the same way.
 * - The policy blocks an alert's attacker when the alert's type and severity say so, for longer
 *   each time the same source comes back (10 min, 1 h, 24 h, permanent by default), IPv6 by its
 *   /64, and never more than `maxPerMinute` new blocks a minute; a kill switch stops it.
 * - Expired rules are marked in the database within a second (the kernel drops expired blocks by
 *   itself: they carry their timeout), and every change, by whoever or by expiry, is audited with
 *   the rule before and after.
 * Changes run one at a time, so the kernel always sees them in the database's order.
 */

import type { Alert } from '../alerts/alert.js';
import { severityRank } from '../alerts/alert.js';
import type { ServiceConfig } from '../config/service-config.js';
import { durationMs } from '../config/service-config.js';
import type { NewAuditEvent } from '../store/audit-repository.js';
import type {
  FirewallRule,
  FirewallRuleRepository,
  NewFirewallRule,
  RuleChange,
  RuleKind,
} from '../store/firewall-rule-repository.js';
import type { SettingsRepository } from '../store/settings-repository.js';
import { describeError, ErrorCode, FlowTrackError } from '../util/errors.js';
import type { AdminSessions } from './admin-sessions.js';
import {
  hostProtectedAddresses,
  overlaps,
  safetyCheck,
  whyNotBlock,
  type ProtectedAddresses,
} from './block-safety.js';
import {
  checkInterface,
  checkPort,
  networkOf,
  parseSource,
  sourceKey,
  type BlockedSource,
  type ClosedPort,
  type FirewallBackend,
  type FirewallState,
} from './firewall-backend.js';

export type FirewallConfig = ServiceConfig['firewall'];

/** Who makes a change: a user and where from, or FlowTrack itself. */
export interface Actor {
  name: string;
  ip: string | null;
}

/** FlowTrack acting by itself (expiry, reconciliation). */
export const SYSTEM_ACTOR: Actor = { name: 'flowtrack', ip: null };
/** The author of automatic blocks. */
export const POLICY_AUTHOR = 'policy';

/** A rule as an admin asks for it. */
export interface RuleInput {
  kind: RuleKind;
  source?: string;
  protocol?: 'tcp' | 'udp';
  port?: number;
  interface?: string;
  comment?: string;
  /** Epoch milliseconds; absent or null: until lifted. */
  expiresAt?: number | null;
  /**
   * The alert the rule answers (an admin's "block source" from an alert), kept on the rule as
   * automatic blocks keep theirs. The caller checks that the alert exists; this only stores it.
   */
  alertId?: string;
}

export interface ReconcileReport {
  at: number;
  /** Entries the database has and the kernel did not (re-applied). */
  missing: string[];
  /** Entries of FlowTrack's the kernel had and the database did not (removed). */
  stale: string[];
}

/** Why an automatic block was not made. */
export interface Refusal {
  at: number;
  address: string;
  alertId: string;
  reason: string;
}

export interface FirewallStatus {
  mode: FirewallConfig['mode'];
  backend: FirewallBackend['name'];
  autoBlock: { enabled: boolean; blocksLastMinute: number; maxPerMinute: number };
  counts: { blocked: number; cappedOut: number; refused: number; failed: number };
  lastReconcile: ReconcileReport | null;
  lastError: string | null;
  recentRefusals: Refusal[];
}

/**
 * The policy as the configuration file sets it, for the dashboard to show: fixed while the
 * server runs (only the kill switch changes at run time, and status() has its live value).
 */
export interface FirewallPolicy {
  /** firewall.backend: what enforcement uses (auto: nftables where it works, else iptables). */
  configuredBackend: FirewallConfig['backend'];
  allowList: FirewallConfig['allowList'];
  /** firewall.protectedPorts and the API's own port: never closed. */
  protectedPorts: readonly string[];
  autoBlock: Omit<FirewallConfig['autoBlock'], 'enabled'>;
}

export interface FirewallServiceOptions {
  backend: FirewallBackend;
  /** The repositories of the moment (a restore replaces the store). */
  rules: () => FirewallRuleRepository;
  settings: () => SettingsRepository;
  audit: (event: NewAuditEvent) => Promise<unknown>;
  config: FirewallConfig;
  /** The API's own port: never closed. */
  apiPort?: () => number | undefined;
  adminSessions?: AdminSessions;
  /** The host's addresses, gateways and DNS servers (default: read from the kernel). */
  host?: () => Pick<ProtectedAddresses, 'own' | 'gateways' | 'dnsServers'>;
  log: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  now?: () => number;
  /**
   * Told of each rule put in force or lifted by hand, by the policy or by a newer rule (not of
   * expiries: a rule carries its end): the hub passes blocks on to its sensors.
   */
  onRuleChange?: (rule: FirewallRule, change: 'added' | 'removed') => void;
}

/** The settings key of the kill switch. */
export const AUTO_BLOCK_SETTING = 'firewall.autoBlock';
const MINUTE = 60_000;
/** Expiry of a kernel entry and of its rule may differ by the kernel's rounding to seconds. */
const EXPIRY_SLACK_MS = 3000;
const RECONCILE_EVERY_MS = MINUTE;
const HOST_REFRESH_MS = 30_000;
const KEEP_REFUSALS = 50;
const KEEP_ALERT_IDS = 10_000;
const COMMENT = /^[\p{L}\p{N} .,:;_()/@#+'"!?=-]*$/u;

export class FirewallService {
  private readonly backend: FirewallBackend;
  private readonly config: FirewallConfig;
  private readonly now: () => number;
  private autoBlock: boolean;
  /** Sources blocked now (their keys), for the policy's quick "already blocked?". */
  private blockedKeys = new Set<string>();
  /** Active prefix blocks (not single addresses), which may cover an attacker. */
  private blockedPrefixes: string[] = [];
  private allowSources: string[] = [];
  private host: { at: number; value: Pick<ProtectedAddresses, 'own' | 'gateways' | 'dnsServers'> } | null =
    null;
  /** When the policy's recent blocks were made, for the per-minute cap. */
  private recentBlocks: number[] = [];
  /** When the policy's latest block of each source ends (epoch ms), the newest 10,000. */
  private readonly blockEnds = new Map<string, number>();
  /** Alerts whose attacker was refused (said once, not at each of the alert's updates). */
  private readonly refusedAlerts = new Set<string>();
  /** Rules found unsafe to enforce, said once each. */
  private readonly unsafeSaid = new Set<number>();
  private readonly counts = { blocked: 0, cappedOut: 0, refused: 0, failed: 0 };
  private cappedSinceLog = 0;
  private readonly refusals: Refusal[] = [];
  private lastReconcile: ReconcileReport | null = null;
  private lastError: string | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private lastCheck = 0;

  constructor(private readonly options: FirewallServiceOptions) {
    this.backend = options.backend;
    this.config = options.config;
    this.now = options.now ?? Date.now;
    this.autoBlock = options.config.autoBlock.enabled;
  }

  /** Reconciles the kernel with the database and starts the expiry and the checks. */
  async start(): Promise<ReconcileReport> {
    const report = await this.reconcile();
    this.lastCheck = this.now();
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
    return report;
  }

  /** Stops the timers and waits for changes under way. The kernel keeps its rules (they expire by themselves). */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.queue.catch(() => undefined);
  }

  /** Reads the kill switch as last set, here or by `flowtrack firewall auto-block`. */
  async loadAutoBlock(): Promise<void> {
    const saved = (await this.options.settings().get(AUTO_BLOCK_SETTING))?.value as
      { enabled?: unknown } | undefined;
    if (typeof saved?.enabled === 'boolean') this.autoBlock = saved.enabled;
  }

  get backendInUse(): FirewallBackend {
    return this.backend;
  }

  get autoBlockEnabled(): boolean {
    return this.autoBlock;
  }

  /** Rules in force, oldest first. */
  active(): Promise<FirewallRule[]> {
    return this.options.rules().active(this.now());
  }

  status(): FirewallStatus {
    return {
      mode: this.config.mode,
      backend: this.backend.name,
      autoBlock: {
        enabled: this.autoBlock,
        blocksLastMinute: this.blocksInLastMinute(),
        maxPerMinute: this.config.autoBlock.maxPerMinute,
      },
      counts: { ...this.counts },
      lastReconcile: this.lastReconcile,
      lastError: this.lastError,
      recentRefusals: [...this.refusals].reverse(),
    };
  }

  /** The configured policy (the allow-list, protected ports, automatic blocking's settings). */
  policy(): FirewallPolicy {
    const policy = this.config.autoBlock;
    return {
      configuredBackend: this.config.backend,
      allowList: this.config.allowList,
      protectedPorts: this.protectedPorts(),
      // Named one by one: a new setting is shown to viewers only when someone decides it may be.
      autoBlock: {
        alertTypes: policy.alertTypes,
        minSeverity: policy.minSeverity,
        minSeverityByType: policy.minSeverityByType,
        durations: policy.durations,
        forgetAfter: policy.forgetAfter,
        ipv6PrefixLength: policy.ipv6PrefixLength,
        maxPerMinute: policy.maxPerMinute,
      },
    };
  }

  /** Adds a rule an admin asked for; refuses what is malformed, unsafe or already in force. */
  addRule(input: RuleInput, actor: Actor): Promise<FirewallRule> {
    return this.exclusive(async () => {
      const now = this.now();
      const rule = { ...this.checkInput(input, now), createdBy: actor.name };
      const active = await this.options.rules().active(now);
      let lift: FirewallRule[] = [];
      if (rule.kind === 'block') {
        const reason = whyNotBlock(rule.source!, this.protectedAddresses(active));
        if (reason !== null) return this.refuse(actor, 'firewall.rule.add', rule, `cannot block: ${reason}`);
        const target = parseSource(rule.source!);
        for (const other of active.filter((r) => r.kind === 'block' && sameInterface(r, rule))) {
          const o = parseSource(other.source!);
          if (!overlaps(target, o)) continue;
          if (o.len < target.len || sourceKey(other.source!) === sourceKey(rule.source!)) {
            throw new FlowTrackError(
              ErrorCode.CONFLICT,
              `${rule.source!} is already blocked by rule ${other.id} (${other.source!})`,
            );
          }
          lift.push(other); // a narrower block the new one replaces
        }
      } else if (rule.kind === 'close') {
        const reason = this.whyNotClose(rule, active);
        if (reason !== null) return this.refuse(actor, 'firewall.rule.add', rule, `cannot close: ${reason}`);
        const same = active.find((r) => r.kind === 'close' && samePort(r, rule) && sameInterface(r, rule));
        if (same)
          throw new FlowTrackError(ErrorCode.CONFLICT, `rule ${same.id} already closes ${portName(rule)}`);
      } else if (rule.kind === 'allow') {
        // An allowed source is never blocked: blocks that cover it are lifted.
        const allowed = parseSource(rule.source!);
        lift = active.filter((r) => r.kind === 'block' && overlaps(allowed, parseSource(r.source!)));
      } else {
        lift = active.filter((r) => r.kind === 'close' && samePort(r, rule));
      }
      const created = await this.options.rules().create(rule);
      for (const old of lift) await this.lift(old, `${actor.name} (rule ${created.id})`, actor);
      await this.enforce(
        active.filter((r) => !lift.includes(r)),
        created,
        actor,
        lift.length > 0,
      );
      return created;
    });
  }

  /** Changes a rule's comment or expiry. */
  updateRule(id: number, change: RuleChange, actor: Actor): Promise<FirewallRule> {
    return this.exclusive(async () => {
      if (change.comment != null) checkComment(change.comment);
      if (change.expiresAt != null) checkExpiry(change.expiresAt, this.now());
      const { before, after } = await this.options.rules().update(id, change);
      await this.audit(actor, 'firewall.rule.update', String(id), before, after);
      if (change.expiresAt !== undefined) await this.applyAll();
      return after;
    });
  }

  /** Lifts a rule in force. */
  removeRule(id: number, actor: Actor): Promise<FirewallRule> {
    return this.exclusive(async () => {
      const rule = await this.options.rules().findById(id);
      if (!rule) throw new FlowTrackError(ErrorCode.NOT_FOUND, `no firewall rule ${id}`);
      const after = await this.lift(rule, actor.name, actor);
      const active = await this.options.rules().active(this.now());
      // unblock lifts a source on every interface: one still blocked on an interface needs the whole state.
      const key = rule.kind === 'block' ? sourceKey(rule.source!) : null;
      const stays = active.some((r) => r.kind === 'block' && sourceKey(r.source!) === key);
      if (rule.kind === 'block' && rule.interface === null && !stays) {
        // Gone from the kernel already when it expired just now, or was deleted by hand.
        await this.backend.unblock([rule.source!]).catch(() => this.applyAll());
        this.refreshIndex(active);
      } else {
        await this.applyAll();
      }
      return after;
    });
  }

  /** Switches automatic blocking on or off (the kill switch); kept across restarts. */
  setAutoBlock(enabled: boolean, actor: Actor): Promise<void> {
    return this.exclusive(async () => {
      const before = { enabled: this.autoBlock };
      await this.options.settings().set(AUTO_BLOCK_SETTING, { enabled }, actor.name, this.now());
      this.autoBlock = enabled;
      await this.audit(actor, 'firewall.autoblock', null, before, { enabled });
      this.options.log.warn(
        { enabled, by: actor.name },
        `automatic blocking switched ${enabled ? 'on' : 'off'}`,
      );
    });
  }

  /**
   * The policy: blocks the attacker of `alert` when its type and severity call for it, it is
   * safe and within the per-minute cap. Decided at once (the alert flow never waits); the rule
   * and the kernel follow in order.
   */
  onAlert(alert: Alert): void {
    const policy = this.config.autoBlock;
    if (!this.autoBlock || alert.src === null || this.refusedAlerts.has(alert.id)) return;
    if (!policy.alertTypes.includes(alert.type)) return;
    const least = policy.minSeverityByType[alert.type] ?? policy.minSeverity;
    if (severityRank(alert.severity) < severityRank(least)) return;
    let target: string;
    try {
      const source = parseSource(alert.src);
      target = source.family === 6 ? networkOf(alert.src, policy.ipv6PrefixLength) : alert.src;
    } catch {
      return;
    }
    if (this.isBlocked(target)) return;
    // An attack that goes on after its block ended is blocked again, for longer; an alert whose
    // packets all came before (a detector's minute still counting them) is not.
    const ended = this.blockEnds.get(sourceKey(target));
    if (ended !== undefined && alert.end / 1000 <= ended) return;
    const now = this.now();
    if (this.blocksInLastMinute() >= policy.maxPerMinute) {
      // Held back, not decided: the alert's next update may block its attacker once there is room.
      this.counts.cappedOut++;
      this.cappedSinceLog++;
      if (this.cappedSinceLog === 1) {
        this.options.log.warn(
          { maxPerMinute: policy.maxPerMinute },
          'automatic blocks held back: the per-minute cap is reached (a flood of many sources?)',
        );
      }
      return;
    }
    const reason = whyNotBlock(target, this.protectedAddresses(null));
    if (reason !== null) {
      this.remember(alert.id);
      this.counts.refused++;
      this.noteRefusal({ at: now, address: target, alertId: alert.id, reason });
      void this.options
        .audit({
          tsMs: now,
          actor: POLICY_AUTHOR,
          action: 'firewall.block.auto',
          target,
          after: { alertId: alert.id, type: alert.type, refused: reason },
          outcome: 'denied',
        })
        .catch((err: unknown) => this.fail('audit failed', err));
      return;
    }
    this.recentBlocks.push(now);
    this.blockedKeys.add(sourceKey(target));
    this.blockEnds.delete(sourceKey(target));
    void this.exclusive(() => this.autoBlockSource(target, alert)).catch((err: unknown) => {
      this.counts.failed++;
      this.fail(`automatic block of ${target} failed`, err);
    });
  }

  /** Marks due rules expired, and every minute checks the kernel against the database. */
  async tick(): Promise<void> {
    try {
      await this.exclusive(async () => {
        const expired = await this.options.rules().expireDue(this.now());
        for (const rule of expired) {
          await this.audit(
            SYSTEM_ACTOR,
            'firewall.rule.expire',
            String(rule.id),
            { ...rule, removedAt: null, removedBy: null },
            rule,
          );
        }
        // Blocks leave the kernel by their own timeout; ports and allowances need a new state.
        if (expired.some((r) => r.kind !== 'block' || r.interface !== null)) await this.applyAll();
        else if (expired.length > 0) this.refreshIndex(await this.options.rules().active(this.now()));
      });
      if (this.cappedSinceLog > 0 && this.blocksInLastMinute() === 0) this.cappedSinceLog = 0;
      if (this.now() - this.lastCheck >= RECONCILE_EVERY_MS) {
        this.lastCheck = this.now();
        await this.reconcile();
      }
    } catch (err) {
      this.fail('firewall check failed', err);
    }
  }

  /**
   * Makes the kernel enforce exactly what the database says: reads what it enforces, and when
   * anything differs (an entry missing, a stale one, another expiry) applies the whole state in
   * one transaction. Audited when it changed anything.
   */
  reconcile(): Promise<ReconcileReport> {
    return this.exclusive(async () => {
      await this.loadAutoBlock();
      const now = this.now();
      const active = await this.options.rules().active(now);
      const wanted = this.enforceable(active);
      const actual = await this.backend.read();
      const want = entriesOf(wanted);
      const have: Entries = actual === null ? new Map<string, never>() : entriesOf(actual);
      // A dry run starts with nothing each time: setting it up is no news.
      const fresh = actual === null && this.backend.name === 'dry-run';
      const missing = fresh ? [] : differ(want, have);
      const stale = differ(have, want);
      const report: ReconcileReport = { at: now, missing, stale };
      if (actual === null || missing.length > 0 || stale.length > 0) {
        await this.backend.apply(wanted);
        if (missing.length > 0 || stale.length > 0) {
          await this.audit(
            SYSTEM_ACTOR,
            'firewall.reconcile',
            this.backend.name,
            { stale: cut(stale) },
            { missing: cut(missing) },
          );
          this.options.log.warn(
            { missing: missing.length, stale: stale.length, backend: this.backend.name },
            'firewall reconciled with the database',
          );
        }
      }
      this.refreshIndex(active);
      this.lastReconcile = report;
      return report;
    });
  }

  /** Lifts every rule in force and removes FlowTrack's rules from the kernel (nothing else). */
  flush(actor: Actor): Promise<number> {
    return this.exclusive(async () => {
      const active = await this.options.rules().active(this.now());
      for (const rule of active) await this.lift(rule, actor.name, actor);
      await this.backend.flush();
      await this.audit(actor, 'firewall.flush', this.backend.name, { rules: active.length }, { rules: 0 });
      this.refreshIndex([]);
      return active.length;
    });
  }

  // -------------------------------------------------------------------------------------------

  private async autoBlockSource(target: string, alert: Alert): Promise<void> {
    const policy = this.config.autoBlock;
    const now = this.now();
    const forget = durationMs(policy.forgetAfter) ?? 0;
    const before = await this.options.rules().countCreated(POLICY_AUTHOR, now - forget, target);
    const step = policy.durations[Math.min(before, policy.durations.length - 1)]!;
    const length = durationMs(step);
    const rule = await this.options.rules().create({
      kind: 'block',
      source: target,
      protocol: null,
      port: null,
      interface: null,
      comment: `${alert.type} (${alert.severity}): ${alert.summary}`.slice(0, 200),
      alertId: alert.id,
      createdBy: POLICY_AUTHOR,
      createdAt: now,
      expiresAt: length === null ? null : now + length,
    });
    try {
      await this.blockOrApply({ address: target, expiresAt: rule.expiresAt });
    } catch (err) {
      await this.options.rules().remove(rule.id, this.now(), 'not applied');
      this.blockedKeys.delete(sourceKey(target));
      throw err;
    }
    this.counts.blocked++;
    this.options.onRuleChange?.(rule, 'added');
    this.blockEnds.set(sourceKey(target), rule.expiresAt ?? Number.POSITIVE_INFINITY);
    if (this.blockEnds.size > KEEP_ALERT_IDS) this.blockEnds.delete(this.blockEnds.keys().next().value!);
    await this.options.audit({
      tsMs: now,
      actor: POLICY_AUTHOR,
      action: 'firewall.block.auto',
      target,
      before: null,
      after: rule,
      outcome: 'ok',
    });
    this.options.log.warn(
      {
        address: target,
        alertId: alert.id,
        type: alert.type,
        expiresAt: rule.expiresAt,
        offence: before + 1,
      },
      `blocked ${target} automatically for ${step}`,
    );
  }

  /** Checks and normalises an admin's rule. */
  private checkInput(input: RuleInput, now: number): NewFirewallRule {
    const bad = (message: string): never => {
      throw new FlowTrackError(ErrorCode.BAD_REQUEST, message);
    };
    const bySource = input.kind === 'block' || input.kind === 'allow';
    if (bySource) {
      if (input.source === undefined) bad(`a ${input.kind} rule needs a source (an address or prefix)`);
      if (input.protocol !== undefined || input.port !== undefined)
        bad(`a ${input.kind} rule takes a source, not a port: close or open a port with its own rule`);
      parseSource(input.source!);
    } else {
      if (input.source !== undefined) bad(`a ${input.kind} rule takes a port and protocol, not a source`);
      if (input.protocol !== 'tcp' && input.protocol !== 'udp')
        bad(`a ${input.kind} rule needs protocol tcp or udp`);
      if (input.port === undefined) bad(`a ${input.kind} rule needs a port`);
      checkPort(input.port!);
    }
    // The backends' own check: a name one of them cannot match is refused before it is kept.
    if (input.interface !== undefined) checkInterface(input.interface);
    if (input.comment !== undefined) checkComment(input.comment);
    if (input.expiresAt != null) checkExpiry(input.expiresAt, now);
    return {
      kind: input.kind,
      source: bySource ? input.source!.trim() : null,
      protocol: bySource ? null : input.protocol!,
      port: bySource ? null : input.port!,
      interface: input.interface ?? null,
      comment: input.comment ?? null,
      alertId: input.alertId ?? null,
      createdBy: '', // the caller's
      createdAt: now,
      expiresAt: input.expiresAt ?? null,
    };
  }

  private whyNotClose(rule: NewFirewallRule, active: FirewallRule[]): string | null {
    const name = portName(rule);
    if (this.protectedPorts().includes(name))
      return `${name} is how admins reach this host (firewall.protectedPorts, or the API's own port)`;
    const open = active.find((r) => r.kind === 'open' && samePort(r, rule));
    if (open) return `rule ${open.id} keeps ${name} open: lift it first`;
    return null;
  }

  /** Ports never closed, as `22/tcp`: the configured ones and the API's own. */
  private protectedPorts(): string[] {
    const apiPort = this.options.apiPort?.();
    const ports = new Set(this.config.protectedPorts);
    if (apiPort !== undefined) ports.add(`${apiPort}/tcp`);
    return [...ports];
  }

  private async refuse(actor: Actor, action: string, rule: NewFirewallRule, message: string): Promise<never> {
    await this.audit(actor, action, null, null, rule, 'denied');
    throw new FlowTrackError(ErrorCode.CONFLICT, message);
  }

  /**
   * Applies a new rule (its row exists) to the kernel; on failure the rule is lifted again. When
   * it `replaced` rules, the whole state goes in: the kernel must drop theirs too.
   */
  private async enforce(
    others: FirewallRule[],
    rule: FirewallRule,
    actor: Actor,
    replaced: boolean,
  ): Promise<void> {
    try {
      if (rule.kind === 'block' && rule.interface === null && !replaced) {
        await this.blockOrApply({ address: rule.source!, expiresAt: rule.expiresAt });
      } else {
        await this.applyAll();
      }
    } catch (err) {
      await this.options.rules().remove(rule.id, this.now(), 'not applied');
      await this.audit(actor, 'firewall.rule.add', String(rule.id), null, rule, 'failed');
      throw err;
    }
    this.refreshIndex([...others, rule]);
    await this.audit(actor, 'firewall.rule.add', String(rule.id), null, rule);
    this.options.onRuleChange?.(rule, 'added');
  }

  private async lift(rule: FirewallRule, by: string, actor: Actor): Promise<FirewallRule> {
    const { before, after } = await this.options.rules().remove(rule.id, this.now(), by);
    await this.audit(actor, 'firewall.rule.remove', String(rule.id), before, after);
    this.options.onRuleChange?.(after, 'removed');
    return after;
  }

  /**
   * Adds one block to the kernel; when that fails (FlowTrack's table was never set up here, or
   * was removed by hand) the whole state is applied instead, the new rule's row included.
   */
  private async blockOrApply(block: BlockedSource): Promise<void> {
    try {
      await this.backend.block([block]);
    } catch {
      await this.applyAll();
    }
  }

  private async applyAll(): Promise<void> {
    const active = await this.options.rules().active(this.now());
    await this.backend.apply(this.enforceable(active));
    this.refreshIndex(active);
  }

  /**
   * The state to enforce for these rules, leaving out any block that has become unsafe since it
   * was made (the host got a new address, an admin signs in from a blocked network, a rule from
   * before the safety checks): it stays in the database and is said once in the log.
   */
  private enforceable(active: FirewallRule[]): FirewallState {
    const why = safetyCheck(this.protectedAddresses(active));
    const unsafe = new Set<number>();
    for (const rule of active) {
      if (rule.kind !== 'block') continue;
      const reason = why(rule.source!);
      if (reason === null) continue;
      unsafe.add(rule.id);
      if (!this.unsafeSaid.has(rule.id)) {
        this.unsafeSaid.add(rule.id);
        this.options.log.warn({ rule: rule.id, reason }, `rule ${rule.id} is not enforced: ${reason}`);
      }
    }
    return stateOf(active.filter((r) => !unsafe.has(r.id)));
  }

  private refreshIndex(active: FirewallRule[]): void {
    const blocks = active.filter((r) => r.kind === 'block' && r.interface === null);
    this.blockedKeys = new Set(blocks.map((r) => sourceKey(r.source!)));
    this.blockedPrefixes = blocks.map((r) => r.source!).filter((s) => s.includes('/'));
    this.allowSources = active.filter((r) => r.kind === 'allow').map((r) => r.source!);
  }

  private isBlocked(target: string): boolean {
    if (this.blockedKeys.has(sourceKey(target))) return true;
    const source = parseSource(target);
    return this.blockedPrefixes.some((p) => {
      const prefix = parseSource(p);
      return prefix.len <= source.len && overlaps(prefix, source);
    });
  }

  private protectedAddresses(active: FirewallRule[] | null): ProtectedAddresses {
    const now = this.now();
    if (this.host === null || now - this.host.at > HOST_REFRESH_MS) {
      this.host = { at: now, value: (this.options.host ?? hostProtectedAddresses)() };
    }
    const allowRules = active
      ? active.filter((r) => r.kind === 'allow').map((r) => r.source!)
      : this.allowSources;
    return {
      ...this.host.value,
      adminSessions: this.options.adminSessions?.addresses() ?? [],
      allowList: [...this.config.allowList, ...allowRules],
    };
  }

  private blocksInLastMinute(): number {
    const since = this.now() - MINUTE;
    while (this.recentBlocks.length > 0 && this.recentBlocks[0]! <= since) this.recentBlocks.shift();
    return this.recentBlocks.length;
  }

  private remember(alertId: string): void {
    this.refusedAlerts.add(alertId);
    if (this.refusedAlerts.size > KEEP_ALERT_IDS) {
      this.refusedAlerts.delete(this.refusedAlerts.values().next().value!);
    }
  }

  private noteRefusal(refusal: Refusal): void {
    this.refusals.push(refusal);
    if (this.refusals.length > KEEP_REFUSALS) this.refusals.shift();
    this.options.log.warn({ ...refusal }, `not blocking ${refusal.address}: ${refusal.reason}`);
  }

  private async audit(
    actor: Actor,
    action: string,
    target: string | null,
    before: unknown,
    after: unknown,
    outcome: 'ok' | 'denied' | 'failed' = 'ok',
  ): Promise<void> {
    await this.options.audit({
      tsMs: this.now(),
      actor: actor.name,
      actorIp: actor.ip,
      action,
      target,
      before,
      after,
      outcome,
    });
  }

  private fail(what: string, err: unknown): void {
    const error = describeError(err);
    this.lastError = `${what}: ${error}`;
    this.options.log.error({ err: error }, what);
  }

  /** Runs `task` after every change before it. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

/** What the kernel must enforce for these rules. */
export function stateOf(active: readonly FirewallRule[]): FirewallState {
  const on = (r: FirewallRule) => (r.interface === null ? {} : { interface: r.interface });
  // An open rule keeps its port open on every interface.
  const opened = new Set(active.filter((r) => r.kind === 'open').map(portName));
  const closed = new Map<string, ClosedPort>();
  for (const r of active) {
    if (r.kind === 'close' && !opened.has(portName(r)))
      closed.set(`${portName(r)} ${r.interface ?? ''}`, { protocol: r.protocol!, port: r.port!, ...on(r) });
  }
  const blocked = new Map<string, BlockedSource>();
  for (const r of active) {
    if (r.kind !== 'block') continue;
    const key = `${sourceKey(r.source!)} ${r.interface ?? ''}`;
    const had = blocked.get(key);
    // Two rules for one source: the longer lasting wins.
    if (!had || (had.expiresAt !== null && (r.expiresAt === null || r.expiresAt > had.expiresAt))) {
      blocked.set(key, { address: r.source!, expiresAt: r.expiresAt, ...on(r) });
    }
  }
  return { blocked: [...blocked.values()], closedPorts: [...closed.values()] };
}

/** A state as comparable entries: one key per entry, with its readable name and expiry. */
function entriesOf(state: FirewallState): Map<string, { name: string; expiresAt: number | null }> {
  const entries = new Map<string, { name: string; expiresAt: number | null }>();
  for (const b of state.blocked) {
    const on = b.interface === undefined ? '' : ` on ${b.interface}`;
    entries.set(`block ${sourceKey(b.address)}${on}`, {
      name: `block ${b.address}${on}`,
      expiresAt: b.expiresAt,
    });
  }
  for (const p of state.closedPorts) {
    const name = `close ${p.port}/${p.protocol}${p.interface === undefined ? '' : ` on ${p.interface}`}`;
    entries.set(name, { name, expiresAt: null });
  }
  return entries;
}

type Entries = ReturnType<typeof entriesOf>;

/** The names of entries of `a` that `b` lacks or holds with another expiry. */
function differ(a: Entries, b: Entries): string[] {
  const out: string[] = [];
  for (const [key, { name, expiresAt }] of a) {
    const other = b.get(key)?.expiresAt;
    const same =
      other !== undefined &&
      (other === null
        ? expiresAt === null
        : expiresAt !== null && Math.abs(other - expiresAt) <= EXPIRY_SLACK_MS);
    if (!same) out.push(name);
  }
  return out;
}

function cut(list: string[]): { count: number; first: string[] } {
  return { count: list.length, first: list.slice(0, 100) };
}

function portName(rule: { protocol: string | null; port: number | null }): string {
  return `${rule.port ?? 0}/${rule.protocol ?? ''}`;
}

function samePort(
  a: { protocol: string | null; port: number | null },
  b: { protocol: string | null; port: number | null },
): boolean {
  return a.protocol === b.protocol && a.port === b.port;
}

function sameInterface(a: { interface: string | null }, b: { interface: string | null }): boolean {
  return a.interface === b.interface;
}

function checkComment(comment: string): void {
  if (comment.length > 200 || !COMMENT.test(comment)) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      'a comment is at most 200 letters, digits, spaces and simple punctuation',
    );
  }
}

function checkExpiry(expiresAt: number, now: number): void {
  if (!Number.isSafeInteger(expiresAt) || expiresAt <= now) {
    throw new FlowTrackError(
      ErrorCode.BAD_REQUEST,
      'expiresAt must be a time in the future (epoch milliseconds)',
    );
  }
}
