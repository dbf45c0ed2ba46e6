/**
 * Where logged-in admins are connected from, so that no block cuts one of them off. An address is
 * remembered from an admin's sign-in and from each request an admin makes, for as long as the
 * session could last (the refresh token's lifetime); a restarted server learns it again from the
 * admin's next request.
 */

export class AdminSessions {
  private readonly seen = new Map<string, { user: string; until: number }>();

  constructor(
    private readonly lifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** An admin `user` was seen at `ip`. */
  saw(ip: string, user: string): void {
    // An IPv4 client on a dual-stack socket shows as ::ffff:192.0.2.1; the firewall sees 192.0.2.1.
    const address = ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
    this.seen.delete(address);
    this.seen.set(address, { user, until: this.now() + this.lifetimeMs });
    if (this.seen.size > 10_000) this.prune();
  }

  /** The addresses of sessions that may still be live. */
  addresses(): string[] {
    this.prune();
    return [...this.seen.keys()];
  }

  private prune(): void {
    const now = this.now();
    for (const [address, session] of this.seen) if (session.until <= now) this.seen.delete(address);
  }
}
