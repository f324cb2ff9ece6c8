/**
 * Nacos's NacosDelayTaskExecuteEngine, reduced to what Distro needs: tasks keyed by an id, due after a
 * delay, where adding a task that is already pending merges into it and keeps the earlier due time. A burst
 * of writes to one key therefore turns into one piece of work, and no task waits longer than its delay
 * plus one tick. Due times are rounded up to whole ticks (100 ms, as Nacos's engine ticks), so a steady
 * stream of writes costs one scan per tick, not one per write.
 */
import type { Scheduler, TimerHandle } from "../../core/scheduler.js";

export class DelayTaskEngine<K> {
  private readonly due = new Map<K, number>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;

  constructor(
    private readonly scheduler: Scheduler,
    private readonly dispatch: (keys: K[]) => void,
    private readonly tickMs = 100,
  ) {}

  add(key: K, delayMs: number): void {
    const at = Math.ceil((this.scheduler.now() + delayMs) / this.tickMs) * this.tickMs;
    const existing = this.due.get(key);
    if (existing !== undefined && existing <= at) return;
    this.due.set(key, at);
    this.arm(at);
  }

  /** Drops a pending task (e.g. its target left the cluster). */
  remove(predicate: (key: K) => boolean): void {
    for (const key of [...this.due.keys()]) if (predicate(key)) this.due.delete(key);
  }

  get size(): number {
    return this.due.size;
  }

  /** Makes every pending task due now (a node that is stopping sends what it holds instead of waiting). */
  fireAll(): void {
    if (this.due.size === 0) return;
    const all = [...this.due.keys()];
    this.due.clear();
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.dispatch(all);
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.due.clear();
  }

  private arm(at: number): void {
    if (at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.scheduler.schedule(at - this.scheduler.now(), () => this.fire());
  }

  private fire(): void {
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    const now = this.scheduler.now();
    const ready: K[] = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [key, at] of this.due) {
      if (at <= now) ready.push(key);
      else next = Math.min(next, at);
    }
    for (const key of ready) this.due.delete(key);
    if (next !== Number.POSITIVE_INFINITY) this.arm(next);
    if (ready.length > 0) this.dispatch(ready);
  }
}
