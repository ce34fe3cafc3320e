/**
 * Where the cursor is in a YAML config being typed, from the lines above it. The positioned tree cannot answer
 * this while the user is mid-edit (the text often does not parse), indentation always can.
 */

export interface YamlCursor {
  /** Keys (and `-` items as 0) from the root to the mapping that holds the key being typed. */
  parentPath: (string | number)[];
  mode: 'key' | 'value';
  /** value mode: the key whose value is typed. */
  key?: string;
  /** What is typed so far (quotes stripped). */
  prefix: string;
  /** Offset where the typed text starts (the completion replaces [replaceStart, offset)). */
  replaceStart: number;
  /** Column of the key (children of the parent mapping sit at this indent). */
  indent: number;
  /** Keys already present in the parent mapping. */
  siblings: Map<string, string>;
}

interface Line {
  start: number;
  text: string;
}

function lineAt(text: string, offset: number): Line {
  const start = Math.max(text.lastIndexOf('\n', offset - 1) + 1, 0);
  let end = text.indexOf('\n', offset);
  if (end < 0) end = text.length;
  return { start, text: text.slice(start, end).replace(/\r$/, '') };
}

function indentOf(s: string): number {
  const m = /^( *)(- +)?/.exec(s)!;
  return m[1].length + (m[2]?.length ?? 0);
}

const KEY_HEAD = /^( *)(- +)?([^\s:#'"][^:#]*?|"[^"]*"|'[^']*'):/;

/** The key a line defines, with its indent (the key's column). */
function keyOfLine(s: string): { indent: number; key: string; value: string; item: boolean } | undefined {
  const m = KEY_HEAD.exec(s);
  if (!m) return undefined;
  // The value is cut by hand, not by a regex: a lazy value before optional whitespace and a comment backtracks
  // quadratically on a long run of spaces (a 240 KB line froze completion for a minute).
  const rest = s.slice(m[0].length);
  if (rest !== '' && !/^[\s#]/.test(rest)) return undefined;
  const hash = rest.indexOf('#');
  const value = (hash < 0 ? rest : rest.slice(0, hash)).trim();
  return { indent: m[1].length + (m[2]?.length ?? 0), key: m[3].replace(/^["']|["']$/g, ''), value, item: !!m[2] };
}

/** `  - data/a.js` (a scalar list item): the value of the `key:` line above whose list this is. */
function listItemCursor(text: string, offset: number, line: Line, before: string): YamlCursor | undefined {
  const m = /^( *)- +(["']?)([^\s:#"',\[\]{}][^:#"',\[\]{}]*|)$/.exec(before);
  if (!m) return undefined;
  const dash = m[1].length;
  let pos = line.start;
  while (pos > 0) {
    const prev = lineAt(text, pos - 1);
    pos = prev.start;
    if (/^\s*(#.*)?$/.test(prev.text)) continue;
    if (/^( *)- /.test(prev.text) && indentOf(prev.text) >= dash && /^( *)-/.exec(prev.text)![1].length === dash) continue; // an earlier item
    const k = keyOfLine(prev.text);
    if (!k || k.value !== '' || k.indent > dash) return undefined;
    const owner = yamlCursor(text, prev.start + prev.text.length);
    return { ...owner, prefix: m[3], replaceStart: offset - m[3].length };
  }
  return undefined;
}

/** The list-item cursor at `offset`, when its line is `- scalar` (a path in `data_files:` or a key being typed). */
export function yamlListItem(text: string, offset: number): YamlCursor | undefined {
  const line = lineAt(text, offset);
  return listItemCursor(text, offset, line, text.slice(line.start, offset));
}

/** `key: [a.json, data/b` (a flow list value): the item being typed. */
function flowItem(raw: string): string | undefined {
  if (!raw.startsWith('[')) return undefined;
  const item = raw.slice(Math.max(raw.lastIndexOf(','), raw.lastIndexOf('[')) + 1).trimStart();
  return item.replace(/^["']/, '');
}

export function yamlCursor(text: string, offset: number): YamlCursor {
  const line = lineAt(text, offset);
  const before = text.slice(line.start, offset);
  let mode: 'key' | 'value' = 'key';
  let key: string | undefined;
  let prefix = '';
  let replaceStart = offset;
  let indent = indentOf(before);
  const valueMatch = /^( *)(- +)?([^\s:#'"][^:#]*?|"[^"]*"|'[^']*'):\s+(.*)$/.exec(before) ?? /^( *)(- +)?([^\s:#'"][^:#]*?):()$/.exec(before);
  if (valueMatch) {
    mode = 'value';
    key = valueMatch[3].replace(/^["']|["']$/g, '');
    const raw = valueMatch[4];
    const quote = /^["']/.exec(raw)?.[0] ?? '';
    prefix = flowItem(raw) ?? raw.slice(quote.length);
    replaceStart = offset - prefix.length;
    indent = valueMatch[1].length + (valueMatch[2]?.length ?? 0);
  } else {
    const item = /^( *)- +[^\s:]*$/.test(before) && !/^( *)- +[\w.$-]*$/.test(before) ? listItemCursor(text, offset, line, before) : undefined;
    if (item) return item;
    const m = /^( *)(- +)?([\w.$-]*)$/.exec(before);
    if (m) {
      prefix = m[3];
      replaceStart = offset - prefix.length;
      indent = m[1].length + (m[2]?.length ?? 0);
    }
  }
  // Walk up: each line with a smaller indent that ends in `key:` opens the mapping we are in; a `- ` item line
  // whose key sits at our indent means we are inside that list item's mapping.
  const parentPath: (string | number)[] = [];
  let want = indent;
  let afterDash = false;
  let pos = line.start;
  while (pos > 0 && want > 0) {
    const prev = lineAt(text, pos - 1);
    pos = prev.start;
    if (/^\s*(#.*)?$/.test(prev.text)) continue;
    const ind = indentOf(prev.text);
    const dashCol = /^( *)- /.exec(prev.text)?.[1].length;
    const k = keyOfLine(prev.text);
    if (dashCol !== undefined && dashCol < want && ind === want) {
      parentPath.unshift(0);
      want = dashCol;
      afterDash = true;
      continue;
    }
    if (k && k.value === '' && (ind < want || (afterDash && ind === want && dashCol === undefined))) {
      parentPath.unshift(k.key);
      afterDash = false;
      if (dashCol !== undefined) {
        parentPath.unshift(0);
        want = dashCol;
        afterDash = true;
      } else want = ind;
      continue;
    }
    if (ind < want) break; // not a mapping opener: malformed or flow content
  }
  return { parentPath, mode, key, prefix, replaceStart, indent, siblings: siblingsOf(text, line.start, indent) };
}

/** `key: value` lines at exactly `indent` in the block around `lineStart` (the parent mapping's entries). */
function siblingsOf(text: string, lineStart: number, indent: number): Map<string, string> {
  const out = new Map<string, string>();
  const scan = (from: number, dir: 1 | -1): void => {
    let pos = from;
    for (let n = 0; n < 2000; n++) {
      if (dir === -1 && pos <= 0) return;
      const l = dir === 1 ? lineAt(text, pos) : lineAt(text, pos - 1);
      if (/^\s*(#.*)?$/.test(l.text)) {
        pos = dir === 1 ? l.start + l.text.length + 1 : l.start;
        if (dir === 1 && pos > text.length) return;
        continue;
      }
      const ind = indentOf(l.text);
      if (ind < indent) return;
      const k = keyOfLine(l.text);
      if (k && k.indent === indent) out.set(k.key, k.value);
      if (dir === -1 && /^( *)- /.exec(l.text) && (/^( *)/.exec(l.text)![1].length < indent)) return;
      pos = dir === 1 ? l.start + l.text.length + 1 : l.start;
      if (dir === 1 && pos > text.length) return;
    }
  };
  scan(lineStart, -1);
  const cur = lineAt(text, lineStart);
  scan(cur.start + cur.text.length + 1, 1);
  return out;
}
