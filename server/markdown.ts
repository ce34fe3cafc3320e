/**
 * The one way user text (dataset roles and contents, YAML keys and values, file names, component names) enters the
 * Markdown the server sends. The client renders hovers with `supportHtml` and theme icons, so every character
 * that HTML, Markdown links and emphasis, or VS Code's `$(icon)` syntax give meaning to becomes a numeric
 * character reference: an `<img>` role, a `[x](command:…)` link or a `$(zap)` in a sample shows as the text it is.
 * Autolinks (`https://`, `www.`, `a@b`) are broken up too. Characters that only matter at the start of a line are
 * escaped there; snake_case and ordinary punctuation stay readable.
 */

/** Escaped wherever they are: & < > ` * [ ] \ | ~ $ @ */
const ALWAYS = new Set([38, 60, 62, 96, 42, 91, 93, 92, 124, 126, 36, 64]);
/** Escaped at the start of a line: # > + = - (headings, quotes, lists, setext underlines). */
const LINE_START = new Set([35, 62, 43, 61, 45]);

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function ref(c: number): string {
  return `&#${c};`;
}

/** Whether the character at i means something in Markdown here (see the rules above). */
function special(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (ALWAYS.has(c)) return true;
  // `_` opens or closes emphasis only at a word boundary: snake_case is safe.
  if (c === 95) return !(isAlnum(s.charCodeAt(i - 1)) && isAlnum(s.charCodeAt(i + 1)));
  if (c === 58) return s.charCodeAt(i + 1) === 47 && s.charCodeAt(i + 2) === 47; // `://`
  if (c === 46) return i >= 3 && s.slice(i - 3, i).toLowerCase() === 'www'; // `www.`
  return false;
}

/** An ordered-list marker at the start (`12.` or `3)`): the digits get escaped. */
function listNumberLength(s: string): number {
  let k = 0;
  while (k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57) k++;
  return k > 0 && (s[k] === '.' || s[k] === ')') ? k : 0;
}

/** Plain text, safe anywhere in Markdown (also inside `<span>`s): shown exactly as written, on one line. */
export function mdText(s: string): string {
  const digits = listNumberLength(s);
  let out = '';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const newline = c === 10 || c === 13;
    const esc = !newline && (i < digits || (i === 0 && LINE_START.has(c)) || special(s, i));
    if (!newline && !esc) continue;
    out += s.slice(from, i);
    if (newline) {
      if (c === 13 && s.charCodeAt(i + 1) === 10) i++;
      out += ' ';
    } else out += ref(c);
    from = i + 1;
  }
  return from === 0 ? s : out + s.slice(from);
}

/**
 * User text shown as inline code. A code span would show character references literally, so this is HTML
 * `<code>` around escaped text (clients without HTML support still see the text).
 */
export function mdCode(s: string): string {
  return `<code>${mdText(s)}</code>`;
}
