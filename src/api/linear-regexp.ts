/**
 * Regular expressions from clients (`/service/names?expr=`), compiled for V8's linear-time engine: a backtracking
 * engine lets one crafted pattern such as `(a+)+b` block the event loop for minutes on a long service name.
 * Patterns that engine cannot run (back-references, look-arounds) are refused.
 */
import { setFlagsFromString } from "node:v8";
import { badRequest } from "../core/errors.js";

const MAX_PATTERN_LENGTH = 256;
let engineEnabled = false;

export function linearRegExp(name: string, source: string): RegExp {
  if (source.length > MAX_PATTERN_LENGTH) throw badRequest(`Param '${name}' is longer than ${MAX_PATTERN_LENGTH} characters`);
  if (!engineEnabled) {
    // Only makes the `l` flag available; it changes nothing for other expressions.
    setFlagsFromString("--enable-experimental-regexp-engine");
    engineEnabled = true;
  }
  try {
    return new RegExp(source, "l");
  } catch {
    throw badRequest(
      `Param '${name}' is not a valid regular expression that can be matched in linear time (no back-references or look-arounds), current: ${source}`,
    );
  }
}
