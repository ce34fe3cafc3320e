/**
 * Reads the one-line dict the Hugging Face Trainer prints at each logging step: `str(dict)` of the logs, which is
 * Python's repr — single-quoted keys, values that are numbers, quoted strings (transformers 5.17's
 * ProgressCallback formats floats as `f"{v:.4g}"` strings: `'11.97'`, `'1e-05'`, `'nan'`), or, in older releases
 * and in PrinterCallback's `print`, bare floats, `nan`, `inf`, `True`/`False`/`None`, or `tensor(…)`.
 * (transformers 5.17.0 src/transformers/trainer_callback.py ProgressCallback.on_log and PrinterCallback.on_log.)
 *
 * Flat dicts only: a nested value makes the line not a log dict (it is then passed through as text).
 */
export type PyScalar = number | string | boolean | null;

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** A number as Python prints one (`1e-05`, `nan`, `-inf`, `tensor(0.5, device='cuda:0')`), else null. */
export function pythonNumber(text: string): number | null {
  let t = text.trim();
  const tensor = /^tensor\(\s*([^,()\s]+)/.exec(t);
  if (tensor) t = tensor[1];
  const lower = t.toLowerCase();
  if (lower === 'nan' || lower === '-nan') return Number.NaN;
  if (lower === 'inf' || lower === '+inf') return Number.POSITIVE_INFINITY;
  if (lower === '-inf') return Number.NEGATIVE_INFINITY;
  return NUMBER.test(t) ? Number(t) : null;
}

function quoted(s: string, i: number): { value: string; end: number } | null {
  const q = s[i];
  if (q !== "'" && q !== '"') return null;
  let out = '';
  for (let j = i + 1; j < s.length; j++) {
    const c = s[j];
    if (c === '\\' && j + 1 < s.length) {
      out += s[++j];
    } else if (c === q) {
      return { value: out, end: j + 1 };
    } else {
      out += c;
    }
  }
  return null;
}

/** The raw text of an unquoted value: up to the next top-level `,` or `}` (parentheses of `tensor(…)` nest). */
function bare(s: string, i: number): { value: string; end: number } {
  let depth = 0;
  let j = i;
  for (; j < s.length; j++) {
    const c = s[j];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && (c === ',' || c === '}')) break;
  }
  return { value: s.slice(i, j).trim(), end: j };
}

/** `{'loss': '11.97', 'epoch': 0.5}` → its entries in order, or null when the text is not one flat dict. */
export function parsePythonDict(text: string): Map<string, PyScalar> | null {
  const s = text.trim();
  if (!s.startsWith('{') || !s.endsWith('}')) return null;
  const out = new Map<string, PyScalar>();
  let i = 1;
  const skip = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  skip();
  if (s[i] === '}') return i === s.length - 1 ? out : null;
  for (;;) {
    skip();
    const key = quoted(s, i);
    if (!key) return null;
    i = key.end;
    skip();
    if (s[i] !== ':') return null;
    i++;
    skip();
    let value: PyScalar;
    const str = quoted(s, i);
    if (str) {
      value = str.value;
      i = str.end;
    } else {
      const raw = bare(s, i);
      if (raw.value === '' || /^[[{]/.test(raw.value)) return null;
      i = raw.end;
      if (raw.value === 'True' || raw.value === 'False') value = raw.value === 'True';
      else if (raw.value === 'None') value = null;
      else {
        const n = pythonNumber(raw.value);
        if (n === null) return null;
        value = n;
      }
    }
    out.set(key.value, value);
    skip();
    if (s[i] === ',') {
      i++;
      continue;
    }
    return s[i] === '}' && i === s.length - 1 ? out : null;
  }
}

/** The entries that are numbers, quoted numbers included (`'11.97'` → 11.97). */
export function numericEntries(dict: Map<string, PyScalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of dict) {
    const n = typeof v === 'number' ? v : typeof v === 'string' ? pythonNumber(v) : null;
    if (n !== null) out[k] = n;
  }
  return out;
}
