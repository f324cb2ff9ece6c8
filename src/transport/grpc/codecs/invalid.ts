/**
 * What a decoder throws for a message that parsed but cannot be a domain value (a required field missing, a
 * number out of range, a oneof case this build does not know), and the checks that throw it. The server
 * answers it with INVALID_ARGUMENT before calling anything, so an invalid message never changes anything.
 */

import { NacosError } from "../../../core/errors.js";
import { MAX_PORT, MAX_WEIGHT } from "../../../core/instance.js";

export class InvalidMessageError extends Error {
  constructor(
    /** Where in the message, e.g. `datums[3].entries[0].version.counter`. */
    readonly path: string,
    readonly problem: string,
  ) {
    super(`${path}: ${problem}`);
    this.name = "InvalidMessageError";
  }
}

/**
 * Counts a peer message's repeated fields may reach. Each is well above what any sender produces (a sync batch
 * holds at most 1,000 keys; a service at most what fits in one message) and bounds what one message can make
 * a receiver allocate and walk.
 */
export const LIMITS = Object.freeze({
  datumsPerMessage: 10_000,
  keysPerQuery: 10_000,
  entriesPerDatum: 200_000,
  digestEntriesPerDetail: 1_000_000,
  writesPerForwardBatch: 10_000,
});

/** A repeated field within its count limit. */
export function atMost<T>(values: readonly T[], max: number, path: string): readonly T[] {
  if (values.length > max) throw new InvalidMessageError(path, `has ${values.length} elements, more than the ${max} allowed`);
  return values;
}

export function present<T>(value: T | undefined, path: string): T {
  if (value === undefined) throw new InvalidMessageError(path, "is required");
  return value;
}

export function nonEmpty(value: string, path: string): string {
  if (value === "") throw new InvalidMessageError(path, "must not be empty");
  return value;
}

/** A 64-bit integer that must fit a JS number exactly (counters, totals, milliseconds). */
export function safeInteger(value: bigint | number, path: string): number {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw new InvalidMessageError(path, `${value} is outside ±(2^53 - 1)`);
  }
  return Number(value);
}

export function inRange(value: number, min: number, max: number, path: string): number {
  if (!(value >= min && value <= max)) throw new InvalidMessageError(path, `${value} is outside ${min}..${max}`);
  return value;
}

export function finite(value: number, path: string): number {
  if (!Number.isFinite(value)) throw new InvalidMessageError(path, `${value} is not a finite number`);
  return value;
}

export const port = (value: number, path: string): number => inRange(value, 0, MAX_PORT, path);

/** Nacos's weight domain (0..`MAX_WEIGHT_VALUE`); NaN and infinities are refused too. */
export const weight = (value: number, path: string): number => inRange(value, 0, MAX_WEIGHT, path);

/** A oneof with no case: unset, or set to a case added by a newer schema (it arrives as an unknown field). */
export function unknownCase(path: string): InvalidMessageError {
  return new InvalidMessageError(path, "is not set, or is a kind this node does not know");
}

/** Runs a core check, reporting its refusal as an invalid message at `path`. */
export function checked(path: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof NacosError) throw new InvalidMessageError(path, err.message);
    throw err;
  }
}
