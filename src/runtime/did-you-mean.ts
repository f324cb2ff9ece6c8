/**
 * "Did you mean": the known word nearest to a misspelt one, by edit distance counting a swap of two neighbouring
 * letters as one edit (`--prot` is one edit from `--port`), or none when every known word is too far to be a typo.
 */

/** Edits (insert, delete, replace, swap neighbours) from `a` to `b`: optimal string alignment distance. */
export function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      row.push(d);
    }
    before = previous;
    previous = row;
  }
  return previous[b.length]!;
}

/**
 * The candidate nearest to `word` (the first of equals), if within a third of the word's letters (leading dashes
 * aside), at least one edit and at most three. A word longer than any candidate by more than that is no typo
 * of one, and is not compared at all (its cost grows with its length).
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  if (word.length > Math.max(...candidates.map((c) => c.length)) + 3) return undefined;
  const limit = Math.min(3, Math.max(1, Math.floor(word.replace(/^-+/, "").length / 3)));
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= limit && (best === undefined || distance < best.distance)) best = { candidate, distance };
  }
  return best?.candidate;
}
