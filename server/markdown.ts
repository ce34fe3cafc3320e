/**
 * The one way user text (dataset roles and contents, YAML keys and values, file names, component names) enters the
 * Markdown the server sends. The client renders hovers with `supportHtml` and theme icons, so every character
 * that HTML, Markdown links and emphasis, or VS Code's `$(icon)` syntax give meaning to becomes a numeric
 * character reference: an `<img>` role, a `[x](command:…)` link or a `$(zap)` in a sample shows as the text it is.
 * Autolinks (`https://`, `www.`, `a@b`) are broken up too. Characters that only matter at the start of a line are
 * escaped there; snake_case and ordinary punctuation stay readable.
 */

/** Meaningful anywhere in a line. */
const INLINE = /[&<>`*[\]\\|~$@]|_(?![A-Za-z0-9])|(?<![A-Za-z0-9])_|:(?=\/\/)|(?<=\bwww)\./gi;
/** Meaningful at the start of a line: headings, lists, quotes, setext underlines, ordered lists (`1.`). */
const LINE_START = /^(?:[#>+=-]|\d+(?=[.)]))/;

function ref(c: string): string {
  return [...c].map((ch) => `&#${ch.codePointAt(0)};`).join('');
}

/** Plain text, safe anywhere in Markdown (also inside `<span>`s): shown exactly as written, on one line. */
export function mdText(s: string): string {
  const one = s.replace(/\r\n?|\n/g, ' ');
  return one.replace(INLINE, ref).replace(LINE_START, ref);
}

/**
 * User text shown as inline code. A code span would show character references literally, so this is HTML
 * `<code>` around escaped text (clients without HTML support still see the text).
 */
export function mdCode(s: string): string {
  return `<code>${mdText(s)}</code>`;
}
