/**
 * At most one event per period for each key: a peer that keeps sending the same bad thing is logged once a
 * period, not once a message, so a misbehaving member can neither flood the log nor hide in it.
 */
export class Throttle {
  private readonly last = new Map<string, number>();

  constructor(
    private readonly clock: () => number,
    private readonly periodMs: number,
  ) {}

  /** True when `key` has had no event in the last period (and records this one). */
  allow(key: string): boolean {
    const now = this.clock();
    const at = this.last.get(key);
    if (at !== undefined && now - at < this.periodMs) return false;
    this.last.set(key, now);
    return true;
  }
}
