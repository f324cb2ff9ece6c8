/**
 * Splits a streamed JSON object into its members without holding more than one of them: 1.4 answers a
 * snapshot request with its whole store as a single `{key: Datum, ...}` body, which may be far larger than
 * what should sit in memory at once. Each member comes out as its key and the raw text of its value, to be
 * parsed (and validated) by the caller. Only the structure is checked here; a malformed value fails there.
 */
type Phase = "open" | "keyStart" | "key" | "colon" | "valueStart" | "value" | "done";

const isSpace = (c: string): boolean => c === " " || c === "\n" || c === "\r" || c === "\t";

/**
 * @param maxMemberChars the longest key or value accepted: a peer cannot make the reader hold one member of
 *   unbounded size (the whole point of streaming the object).
 */
export async function* objectMembers(
  pieces: AsyncIterable<string>,
  maxMemberChars = Number.POSITIVE_INFINITY,
): AsyncGenerator<readonly [string, string]> {
  let phase = "open" as Phase;
  let firstMember = true;
  /** The current key's or value's text from earlier pieces. */
  let carried = "";
  let key = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  const fail = (what: string): never => {
    throw new SyntaxError(`malformed JSON object stream: ${what}`);
  };
  for await (const piece of pieces) {
    /** Where the current key's or value's text starts in this piece. */
    let from = 0;
    for (let i = 0; i < piece.length; i++) {
      const c = piece[i]!;
      switch (phase) {
        case "open":
          if (isSpace(c)) continue;
          if (c !== "{") fail(`expected '{', got '${c}'`);
          phase = "keyStart";
          continue;
        case "keyStart":
          if (isSpace(c)) continue;
          if (c === "}" && firstMember) {
            phase = "done";
            continue;
          }
          if (c !== '"') fail(`expected a key, got '${c}'`);
          phase = "key";
          carried = "";
          from = i + 1;
          continue;
        case "key":
          if (escaped) escaped = false;
          else if (c === "\\") escaped = true;
          else if (c === '"') {
            key = JSON.parse(`"${carried}${piece.slice(from, i)}"`) as string;
            phase = "colon";
          }
          continue;
        case "colon":
          if (isSpace(c)) continue;
          if (c !== ":") fail(`expected ':' after key '${key}', got '${c}'`);
          phase = "valueStart";
          continue;
        case "valueStart":
          if (isSpace(c)) continue;
          phase = "value";
          carried = "";
          from = i;
          depth = 0;
          i--; // this character is the value's first
          continue;
        case "value":
          if (inString) {
            if (escaped) escaped = false;
            else if (c === "\\") escaped = true;
            else if (c === '"') inString = false;
          } else if (c === '"') inString = true;
          else if (c === "{" || c === "[") depth++;
          else if ((c === "}" || c === "]") && depth > 0) depth--;
          else if (depth === 0 && (c === "," || c === "}")) {
            yield [key, (carried + piece.slice(from, i)).trim()];
            firstMember = false;
            phase = c === "," ? "keyStart" : "done";
          }
          continue;
        case "done":
          if (!isSpace(c)) fail(`unexpected '${c}' after the object`);
          continue;
      }
    }
    if (phase === "key" || phase === "value") {
      carried += piece.slice(from);
      if (carried.length > maxMemberChars) fail(`a member is longer than ${maxMemberChars} characters`);
    }
  }
  if (phase !== "done") fail("the object ends early");
}
