/**
 * What a figure is and what it gets: one file in bench/figures/ exports a Figure whose `run` returns rows (one
 * line of the table each: ours, the reference measured in the same run, their ratio) plus every raw number for
 * the JSON. The context carries the checkout under test, the size of the run and a Scope that stops whatever
 * the figure started.
 */
import type { Scope } from "./procs.js";

export type Mode = "smoke" | "quick" | "default" | "full";

export interface Row {
  readonly variant: string;
  readonly ours: number;
  readonly reference: number;
  /** ours ÷ reference (null when there is no meaningful quotient; the note says why). */
  readonly ratio: number | null;
  /** Unit of `ours` and `reference`. */
  readonly unit: string;
  /** What the product asks for, in ratio terms or absolute (free text; "" when none). */
  readonly target: string;
  readonly note: string;
}

export interface FigureResult {
  readonly rows: readonly Row[];
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface FigureContext {
  /** The checkout whose dist/src/main.js is run. */
  readonly root: string;
  /** Whether `root` is this checkout (in-process figures import its src/ and run only then). */
  readonly thisCheckout: boolean;
  readonly mode: Mode;
  /** The value for this run's mode. */
  pick<T>(byMode: Readonly<Record<Mode, T>>): T;
  readonly scope: Scope;
  log(message: string): void;
}

/**
 * A figure: `setup` starts what it measures (processes, the wait for their readiness — a fresh cluster takes
 * ~10 s to decide there is no snapshot to load), `run` measures. In `--smoke` every setup runs at once before
 * the first figure, so the waits overlap; otherwise each setup runs right before its figure, on a quiet machine.
 */
export interface Figure<S = void> {
  readonly name: string;
  /** One line: what is measured against what. */
  readonly title: string;
  /** Only against this checkout (imports its src/); skipped with `--root` elsewhere. */
  readonly inProcess?: true;
  setup?(ctx: FigureContext): Promise<S>;
  run(ctx: FigureContext, setup: S): Promise<FigureResult>;
}

/** A row whose ratio is ours ÷ reference. */
export function row(variant: string, ours: number, reference: number, unit: string, target: string, note = ""): Row {
  return { variant, ours, reference, ratio: reference === 0 ? null : ours / reference, unit, target, note };
}
