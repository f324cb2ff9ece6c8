/**
 * A Scheduler with a virtual clock and a seeded random source. Time moves only when a test or the simulator
 * calls `advance`; timers fire in (time, insertion) order and the promise jobs each one starts are settled
 * before the next fires, so the same seed and inputs always give the same run.
 */
import type { Scheduler, TimerHandle } from "../core/scheduler.js";

interface Timer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/** splitmix32: small, fast and good enough to drive fault injection reproducibly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    z = (z ^ (z >>> 16)) >>> 0;
    return z / 0x1_0000_0000;
  };
}

/** Lets every pending promise job run (a macrotask boundary drains the microtask queue). */
export const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class VirtualScheduler implements Scheduler {
  private current: number;
  private seq = 0;
  private readonly heap: Timer[] = [];
  private readonly rand: () => number;
  readonly errors: unknown[] = [];

  constructor(seed = 1, startAt = 1_700_000_000_000) {
    this.current = startAt;
    this.rand = seededRandom(seed);
  }

  now(): number {
    return this.current;
  }

  random(): number {
    return this.rand();
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer: Timer = { at: this.current + Math.max(0, delayMs), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  get pending(): number {
    return this.heap.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.runUntil(this.current + ms);
  }

  async runUntil(target: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.heap[0];
      if (next === undefined || next.at > target) break;
      this.pop();
      if (next.cancelled) continue;
      this.current = next.at;
      try {
        next.fn();
      } catch (err) {
        this.errors.push(err);
      }
      await settle();
    }
    this.current = Math.max(this.current, target);
  }

  /**
   * Advances time timer by timer until `promise` settles (a simulated client waiting for its answer),
   * at most `maxMs`; then returns its outcome.
   */
  async runUntilSettled<T>(promise: Promise<T>, maxMs: number): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => {});
    const limit = this.current + maxMs;
    await settle();
    while (!settled) {
      const next = this.nextDue();
      if (next === undefined || next > limit) {
        await this.runUntil(limit);
        break;
      }
      await this.runUntil(next);
    }
    if (!settled) throw new Error(`still pending after ${maxMs} ms of virtual time`);
    return tracked;
  }

  private nextDue(): number | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0]?.at;
  }

  private push(t: Timer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(h[i]!, h[parent]!)) break;
      [h[i], h[parent]] = [h[parent]!, h[i]!];
      i = parent;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let min = i;
      if (l < h.length && before(h[l]!, h[min]!)) min = l;
      if (r < h.length && before(h[r]!, h[min]!)) min = r;
      if (min === i) break;
      [h[i], h[min]] = [h[min]!, h[i]!];
      i = min;
    }
  }
}

const before = (a: Timer, b: Timer): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);
