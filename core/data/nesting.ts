/**
 * How deep a sample's arrays and objects nest, found without recursion. Python's json module decodes recursively
 * and gives up near its recursion limit (1000 frames: `json.loads('[' * 1000 + ']' * 1000)` already raises
 * RecursionError), so torchtune cannot load such a sample; our own tree walks must not recurse that deep either.
 */

/** Depth at which Python's json (default recursion limit 1000) fails. */
export const MAX_JSON_DEPTH = 1000;

/** The deepest nesting in `text` (JSON), stopping as soon as it exceeds `limit`; and what was open there. */
export function nestingDepth(text: string, limit = MAX_JSON_DEPTH): { depth: number; at: number; container: 'array' | 'object' } {
  let depth = 0;
  let max = 0;
  let at = 0;
  let container: 'array' | 'object' = 'array';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // Skip the string: the next quote not escaped by an odd run of backslashes.
      let j = i;
      for (;;) {
        j = text.indexOf('"', j + 1);
        if (j < 0) return { depth: max, at, container };
        let k = j - 1;
        while (text.charCodeAt(k) === 0x5c) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
      i = j;
    } else if (c === 0x5b || c === 0x7b) {
      depth++;
      if (depth > max) {
        max = depth;
        at = i;
        container = c === 0x5b ? 'array' : 'object';
        if (max > limit) return { depth: max, at, container };
      }
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return { depth: max, at, container };
}

/** The problem of a sample nested deeper than Python's json decodes: where the limit is passed, and what to say. */
export function deepNesting(text: string): { at: number; message: string } | null {
  const n = nestingDepth(text);
  if (n.depth <= MAX_JSON_DEPTH) return null;
  return {
    at: n.at,
    message: `This sample nests JSON arrays/objects more than ${MAX_JSON_DEPTH} levels deep: Python's json module stops with RecursionError (maximum recursion depth exceeded while decoding a JSON ${n.container}), so torchtune cannot load the file. Flatten the sample.`,
  };
}
