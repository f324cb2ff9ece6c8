/**
 * Where a run ran: the commit of the checkout under test (and whether its sources had changes), node, the CPU; and
 * whether that checkout's dist/ is older than its src/, because the nodes run the compiled code and a stale
 * build would be measured under the wrong name.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";

export interface RunMeta {
  readonly root: string;
  readonly commit: string;
  /** src/ or gen/ (what the nodes and in-process figures run) differ from `commit`. */
  readonly dirty: boolean;
  readonly node: string;
  readonly cpu: string;
  readonly cores: number;
}

function git(root: string, args: string[]): string {
  try {
    return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", timeout: 10_000 }).trim();
  } catch {
    return "";
  }
}

export function runMeta(root: string): RunMeta {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  return {
    root,
    commit: git(root, ["rev-parse", "HEAD"]) || "unknown",
    dirty: git(root, ["status", "--porcelain", "--", "src", "gen", "package-lock.json"]) !== "",
    node: process.version,
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
  };
}

function* tsFiles(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* tsFiles(full);
    else if (entry.name.endsWith(".ts")) yield full;
  }
}

/** src/ and gen/ files newer than their compiled dist/ counterpart (or without one). */
export function staleSources(root: string): string[] {
  const out: string[] = [];
  for (const dir of ["src", "gen"]) {
    if (!existsSync(path.join(root, dir))) continue;
    for (const file of tsFiles(path.join(root, dir))) {
      const compiled = path.join(root, "dist", path.relative(root, file)).replace(/\.ts$/, ".js");
      if (!existsSync(compiled) || statSync(compiled).mtimeMs < statSync(file).mtimeMs) out.push(path.relative(root, file));
    }
  }
  return out;
}
