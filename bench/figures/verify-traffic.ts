/**
 * `verify-traffic` (in-process): bytes one anti-entropy round sends each peer in a converged 3-member cluster,
 * ts-nacos's 64 bucket hashes vs the `{key: checksum}` map Nacos 1.4 sends for the same keys.
 */
import { row } from "../lib/figure.js";
import { inProcessFigure, registry, verifyTraffic } from "../lib/inprocess.js";

export const figure = inProcessFigure(
  "verify-traffic",
  "verify bytes per peer and period (converged): ts-nacos bucketed summary vs Nacos 1.4 checksum map",
  async (services) => {
    const v = verifyTraffic(registry(services));
    const note = `${services.toLocaleString("en-US")} services × 10 instances, 3 members, ${v.keys} keys owned; ${(v.nacos14 / v.ours).toFixed(0)}× less`;
    return { row: row("verify summary vs 1.4 checksum map", v.ours, v.nacos14, "B", "lower", note), raw: v };
  },
);
