/**
 * Nesting depth of JSON text without parsing it: one pass over the bytes, aware of strings and
 * escapes. Lets a route refuse a nesting bomb (`{"a":{"a":…}}` 100,000 deep) before JSON.parse and
 * before anything that walks the result recursively (JSON.stringify overflows its stack on one).
 */
const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c; // \

/** True when the text nests objects/arrays deeper than `maxDepth`; stops reading at the first excess. */
export function jsonDepthExceeds(bytes: Uint8Array, maxDepth: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i += 1) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) i += 1;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
      depth += 1;
      if (depth > maxDepth) return true;
    } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
      depth -= 1;
    }
  }
  return false;
}
