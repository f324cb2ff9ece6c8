/**
 * What a push costs its subscriber: the time from its first send to its ack. Nacos 1.4 reports the longest and
 * the average cost of the acks since its previous 15-s collection (`maxPushCost`, `avgPushCost`, -1 when none);
 * this keeps the same numbers per 15-s window and shows those of the last complete one, so any number of
 * scrapers read the same values and none resets them for the others.
 */

/** 1.4's metric collection period. */
export const PUSH_COST_WINDOW_MS = 15_000;

export interface PushCostSummary {
  /** Longest cost in the window, ms; -1 when nothing was acked in it (as 1.4). */
  readonly maxMs: number;
  /** Mean cost, whole ms as 1.4's long division gives it; -1 when nothing was acked. */
  readonly avgMs: number;
}

const NONE: PushCostSummary = Object.freeze({ maxMs: -1, avgMs: -1 });

interface Window {
  readonly start: number;
  max: number;
  sum: number;
  count: number;
}

export class PushCosts {
  private window: Window;
  private previous: PushCostSummary = NONE;

  constructor(now: number) {
    this.window = { start: now, max: -1, sum: 0, count: 0 };
  }

  record(costMs: number, now: number): void {
    this.roll(now);
    this.window.max = Math.max(this.window.max, costMs);
    this.window.sum += costMs;
    this.window.count++;
  }

  /** The last complete window's numbers. */
  read(now: number): PushCostSummary {
    this.roll(now);
    return this.previous;
  }

  /** Closes the current window once its time is up; a window with no acks at all in between reads as none. */
  private roll(now: number): void {
    const elapsed = now - this.window.start;
    if (elapsed < PUSH_COST_WINDOW_MS) return;
    const w = this.window;
    this.previous = elapsed >= 2 * PUSH_COST_WINDOW_MS || w.count === 0 ? NONE : { maxMs: w.max, avgMs: Math.floor(w.sum / w.count) };
    this.window = { start: now - (elapsed % PUSH_COST_WINDOW_MS), max: -1, sum: 0, count: 0 };
  }
}
