/**
 * Pipelined forwards to one member: writes forwarded while a batch is in flight wait for the next batch,
 * so a busy member gets one ForwardBatch call per round trip instead of one Forward per write. An idle
 * batcher sends at once (at the end of the current turn, so writes arriving together leave together).
 * Each write's promise settles with its own outcome; a failed call fails every write it carried.
 */
import type { ClientWrite } from "../../core/ops.js";
import type { ForwardOutcome } from "../../node/ports.js";

interface Waiting {
  readonly write: ClientWrite;
  readonly resolve: (outcome: ForwardOutcome) => void;
  readonly reject: (err: unknown) => void;
}

export interface BatcherLimits {
  /** Writes per call. */
  readonly maxWrites: number;
  /** Estimated bytes per call (`bytesOf`), so one call stays within the message limit. */
  readonly maxBytes: number;
  /** Calls in flight at once. */
  readonly maxInFlight: number;
}

export class ForwardBatcher {
  private queue: Waiting[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(
    private readonly send: (writes: readonly ClientWrite[]) => Promise<readonly ForwardOutcome[]>,
    private readonly limits: BatcherLimits,
    private readonly bytesOf: (write: ClientWrite) => number,
  ) {}

  submit(write: ClientWrite): Promise<ForwardOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ write, resolve, reject });
      this.kick();
    });
  }

  private kick(): void {
    if (this.scheduled || this.queue.length === 0 || this.inFlight >= this.limits.maxInFlight) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /** The next writes that fit one call (at least one). */
  private take(): Waiting[] {
    let count = 0;
    let bytes = 0;
    for (const w of this.queue) {
      bytes += this.bytesOf(w.write);
      if (count > 0 && (count >= this.limits.maxWrites || bytes > this.limits.maxBytes)) break;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private flush(): void {
    while (this.queue.length > 0 && this.inFlight < this.limits.maxInFlight) {
      const batch = this.take();
      this.inFlight++;
      this.send(batch.map((w) => w.write))
        .then(
          (outcomes) => {
            for (const [i, w] of batch.entries()) w.resolve(outcomes[i]!);
          },
          (err: unknown) => {
            for (const w of batch) w.reject(err);
          },
        )
        .finally(() => {
          this.inFlight--;
          this.kick();
        });
    }
  }
}
