/**
 * A bound on the rows anonymous callers add to the cluster tables. With auth off (the default) everyone is
 * anonymous, and every row travels in every member report and stays in every data directory: 10,000
 * namespaces created in 10 s outgrew what a report may carry. So anonymous creations share one token
 * bucket — a burst, then one per interval — and callers signed in (with auth on, only administrators may
 * create) are not limited. Users, roles and permissions are never anonymous: their API is served only with
 * auth on, to administrators.
 */
import { NacosError } from "../core/errors.js";

export interface CreationLimits {
  /** Creations allowed at once. */
  readonly burst: number;
  /** One more is allowed after each such interval. */
  readonly intervalMs: number;
}

/** A person at the console creates a few namespaces a minute; 10 s allow at most 30. */
export const ANONYMOUS_CREATIONS: CreationLimits = { burst: 20, intervalMs: 1000 };

export class CreationBudget {
  private available: number;
  private refilledAt: number;

  constructor(
    private readonly what: string,
    private readonly limits: CreationLimits = ANONYMOUS_CREATIONS,
  ) {
    this.available = limits.burst;
    this.refilledAt = Number.NEGATIVE_INFINITY;
  }

  /** Spends one creation at `now`, or refuses with 429 and when the next one will be allowed. */
  spend(now: number): void {
    const earned = Math.floor((now - this.refilledAt) / this.limits.intervalMs);
    if (earned > 0) {
      this.available = Math.min(this.limits.burst, this.available + earned);
      this.refilledAt = this.available === this.limits.burst ? now : this.refilledAt + earned * this.limits.intervalMs;
    }
    if (this.available === 0) {
      const waitS = Math.ceil((this.refilledAt + this.limits.intervalMs - now) / 1000);
      throw new NacosError(429, `too many ${this.what} created without signing in, try again in ${waitS} s`);
    }
    this.available--;
  }
}
