/**
 * The dry-run backend, the default until an admin enables enforcement: it keeps the state a real
 * backend would enforce (blocks expire on time, as the kernel's do) and records each change it
 * would have made, so the dashboard and the audit log can show what enforcement would do, but it
 * touches no rule of the host.
 */

import {
  addressValue,
  checkPort,
  parseSource,
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
      for (const p of state.closedPorts) checkPort(p.port);
      this.blocked = new Map(state.blocked.map((b) => [key(b.address), { ...b }]));
      this.closedPorts = state.closedPorts.map((p) => ({ ...p }));
      this.record('apply', [
        ...state.blocked.map((b) => b.address),
        ...state.closedPorts.map((p) => `${p.protocol}/${p.port}`),
      ]);
    });
  }

  block(sources: readonly BlockedSource[]): Promise<void> {
    return settled(() => {
      for (const b of sources) this.blocked.set(key(b.address), { ...b });
      this.record(
        'block',
        sources.map((b) => b.address),
      );
    });
  }

  unblock(addresses: readonly string[]): Promise<void> {
    return settled(() => {
      for (const address of addresses) this.blocked.delete(key(address));
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

/** One key per source however it is written (checked: a bad address throws BAD_REQUEST). */
function key(address: string): string {
  const s = parseSource(address);
  return `${s.family}|${addressValue(s)}|${s.len}`;
}

/** `work()`'s result as a promise, its throw as a rejection (as the real backends fail). */
function settled<T>(work: () => T): Promise<T> {
  return new Promise((resolve) => {
    resolve(work());
  });
}
