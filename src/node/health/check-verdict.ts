/**
 * What Nacos 1.4's HealthCheckCommon decides from one probe of an instance, as pure functions: whether its
 * health flips (after `checkTimes` consecutive results the other way, or at once when the endpoint refused),
 * and when to probe it next (an interval that follows the endpoint's response time within the switch's bounds).
 */
import type { ProbeResult } from "../ports.js";

/** A `tcpHealthParams` / `httpHealthParams` switch: the interval's bounds and how slowly it follows. */
export interface HealthParams {
  readonly min: number;
  readonly max: number;
  readonly factor: number;
}

/** The consecutive results counted so far; both reset when health flips. */
export interface Streak {
  passes: number;
  failures: number;
}

/**
 * The instance's new health when this result flips it, else undefined. A pass clears the failures and a
 * failure the passes, so only consecutive results count, as in 1.4.
 */
export function verdict(streak: Streak, healthy: boolean, result: ProbeResult, checkTimes: number): boolean | undefined {
  let flip = false;
  if (result === "up") {
    streak.failures = 0;
    if (!healthy) flip = ++streak.passes >= checkTimes;
  } else {
    streak.passes = 0;
    if (healthy) flip = result === "down" || result === "refused" || ++streak.failures >= checkTimes;
  }
  if (!flip) return undefined;
  streak.passes = 0;
  streak.failures = 0;
  return !healthy;
}

/**
 * 1.4's reEvaluateCheckRT: the next interval moves from the current one toward the probe's cost — its response
 * time when it passed, twice the interval when it failed (a busy endpoint is given room), the maximum when it
 * was refused (by the endpoint or by this node) — and stays within [min, max].
 */
export function nextInterval(params: HealthParams, intervalMs: number, result: ProbeResult, responseMs: number): number {
  const cost = result === "up" ? responseMs : result === "failing" ? intervalMs * 2 : params.max;
  const next = Math.floor(params.factor * intervalMs + (1 - params.factor) * cost);
  return Math.min(params.max, Math.max(params.min, next));
}

/** 1.4's first delay of a cluster's check: 2 s plus a random share of the maximum interval, so checks spread out. */
export function firstDelay(params: HealthParams, random: () => number): number {
  const bound = Math.floor(random() * params.max);
  return 2000 + Math.floor(random() * bound);
}
