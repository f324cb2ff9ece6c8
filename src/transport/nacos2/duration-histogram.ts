/**
 * Durations counted into fixed buckets, as Prometheus histograms count them, kept as plain numbers so the port
 * that measures them needs no metrics library (the API formats them: api/metrics.ts).
 */

/** Upper bounds in seconds: from a fraction of a millisecond (a request answered from memory) to 10 s. */
export const DURATION_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];

/** A histogram's state: per upper bound the observations at or below it (cumulative), then their sum and count. */
export interface DurationSummary {
  readonly buckets: ReadonlyArray<readonly [number, number]>;
  readonly sumSeconds: number;
  readonly count: number;
}

export class DurationHistogram {
  /** Observations per bucket (not cumulative); the last one is above every bound. */
  private readonly perBucket = new Array<number>(DURATION_BUCKETS_SECONDS.length + 1).fill(0);
  private sumSeconds = 0;
  private count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < DURATION_BUCKETS_SECONDS.length && seconds > DURATION_BUCKETS_SECONDS[i]!) i++;
    this.perBucket[i]!++;
    this.sumSeconds += seconds;
    this.count++;
  }

  summary(): DurationSummary {
    const buckets: Array<readonly [number, number]> = [];
    let below = 0;
    for (const [i, bound] of DURATION_BUCKETS_SECONDS.entries()) {
      below += this.perBucket[i]!;
      buckets.push([bound, below]);
    }
    return { buckets, sumSeconds: this.sumSeconds, count: this.count };
  }
}
