/**
 * A simulated data directory: the DurableStore of one simulated node, kept by the simulation across the
 * node's restarts (or thrown away, for a restart from an empty disk). Every put is durable at once; the
 * values are copied through JSON as the real log does, so nothing the node holds is shared with its disk.
 */
import type { DurableStore } from "../node/ports.js";

export class SimDisk implements DurableStore {
  private readonly data = new Map<string, string>();
  private count = 0;

  *entries(): IterableIterator<readonly [string, unknown]> {
    for (const [key, text] of this.data) yield [key, JSON.parse(text) as unknown];
  }

  put(key: string, value: unknown): void {
    this.data.set(key, JSON.stringify(value));
    this.count++;
  }

  remove(key: string): void {
    if (this.data.delete(key)) this.count++;
  }

  get changes(): number {
    return this.count;
  }

  get size(): number {
    return this.data.size;
  }

  durable(): Promise<void> {
    return Promise.resolve();
  }
}
