/**
 * Probe changes and where they were seen: a probe is a write whose answer starts its clock (the change is then
 * committed on its node), and each observer (a peer polled for it, a UDP subscriber) stops it once when it first
 * sees the change. Sightings before the write's own answer arrived count as 0 ms.
 */
import { percentile } from "./load.js";

interface Probe {
  committedAt: number | undefined;
  readonly seenAt: Map<string, number>;
}

export class Probes {
  private readonly probes = new Map<string, Probe>();

  constructor(readonly observers: readonly string[]) {}

  get size(): number {
    return this.probes.size;
  }

  add(id: string): void {
    this.probes.set(id, { committedAt: undefined, seenAt: new Map() });
  }

  committed(id: string, at = performance.now()): void {
    const p = this.probes.get(id);
    if (p !== undefined) p.committedAt = at;
  }

  /** Records the first sighting of `id` by `observer`; true when that was the last observer to see it. */
  seen(id: string, observer: string, at = performance.now()): boolean {
    const p = this.probes.get(id);
    if (p === undefined || p.seenAt.has(observer)) return false;
    p.seenAt.set(observer, at);
    return p.seenAt.size === this.observers.length;
  }

  /** Probes `observer` has not seen yet. */
  pending(observer: string): string[] {
    return [...this.probes].filter(([, p]) => !p.seenAt.has(observer)).map(([id]) => id);
  }

  get allSeen(): boolean {
    return [...this.probes.values()].every((p) => p.seenAt.size === this.observers.length);
  }

  /** Lags in ms, sorted, of the given observers' sightings of committed probes. */
  lags(observers: readonly string[] = this.observers): number[] {
    const out: number[] = [];
    for (const p of this.probes.values()) {
      if (p.committedAt === undefined) continue;
      for (const o of observers) {
        const at = p.seenAt.get(o);
        if (at !== undefined) out.push(Math.max(0, at - p.committedAt));
      }
    }
    return out.sort((a, b) => a - b);
  }

  /** Sightings still missing (probes × observers). */
  missing(): number {
    let n = 0;
    for (const p of this.probes.values()) n += this.observers.length - p.seenAt.size;
    return n;
  }

  summary(observers: readonly string[] = this.observers): { p50: number; p99: number; max: number; count: number } {
    const l = this.lags(observers);
    return { p50: percentile(l, 50), p99: percentile(l, 99), max: l.at(-1) ?? Number.NaN, count: l.length };
  }
}
