/**
 * `snapshot-encoding` (in-process): instances per second a snapshot sender encodes, streamed in ~256 KiB chunks
 * vs encoded as one message: streaming must not cost throughput for its memory bound.
 */
import { row } from "../lib/figure.js";
import { inProcessFigure, snapshotCosts } from "../lib/inprocess.js";

export const figure = inProcessFigure(
  "snapshot-encoding",
  "snapshot encoding throughput: streamed chunks vs one message",
  async (services) => {
    const s = await snapshotCosts(services);
    const note = `${s.instances.toLocaleString("en-US")} instances, in the bench process`;
    return { row: row("streamed vs single message", s.streamedRate, s.singleRate, "inst/s", "≥ 1.00", note), raw: s };
  },
);
