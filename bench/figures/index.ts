/**
 * The registry of figures, in the order a full run measures them: name → the module that defines it, loaded
 * only when that figure runs (a figure whose imports break fails alone, not the suite). Adding a figure is one
 * file bench/figures/<name>.ts exporting `figure` and one line here.
 */
import type { Figure } from "../lib/figure.js";

/** `any`: each figure has its own setup type. */
export type Loader = () => Promise<{ figure: Figure<any> }>;

export const FIGURES: ReadonlyArray<readonly [string, Loader]> = [
  ["aa-noise", () => import("./aa-noise.js")],
  ["register", () => import("./register.js")],
  ["reregister", () => import("./reregister.js")],
  ["list", () => import("./list.js")],
  ["cluster-writes", () => import("./cluster-writes.js")],
  ["replication-lag", () => import("./replication-lag.js")],
  ["push-latency", () => import("./push-latency.js")],
  ["nacos2-register", () => import("./nacos2-register.js")],
  ["connection-memory", () => import("./connection-memory.js")],
  ["refusals", () => import("./refusals.js")],
  ["join", () => import("./join.js")],
  ["verify-traffic", () => import("./verify-traffic.js")],
  ["snapshot-memory", () => import("./snapshot-memory.js")],
  ["snapshot-encoding", () => import("./snapshot-encoding.js")],
  ["memory", () => import("./memory.js")],
  ["wire-bytes", () => import("./wire-bytes.js")],
  ["durable-writes", () => import("./durable-writes.js")],
];
