/**
 * The output of a run: one plain-text table (figure, variant, ours, reference, ratio, target, note) for people,
 * and one JSON document with every raw number and where it was measured, for comparing runs later.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Mode, Row } from "./figure.js";
import type { RunMeta } from "./env.js";

export interface FigureOutcome {
  readonly name: string;
  readonly title: string;
  readonly ms: number;
  readonly rows: readonly Row[];
  readonly raw?: unknown;
  readonly error?: string;
  readonly skipped?: string;
}

export interface RunReport {
  readonly meta: RunMeta & { readonly mode: Mode; readonly argv: readonly string[]; readonly startedAt: string; readonly ms: number };
  readonly warnings: readonly string[];
  readonly figures: readonly FigureOutcome[];
}

function number(v: number): string {
  if (!Number.isFinite(v)) return "—";
  const a = Math.abs(v);
  if (a >= 100) return Math.round(v).toLocaleString("en-US");
  return v.toFixed(a >= 10 ? 1 : 2);
}

const value = (v: number, unit: string): string => (Number.isFinite(v) ? `${number(v)} ${unit}` : "—");

export function ratioText(r: number | null): string {
  if (r === null || !Number.isFinite(r)) return "—";
  return `${r !== 0 && Math.abs(r) < 0.01 ? r.toPrecision(2) : r.toFixed(2)}×`;
}

function lines(f: FigureOutcome): string[][] {
  if (f.error !== undefined) return [[f.name, "ERROR", "", "", "", "", f.error.replace(/\s+/g, " ").slice(0, 300)]];
  if (f.skipped !== undefined) return [[f.name, "skipped", "", "", "", "", f.skipped]];
  return f.rows.map((r) => [f.name, r.variant, value(r.ours, r.unit), value(r.reference, r.unit), ratioText(r.ratio), r.target, r.note]);
}

export function table(report: RunReport): string {
  const m = report.meta;
  const head = [
    `ts-nacos bench (${m.mode}) — root ${m.root} @ ${m.commit.slice(0, 12)}${m.dirty ? "+changes" : ""}; node ${m.node}; ${m.cpu} × ${m.cores}`,
    "ratio = ours ÷ reference, both measured in this run",
    ...report.warnings.map((w) => `warning: ${w}`),
    "",
  ];
  const rows = [["figure", "variant", "ours", "reference", "ratio", "target", "note"], ...report.figures.flatMap(lines)];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const render = (r: string[]): string =>
    r
      .map((cell, c) => (c === r.length - 1 ? cell : c >= 2 && c <= 4 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  const rule = widths.map((w) => "-".repeat(w)).join("  ");
  return [...head, render(rows[0]!), rule, ...rows.slice(1).map(render)].join("\n");
}

export function writeJson(file: string, report: RunReport): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
}
