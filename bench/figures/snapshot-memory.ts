/**
 * `snapshot-memory` (in-process): the largest message a snapshot sender holds at once, the registry streamed in
 * ~256 KiB chunks vs encoded as one message (as Nacos 2.x answers a snapshot request), and whether that single
 * message would pass Nacos 2.x's 10 MiB default limit.
 */
import { row } from "../lib/figure.js";
import { inProcessFigure, snapshotCosts } from "../lib/inprocess.js";

const LIMIT = 10 * 1024 * 1024;
const mib = (n: number): number => n / 1024 / 1024;

export const figure = inProcessFigure(
  "snapshot-memory",
  "snapshot sender, largest message alive: streamed chunks vs one message",
  async (services) => {
    const s = await snapshotCosts(services);
    const note = `${s.instances.toLocaleString("en-US")} instances; the single message ${s.singleBytes > LIMIT ? "exceeds" : "fits"} Nacos 2.x's 10 MiB default limit`;
    return { row: row("streamed vs single message", mib(s.streamedPeak), mib(s.singleBytes), "MiB", "lower", note), raw: s };
  },
);
