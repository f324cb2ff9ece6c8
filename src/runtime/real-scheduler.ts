/** The Scheduler of a real node: wall clock, Node timers, Math.random. */
import type { Scheduler, TimerHandle } from "../core/scheduler.js";

export class RealScheduler implements Scheduler {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly onError: (err: unknown) => void = () => {}) {}

  now(): number {
    return Date.now();
  }

  schedule(delayMs: number, fn: () => void): TimerHandle {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        try {
          fn();
        } catch (err) {
          this.onError(err);
        }
      },
      Math.max(0, delayMs),
    );
    this.timers.add(timer);
    return {
      cancel: () => {
        clearTimeout(timer);
        this.timers.delete(timer);
      },
    };
  }

  random(): number {
    return Math.random();
  }

  /** Cancels every pending timer; a stopping node calls it so the process can exit. */
  cancelAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
