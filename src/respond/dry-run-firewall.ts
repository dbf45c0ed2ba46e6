/**
 * The dry-run backend, the default until an admin enables enforcement: it keeps the state a real
 * backend would enforce (blocks expire on time, as the kernel's do) and records each change it
 * would have made, so the dashboard and the audit log can show what enforcement would do, but it
 * touches no rule of the host.
 */

import {
  checkInterface,
  checkPort,
  sourceKey,
  type BackendOptions,
  type BlockedSource,
  type ClosedPort,
  type FirewallBackend,
  type FirewallState,
} from './firewall-backend.js';

/** A change the dry-run backend would have made. */
export interface DryRunAction {
  at: number;
  action: 'apply' | 'block' | 'unblock' | 'flush';
  /** Addresses or ports concerned ('' for flush). */
  detail: string;
}

/** Actions kept, the oldest going first. */
const MAX_ACTIONS = 1000;

export class DryRunFirewall implements FirewallBackend {
  readonly name = 'dry-run';
  /** By source and interface: one address may be blocked on two interfaces. */
  private blocked = new Map<string, BlockedSource>();
  /** Null until the first apply and after a flush: nothing would be set up. */
  private closedPorts: ClosedPort[] | null = null;
  private readonly log: DryRunAction[] = [];
  private readonly now: () => number;

  constructor(options: Pick<BackendOptions, 'now'> = {}) {
    this.now = options.now ?? Date.now;
  }

  /** What it would have done, oldest first (the last MAX_ACTIONS). */
  get actions(): readonly DryRunAction[] {
    return this.log;
  }

  apply(state: FirewallState): Promise<void> {
    return settled(() => {
      for (const p of state.closedPorts) {
        checkPort(p.port);
        if (p.interface !== undefined) checkInterface(p.interface);
      }
      this.blocked = new Map(state.blocked.map((b) => [key(b), { ...b }]));
      this.closedPorts = state.closedPorts.map((p) => ({ ...p }));
      this.record('apply', [
        ...state.blocked.map(describeBlock),
        ...state.closedPorts.map((p) => `${p.protocol}/${p.port}${onInterface(p.interface)}`),
      ]);
    });
  }

  block(sources: readonly BlockedSource[]): Promise<void> {
    return settled(() => {
      // Every source is checked before any is kept, as a real backend's one transaction fails whole.
      const keyed = sources.map((b) => [key(b), { ...b }] as const);
      for (const [k, b] of keyed) this.blocked.set(k, b);
      this.record('block', sources.map(describeBlock));
    });
  }

  unblock(addresses: readonly string[]): Promise<void> {
    return settled(() => {
      // On every interface, as the real backends do.
      const lifted = new Set(addresses.map(sourceKey));
      for (const [k, b] of this.blocked) if (lifted.has(sourceKey(b.address))) this.blocked.delete(k);
      this.record('unblock', addresses);
    });
  }

  read(): Promise<FirewallState | null> {
    return settled(() => {
      if (this.closedPorts === null) return null;
      const now = this.now();
      for (const [k, b] of this.blocked)
        if (b.expiresAt !== null && b.expiresAt <= now) this.blocked.delete(k);
      return { blocked: [...this.blocked.values()], closedPorts: [...this.closedPorts] };
    });
  }

  flush(): Promise<void> {
    return settled(() => {
      this.closedPorts = null;
      this.blocked.clear();
      this.record('flush', []);
    });
  }

  private record(action: DryRunAction['action'], items: readonly string[]): void {
    this.log.push({ at: this.now(), action, detail: items.join(', ') });
    if (this.log.length > MAX_ACTIONS) this.log.shift();
  }
}

/**
 * One key per source and interface however the source is written (checked: a bad address or
 * interface name throws BAD_REQUEST).
 */
function key(block: BlockedSource): string {
  const on = block.interface === undefined ? '' : checkInterface(block.interface);
  return `${sourceKey(block.address)}|${on}`;
}

/** A block as the action log shows it: `203.0.113.7`, `203.0.113.7 on eth0`. */
function describeBlock(block: BlockedSource): string {
  return `${block.address}${onInterface(block.interface)}`;
}

function onInterface(name: string | undefined): string {
  return name === undefined ? '' : ` on ${name}`;
}

/** `work()`'s result as a promise, its throw as a rejection (as the real backends fail). */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(work());
  });
}
