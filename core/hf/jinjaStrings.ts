/**
 * Python's str.strip / lstrip / rstrip for @huggingface/jinja (0.5.x), whose string methods ignore their argument
 * and trim JavaScript's whitespace: templates call them with characters (Qwen3: `content.lstrip('\n')`, which
 * must keep an answer's leading spaces), and Python's whitespace is not JavaScript's (it has \x1c-\x1f and \x85,
 * and not U+FEFF). The library builds each string's methods lazily in the `builtins` getter of its StringValue; the
 * getter is wrapped once, here, so that the three methods behave as Python's `str` does (chars=None: whitespace;
 * otherwise any of the given characters, by code point). Importing this module installs it for the process: the
 * language server and the CLI render chat templates only through core/hf.
 */
import { Environment } from '@huggingface/jinja';

type Runtime = { type: string; value: unknown };
type FunctionValueCtor = new (fn: (args: Runtime[]) => Runtime) => Runtime;
type StringValueCtor = new (value: string) => Runtime;

const PY_SPACE = /^[\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/;

/** Python's str.strip(chars) / lstrip / rstrip: `chars` null strips whitespace. */
export function pyStrip(s: string, chars: string | null, left: boolean, right: boolean): string {
  const set = chars === null ? null : new Set(Array.from(chars));
  const strips = (c: string): boolean => (set === null ? PY_SPACE.test(c) : set.has(c));
  let a = 0;
  let b = s.length;
  if (left) {
    while (a < b) {
      const c = String.fromCodePoint(s.codePointAt(a)!);
      if (!strips(c)) break;
      a += c.length;
    }
  }
  if (right) {
    while (b > a) {
      const low = s.charCodeAt(b - 1);
      const w = low >= 0xdc00 && low <= 0xdfff && b - 2 >= a && s.charCodeAt(b - 2) >= 0xd800 && s.charCodeAt(b - 2) <= 0xdbff ? 2 : 1;
      if (!strips(s.slice(b - w, b))) break;
      b -= w;
    }
  }
  return s.slice(a, b);
}

const MARK = Symbol('python-str-methods');

function install(): void {
  const probe = new Environment();
  probe.set('s', '');
  const sample = probe.variables.get('s') as unknown as { constructor: StringValueCtor; builtins: Map<string, Runtime> };
  const StringValue = sample.constructor;
  const FunctionValue = sample.builtins.get('strip')!.constructor as FunctionValueCtor;
  const proto = StringValue.prototype as object;
  const getter = Object.getOwnPropertyDescriptor(proto, 'builtins')?.get;
  if (!getter) throw new Error('@huggingface/jinja: StringValue.builtins getter not found (library changed; update core/hf/jinjaStrings.ts)');
  Object.defineProperty(proto, 'builtins', {
    configurable: true,
    get(this: Runtime) {
      const map = getter.call(this) as Map<string, Runtime> & { [MARK]?: true };
      if (map[MARK]) return map;
      const value = this.value as string;
      const method = (left: boolean, right: boolean, name: string) =>
        new FunctionValue((args) => {
          if (args.length > 1) throw new Error(`${name}() takes at most 1 argument (${args.length} given)`);
          const a = args[0];
          let chars: string | null = null;
          if (a && a.type !== 'NullValue' && a.type !== 'UndefinedValue') {
            if (a.type !== 'StringValue') throw new Error(`${name} arg must be None or str`);
            chars = a.value as string;
          }
          return new StringValue(pyStrip(value, chars, left, right));
        });
      map.set('strip', method(true, true, 'strip'));
      map.set('lstrip', method(true, false, 'lstrip'));
      map.set('rstrip', method(false, true, 'rstrip'));
      map[MARK] = true;
      return map;
    },
  });
}

install();
