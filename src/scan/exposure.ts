/**
 * The exposure knowledge: judges each open port with the rules of exposure-rules.json (what an
 * attacker does with the service, how to close it) and turns a scan's results into findings.
 * The rules are data an admin extends, so the file is checked whole at load and every mistake is
 * reported with the rule's id and the bad key, never half-applied.
 *
 * Matching. A rule applies to an open port when its protocol matches and either the identified
 * service is one of its `services`, or the port is one of its `ports` and no service was identified,
 * and every `when` key equals the service's detail. HTTP, HTTPS and TLS count as "not identified"
 * for the port guess as well: they are carriers, and a carrier says less than the port does
 * (the Docker API, the kubelet, etcd and Elasticsearch all speak HTTP(S): on 2375, "http" alone
 * would hide a root shell behind an info finding). Of the rules that apply, the most specific wins:
 * a service match over a port guess (over a bare carrier match), then more `when` keys, then the
 * higher risk, then the earlier rule in the file.
 *
 * Must never: give a finding for a port that is not open (closed, filtered, and UDP's
 * open|filtered, which is mostly silence), or touch the network: it only reads one file.
 */

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ErrorCode, FlowTrackError } from '../util/errors.js';
import { parseIp } from '../util/ip-address.js';
import type { Finding, PortResult, Risk, ScanProtocol, ServiceInfo } from './scan-types.js';

/** One piece of exposure knowledge, as checked from exposure-rules.json. */
export interface ExposureRule {
  /** Lower-case words joined by '-'; findings carry it as `ruleId`. */
  readonly id: string;
  readonly protocol: ScanProtocol;
  /** Ports the service usually listens on: used when no service was identified. */
  readonly ports: readonly number[];
  /** Service names it applies to; the first is the name FlowTrack reports, the rest are aliases. */
  readonly services: readonly string[];
  /** Service details that must all be equal for the rule to apply (e.g. `{ auth: 'none' }`). */
  readonly when?: Readonly<Record<string, string | number | boolean>>;
  readonly risk: Risk;
  readonly title: string;
  /** What an attacker does with it. */
  readonly why: string;
  /** What to do about it. */
  readonly fix: string;
}

/** A checked, frozen rule set, in file order. */
export type ExposureRules = readonly ExposureRule[];

/** The rule id of the finding given to an open port no rule describes. */
export const OPEN_PORT_RULE_ID = 'open-port';

/**
 * The rules shipped with FlowTrack, beside this module: src/scan/ under the tests, dist/scan/ once
 * built (the build must copy it: tsc does not copy .json files it is not asked to import).
 */
export const DEFAULT_EXPOSURE_RULES_FILE = fileURLToPath(new URL('./exposure-rules.json', import.meta.url));

/** Services that carry other protocols: they do not hide what the port says (see the module comment). */
const CARRIERS: ReadonlySet<string> = new Set(['http', 'https', 'http-alt', 'ssl/http', 'tls', 'ssl']);

/** Names that mean "something answered, but it is not known what". */
const UNIDENTIFIED: ReadonlySet<string> = new Set(['', 'unknown', 'tcpwrapped']);

const RISK_ORDER: Readonly<Record<Risk, number>> = { info: 0, low: 1, medium: 2, high: 3, critical: 4 };

const words = /^[a-z0-9]+(-[a-z0-9]+)*$/;

const ruleSchema = z.strictObject({
  id: z.string().regex(words, 'must be lower-case words joined by "-", such as redis-no-auth'),
  protocol: z.enum(['tcp', 'udp']),
  ports: z.array(z.number().int().min(1).max(65535)).default([]),
  services: z
    .array(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9._/+-]*$/, 'must be a lower-case service name such as redis or ms-sql-s'),
    )
    .min(1, 'must name at least one service (the first is the name findings report)'),
  when: z
    .record(
      z.string().min(1),
      z.union([z.string(), z.number(), z.boolean()], { error: 'must be a string, a number, true or false' }),
    )
    .refine((when) => Object.keys(when).length > 0, 'must hold at least one detail, or be left out')
    .optional(),
  risk: z.enum(['info', 'low', 'medium', 'high', 'critical']),
  title: z.string().trim().min(1, 'must not be empty'),
  why: z.string().trim().min(1, 'must not be empty'),
  fix: z.string().trim().min(1, 'must not be empty'),
});

const ruleKeys = Object.keys(ruleSchema.shape).join(', ');

/**
 * Reads and checks a rules file (default: the one shipped, `DEFAULT_EXPOSURE_RULES_FILE`).
 * Throws FlowTrackError IO_ERROR when it cannot be read, BAD_CONFIG listing every problem as
 * `rule "ID" (rules[N]): key: what is wrong (got VALUE)` when it is not valid.
 */
export function loadExposureRules(path: string = DEFAULT_EXPOSURE_RULES_FILE): ExposureRules {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'ENOENT' && path === DEFAULT_EXPOSURE_RULES_FILE
        ? ': the build must copy src/scan/exposure-rules.json beside the compiled scanner (run `npm run build`)'
        : '';
    throw new FlowTrackError(
      ErrorCode.IO_ERROR,
      `cannot read the exposure rules ${path} (${code ?? (err as Error).message})${hint}`,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new FlowTrackError(
      ErrorCode.BAD_CONFIG,
      `invalid exposure rules ${path}: not valid JSON: ${jsonErrorText(err as Error, text)}`,
      { cause: err },
    );
  }
  const { rules, problems } = checkRules(raw);
  if (problems.length > 0) {
    throw new FlowTrackError(
      ErrorCode.BAD_CONFIG,
      `invalid exposure rules ${path}, ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p}`).join('\n'),
    );
  }
  return Object.freeze(rules);
}

/**
 * The finding for one port result, or null when the port is not open. An open port no rule
 * describes gets an info finding with the rule id `open-port`.
 */
export function assessExposure(result: PortResult, rules: ExposureRules): Finding | null {
  if (result.state !== 'open') return null;
  const name = serviceName(result.service);
  const carrier = name !== undefined && CARRIERS.has(name);
  let best: { rule: ExposureRule; kind: number; byService: boolean; index: number } | null = null;
  for (const [index, rule] of rules.entries()) {
    if (rule.protocol !== result.protocol) continue;
    const byService = name !== undefined && rule.services.includes(name);
    const byPort = (name === undefined || carrier) && rule.ports.includes(result.port);
    if (!byService && !byPort) continue;
    if (!detailsMatch(rule, result.service)) continue;
    // 2: the service is what the rule is about; 1: the port says it; 0: only a carrier matched.
    const kind = byService && !carrier ? 2 : byPort ? 1 : 0;
    if (best === null || moreSpecific(rule, kind, best.rule, best.kind)) {
      best = { rule, kind, byService, index };
    }
  }
  if (best === null) {
    return {
      address: result.address,
      protocol: result.protocol,
      port: result.port,
      service: name ?? 'unknown',
      risk: 'info',
      ruleId: OPEN_PORT_RULE_ID,
      title: `Open port: ${name ?? 'unknown service'}`,
      why:
        'No exposure rule describes this service. Every listening port is attack surface: it should be ' +
        'there on purpose, reachable only by those who need it, and kept up to date.',
      fix:
        'If nothing should listen here, stop the service or firewall the port. If it should, describe ' +
        'it in exposure-rules.json so that later scans judge it.',
    };
  }
  const { rule } = best;
  return {
    address: result.address,
    protocol: result.protocol,
    port: result.port,
    // A service match reports the rule's own name for it (nmap's microsoft-ds is smb); a port guess
    // reports what was identified (a carrier) or else what the port usually carries.
    service: best.byService ? rule.services[0]! : (name ?? rule.services[0]!),
    risk: rule.risk,
    ruleId: rule.id,
    title: rule.title,
    why: rule.why,
    fix: rule.fix,
  };
}

/**
 * The findings for every open port of a scan, most serious first, then by address (numerically,
 * IPv4 before IPv6), port and protocol.
 */
export function assessAll(results: readonly PortResult[], rules: ExposureRules): Finding[] {
  const findings: Finding[] = [];
  for (const result of results) {
    const finding = assessExposure(result, rules);
    if (finding !== null) findings.push(finding);
  }
  return findings.sort(
    (a, b) =>
      RISK_ORDER[b.risk] - RISK_ORDER[a.risk] ||
      compareAddresses(a.address, b.address) ||
      a.port - b.port ||
      a.protocol.localeCompare(b.protocol),
  );
}

let shippedRules: ExposureRules | undefined;

/**
 * The service a port usually carries according to the rules (default: the shipped ones), for
 * naming a port no service was identified on: a rule without `when` is preferred, then file order.
 */
export function usualService(
  protocol: ScanProtocol,
  port: number,
  rules: ExposureRules = (shippedRules ??= loadExposureRules()),
): string | undefined {
  let conditional: string | undefined;
  for (const rule of rules) {
    if (rule.protocol !== protocol || !rule.ports.includes(port)) continue;
    if (rule.when === undefined) return rule.services[0];
    conditional ??= rule.services[0];
  }
  return conditional;
}

function serviceName(service: ServiceInfo | undefined): string | undefined {
  const name = service?.name.trim().toLowerCase();
  return name === undefined || UNIDENTIFIED.has(name) ? undefined : name;
}

function detailsMatch(rule: ExposureRule, service: ServiceInfo | undefined): boolean {
  if (rule.when === undefined) return true;
  const details = service?.details;
  if (details === undefined) return false;
  return Object.entries(rule.when).every(
    ([key, value]) => Object.hasOwn(details, key) && details[key] === value,
  );
}

function moreSpecific(rule: ExposureRule, kind: number, than: ExposureRule, thanKind: number): boolean {
  if (kind !== thanKind) return kind > thanKind;
  const whenKeys = Object.keys(rule.when ?? {}).length;
  const thanWhenKeys = Object.keys(than.when ?? {}).length;
  if (whenKeys !== thanWhenKeys) return whenKeys > thanWhenKeys;
  // Equal risk keeps the earlier rule: the caller walks the file in order.
  return RISK_ORDER[rule.risk] > RISK_ORDER[than.risk];
}

function compareAddresses(a: string, b: string): number {
  const x = parseIp(a);
  const y = parseIp(b);
  if (x === null || y === null) {
    if (x !== y) return x === null ? 1 : -1;
    return a.localeCompare(b);
  }
  if (x.version !== y.version) return x.version - y.version;
  for (let i = 0; i < 4; i++) {
    const d = x.words[i]! - y.words[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Checking the file

function checkRules(raw: unknown): { rules: ExposureRule[]; problems: string[] } {
  const problems: string[] = [];
  const rules: ExposureRule[] = [];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { rules, problems: ['the top level must be an object with a "rules" list'] };
  }
  const top = raw as Record<string, unknown>;
  for (const key of Object.keys(top)) {
    if (key !== 'rules' && key !== '$comment') {
      problems.push(`unknown top-level key "${key}" (known: "$comment", "rules")`);
    }
  }
  if (!Array.isArray(top.rules)) {
    problems.push(`"rules" must be a list of rules (got ${shown(top.rules)})`);
    return { rules, problems };
  }
  const seen = new Map<string, number>();
  for (const [index, entry] of (top.rules as unknown[]).entries()) {
    const id =
      typeof entry === 'object' && entry !== null && typeof (entry as { id?: unknown }).id === 'string'
        ? (entry as { id: string }).id
        : undefined;
    const where = id === undefined ? `rules[${index}]` : `rule "${id}" (rules[${index}])`;
    const parsed = ruleSchema.safeParse(entry);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) problems.push(`${where}: ${describeIssue(issue, entry)}`);
      continue;
    }
    const rule = parsed.data;
    if (rule.id === OPEN_PORT_RULE_ID) {
      problems.push(
        `${where}: id: "${OPEN_PORT_RULE_ID}" is taken by the finding for ports no rule describes`,
      );
    }
    const first = seen.get(rule.id);
    if (first !== undefined) problems.push(`${where}: id: "${rule.id}" is already the id of rules[${first}]`);
    else seen.set(rule.id, index);
    rules.push(
      Object.freeze({
        ...rule,
        ports: Object.freeze([...new Set(rule.ports)]),
        services: Object.freeze(rule.services),
        ...(rule.when === undefined ? {} : { when: Object.freeze(rule.when) }),
      }),
    );
  }
  return { rules, problems };
}

function describeIssue(issue: z.core.$ZodIssue, entry: unknown): string {
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => `"${k}"`).join(', ');
    return `unknown key${issue.keys.length === 1 ? '' : 's'} ${keys} (known: ${ruleKeys})`;
  }
  if (issue.path.length === 0) return `${issue.message} (got ${shown(entry)})`;
  const path = issue.path.map((p, i) =>
    typeof p === 'number' ? `[${p}]` : `${i > 0 ? '.' : ''}${String(p)}`,
  );
  const value = valueAt(entry, issue.path);
  const missing = value === undefined && issue.code === 'invalid_type';
  return `${path.join('')}: ${missing ? 'is required' : issue.message}${missing ? '' : ` (got ${shown(value)})`}`;
}

function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let here = value;
  for (const key of path) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = (here as Record<PropertyKey, unknown>)[key];
  }
  return here;
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) return 'nothing';
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** JSON.parse's message on one line, with the line and column it points at when it gives a position. */
function jsonErrorText(err: Error, text: string): string {
  const m = /position (\d+)/.exec(err.message);
  // Without a position V8 quotes the text around the mistake, which is the next best pointer.
  if (!m) return err.message.replace(/\s+/g, ' ');
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return `${err.message.replace(/ in JSON at position \d+.*$/s, '')} at line ${line}, column ${column}`;
}
