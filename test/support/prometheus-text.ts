/**
 * A strict reader of the Prometheus text format (0.0.4) for tests: every sample must follow its family's TYPE
 * line, be named as the family (plus `_bucket`/`_sum`/`_count` for histograms and summaries) and carry a number;
 * a family is declared once. Anything else throws, naming the line.
 */

export interface Family {
  readonly type: string;
  /** Sample key → value; the key is the suffix and the label text as printed: "", `{peer="a"}`, `_count{uri="/x"}`. */
  readonly samples: Map<string, number>;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$/;
/** A sample's value as Prometheus reads it (Go's ParseFloat: `NaN` and `Inf` in any case, prom-client prints `Nan`). */
function sampleValue(text: string, line: string): number {
  if (/^nan$/i.test(text)) return Number.NaN;
  const infinite = /^([+-]?)inf$/i.exec(text);
  if (infinite !== null) return infinite[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const value = Number(text);
  if (text.trim() === "" || Number.isNaN(value)) throw new Error(`not a number: ${line}`);
  return value;
}
const SUFFIXES: Readonly<Record<string, readonly string[]>> = {
  histogram: ["_bucket", "_sum", "_count"],
  summary: ["", "_sum", "_count"],
};

/** The non-comment lines: one per series. */
export const sampleLines = (text: string): string[] => text.split("\n").filter((l) => l !== "" && !l.startsWith("#"));

export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: { name: string; family: Family } | undefined;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("# HELP ")) continue;
    const typed = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (typed !== null) {
      const [, name, type] = typed as unknown as [string, string, string];
      if (families.has(name)) throw new Error(`family ${name} declared twice`);
      current = { name, family: { type, samples: new Map() } };
      families.set(name, current.family);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null || current === undefined) throw new Error(`not a sample of a declared family: ${line}`);
    const [, name, labels = "", value] = m as unknown as [string, string, string | undefined, string];
    const suffix = name.slice(current.name.length);
    const allowed = SUFFIXES[current.family.type] ?? [""];
    if (!name.startsWith(current.name) || !allowed.includes(suffix)) throw new Error(`${name} outside family ${current.name}: ${line}`);
    const key = `${suffix}${labels}`;
    if (current.family.samples.has(key)) throw new Error(`duplicate series: ${line}`);
    current.family.samples.set(key, sampleValue(value, line));
  }
  return families;
}

/** Every name a PromQL query may select from this exposition: family names, and a histogram's or summary's series. */
export function selectableNames(families: ReadonlyMap<string, Family>): Set<string> {
  const names = new Set<string>();
  for (const [name, { type }] of families) {
    names.add(name);
    for (const suffix of SUFFIXES[type] ?? []) names.add(`${name}${suffix}`);
  }
  return names;
}
