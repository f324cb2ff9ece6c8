/**
 * pino's JSON lines as a person reads them on a terminal (`--log-format pretty`):
 *
 *   2026-12-06T19:15:31.123Z INFO  member is unreachable peer=127.0.0.1:8850 error="14 UNAVAILABLE: …"
 *
 * An ISO-8601 UTC time, the level, the message, then every other field as `key=value` (strings bare unless they
 * need quotes, anything else as JSON). A multi-line message and an error's stack continue on indented lines.
 * Written here rather than with pino-pretty: this is one function over one line, where pino-pretty brings a
 * dozen packages (and a worker thread) for options the node does not use.
 */

const LEVELS: Readonly<Record<number, string>> = { 10: "TRACE", 20: "DEBUG", 30: "INFO", 40: "WARN", 50: "ERROR", 60: "FATAL" };
/** ANSI colours of the levels, only when the output is a terminal. */
const COLORS: Readonly<Record<number, string>> = { 10: "90", 20: "90", 30: "32", 40: "33", 50: "31", 60: "35" };
const INDENT = "    ";

const bare = /^[^\s"=\\]+$/;
const shown = (value: unknown): string => (typeof value === "string" && bare.test(value) ? value : JSON.stringify(value));

/** pino's serialised `err`: its stack says everything (the stack's first line is the message). */
function stackOf(err: unknown): string | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const { stack, message } = err as { stack?: unknown; message?: unknown };
  if (typeof stack === "string") return stack;
  return typeof message === "string" ? message : undefined;
}

/** One JSON log line as a human-readable line (or lines), ending in a newline; anything else is passed through. */
export function prettyLine(line: string, color: boolean): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.endsWith("\n") ? line : `${line}\n`;
  }
  const { level, time, msg, err, ...fields } = record;
  const stack = stackOf(err);
  if (err !== undefined && stack === undefined) fields.err = err;
  const when = typeof time === "number" ? new Date(time).toISOString() : String(time ?? "");
  const name = (typeof level === "number" ? LEVELS[level] : undefined) ?? String(level);
  const code = typeof level === "number" ? COLORS[level] : undefined;
  const label = color && code !== undefined ? `\x1b[${code}m${name.padEnd(5)}\x1b[0m` : name.padEnd(5);
  const [first = "", ...more] = String(msg ?? "").split("\n");
  const pairs = Object.entries(fields).map(([key, value]) => `${key}=${shown(value)}`);
  const head = [when, label, first, ...pairs].filter((part) => part !== "").join(" ");
  const tail = [...more, ...(stack === undefined ? [] : stack.split("\n").map((l) => l.trim()))].map((l) => `${INDENT}${l}\n`);
  return `${head}\n${tail.join("")}`;
}

/** A destination for pino that writes each record's pretty form to `out`. */
export function prettyDestination(out: NodeJS.WritableStream, color: boolean): { write(line: string): void } {
  return { write: (line) => void out.write(prettyLine(line, color)) };
}
