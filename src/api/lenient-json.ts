/**
 * JSON that may be malformed: cluster-table rows (they come from peers and the disk too) and tokens' parts.
 * What cannot be parsed is undefined, never a throw in the middle of a request.
 */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
