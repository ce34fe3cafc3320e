/**
 * Python annotations from torchtune signatures (`Optional[int]`, `list[LORA_ATTN_MODULES]`, `float|str`, …) as JSON
 * Schema fragments, and short human descriptions for messages. Classes we cannot check (`nn.Module`, `Callable`,
 * `ModelTokenizer`) map to `{}`: anything goes.
 */
import type { EnumValue } from './catalogTypes';

export type JsonSchema = Record<string, unknown>;

interface TypeNode {
  name: string;
  args: TypeNode[];
}

function tokenize(s: string): string[] {
  return s.match(/[A-Za-z_][\w.]*|\.\.\.|[[\],|]|'[^']*'|"[^"]*"|-?\d+(?:\.\d+)?/g) ?? [];
}

function parseUnion(tokens: string[], pos: { i: number }): TypeNode {
  const parts = [parseTerm(tokens, pos)];
  while (tokens[pos.i] === '|') {
    pos.i++;
    parts.push(parseTerm(tokens, pos));
  }
  return parts.length === 1 ? parts[0] : { name: 'Union', args: parts };
}

function parseTerm(tokens: string[], pos: { i: number }): TypeNode {
  const name = tokens[pos.i++] ?? 'Any';
  const node: TypeNode = { name, args: [] };
  if (tokens[pos.i] === '[') {
    pos.i++;
    while (pos.i < tokens.length && tokens[pos.i] !== ']') {
      if (tokens[pos.i] === ',') {
        pos.i++;
        continue;
      }
      node.args.push(parseUnion(tokens, pos));
    }
    pos.i++;
  }
  return node;
}

export function parsePyType(type: string): TypeNode {
  const clean = type.replace(/\([^)]*\)/g, '').trim();
  return parseUnion(tokenize(clean), { i: 0 });
}

const COMPONENT: JsonSchema = {
  type: 'object',
  properties: { _component_: { type: 'string', description: 'Dotted path of the torchtune builder or class to instantiate' } },
  required: ['_component_'],
};

function anyOf(items: JsonSchema[]): JsonSchema {
  if (items.some((s) => Object.keys(s).length === 0)) return {};
  const flat: JsonSchema[] = [];
  for (const s of items) {
    if (Array.isArray(s.anyOf) && Object.keys(s).length === 1) flat.push(...(s.anyOf as JsonSchema[]));
    else flat.push(s);
  }
  // Merge plain `{type: x}` alternatives into one `type: [..]`.
  if (flat.every((s) => Object.keys(s).length === 1 && typeof s.type === 'string')) {
    const types = [...new Set(flat.map((s) => s.type as string))];
    return { type: types.length === 1 ? types[0] : types };
  }
  return flat.length === 1 ? flat[0] : { anyOf: flat };
}

function toSchema(t: TypeNode, enums: Record<string, EnumValue[]>): JsonSchema {
  const a = t.args;
  switch (t.name) {
    case 'int':
      return { type: 'integer' };
    case 'float':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'str':
    case 'Path':
    case 'PathLike':
    case 'os.PathLike':
    case 'torch.dtype':
      return { type: 'string' };
    case 'None':
    case 'NoneType':
      return { type: 'null' };
    case 'component':
      return COMPONENT;
    case 'Optional':
      return anyOf([...a.map((x) => toSchema(x, enums)), { type: 'null' }]);
    case 'Union':
      return anyOf(a.map((x) => toSchema(x, enums)));
    case 'list':
    case 'List':
    case 'Sequence':
    case 'tuple':
    case 'Tuple': {
      const items = a.filter((x) => x.name !== '...');
      if (items.length === 0) return { type: 'array' };
      return { type: 'array', items: anyOf(items.map((x) => toSchema(x, enums))) };
    }
    case 'dict':
    case 'Dict':
    case 'Mapping':
      return { type: 'object' };
    case 'LORA_ATTN_MODULES':
      return enums.lora_attn_modules ? { enum: enums.lora_attn_modules } : { type: 'string' };
    case 'Literal':
      return { enum: a.map((x) => x.name.replace(/^['"]|['"]$/g, '')) };
    default:
      return {};
  }
}

/** JSON Schema for a Python annotation; `{}` when it cannot be checked from YAML. */
export function pyTypeToSchema(type: string | null, enums: Record<string, EnumValue[]> = {}): JsonSchema {
  if (!type) return {};
  return toSchema(parsePyType(type), enums);
}

/** "an integer", "an integer or null", "a list of strings"… for messages. */
export function describeSchema(s: JsonSchema): string {
  if (Array.isArray(s.enum)) return `one of ${(s.enum as EnumValue[]).map((v) => JSON.stringify(v)).join(', ')}`;
  if (Array.isArray(s.anyOf)) return (s.anyOf as JsonSchema[]).map(describeSchema).join(' or ');
  const types = Array.isArray(s.type) ? (s.type as string[]) : typeof s.type === 'string' ? [s.type] : [];
  if (types.length === 0) return 'any value';
  return types
    .map((t) => {
      switch (t) {
        case 'integer':
          return 'an integer';
        case 'number':
          return 'a number';
        case 'boolean':
          return 'true or false';
        case 'string':
          return 'a string';
        case 'null':
          return 'null';
        case 'array':
          return s.items ? `a list (of ${describeSchema(s.items as JsonSchema).replace(/^an? /, '')})` : 'a list';
        case 'object':
          return (s.required as string[] | undefined)?.includes('_component_') ? 'a component (a mapping with `_component_`)' : 'a mapping';
        default:
          return t;
      }
    })
    .join(' or ');
}

/** How a YAML value reads in a message: `four` (a string), `[...]` (a list). */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 40) + '…' : v}" (a string)`;
  if (typeof v === 'boolean') return `${v} (a boolean)`;
  return `${v} (a number)`;
}
