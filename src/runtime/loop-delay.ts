/**
 * How long the event loop was blocked: the figure that tells an operator (and the benchmarks) whether some
 * piece of work stalls every request behind it. Reported as the longest delay since the previous reading,
 * so each /metrics scrape sees the worst stall of its interval.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";

export class LoopDelay {
  private readonly histogram: IntervalHistogram;

  constructor(resolutionMs = 10) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /** The longest delay (ms) since the previous call, and its 99th percentile. */
  take(): { maxMs: number; p99Ms: number } {
    const h = this.histogram;
    const out = { maxMs: h.count === 0 ? 0 : h.max / 1e6, p99Ms: h.count === 0 ? 0 : h.percentile(99) / 1e6 };
    h.reset();
    return out;
  }

  close(): void {
    this.histogram.disable();
  }
}
