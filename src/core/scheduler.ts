/**
 * Time, timers and randomness for everything that decides. The core never reads the wall clock or calls
 * setTimeout itself, so a whole cluster can run under a virtual clock and replay from a seed.
 */
export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  /** Milliseconds since the epoch (real) or since the simulation start (virtual). */
  now(): number;
  /** Runs `fn` once after `delayMs`. Errors thrown by `fn` are the scheduler's to report, never to propagate. */
  schedule(delayMs: number, fn: () => void): TimerHandle;
  /** Uniform in [0, 1); seeded under simulation. */
  random(): number;
}

/**
 * Runs `task` every `periodMs` with a fixed delay between the end of one run and the start of the next
 * (Nacos schedules its periodic work the same way), so a slow async run never overlaps the next one.
 */
export function every(scheduler: Scheduler, periodMs: number, task: () => void | Promise<void>, initialDelayMs = periodMs): TimerHandle {
  let stopped = false;
  let current: TimerHandle | undefined;
  const run = async (): Promise<void> => {
    try {
      await task();
    } catch {
      // A failing periodic task is retried on the next period; the task reports its own errors.
    }
    if (!stopped) current = scheduler.schedule(periodMs, () => void run());
  };
  current = scheduler.schedule(initialDelayMs, () => void run());
  return {
    cancel(): void {
      stopped = true;
      current?.cancel();
    },
  };
}

/** A promise that resolves after `ms` of scheduler time. */
export function sleep(scheduler: Scheduler, ms: number): Promise<void> {
  return new Promise((resolve) => scheduler.schedule(ms, resolve));
}
