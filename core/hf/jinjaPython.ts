/**
 * Where @huggingface/jinja (0.5.x) differs from the jinja2 environment transformers renders with, and how we wrap it:
 *
 * - Python floats. The library turns JS numbers into IntegerValue when integral, so a dataset's `2.0` (a float for
 *   Python's json.load) became `2`; and its FloatValue prints `1e-05` as `0.00001`. `toRuntime` builds the runtime
 *   values itself, turning `PyFloat` (core/hf/pyJson.ts) and every non-integral number into `PyFloatValue`, a
 *   subclass of the library's FloatValue (so its arithmetic and tests still see a float) that prints as Python's
 *   repr. The library exports no value classes, so their constructors are taken from values it builds itself.
 * - `tojson`. The library's filter prints floats with JSON.stringify and sorts keys with localeCompare; transformers'
 *   is Python's json.dumps. `PyInterpreter` answers `tojson` (bare or called, positional or keyword arguments in
 *   transformers' order: ensure_ascii, indent, separators, sort_keys) with pyJsonDumps, and leaves every other
 *   filter to the library.
 * - A work budget. jinja2's sandbox caps each range() but not the total work, so nested loops can run for hours
 *   (two `range(100000)` loops are 10^10 iterations) on the language server's thread. `PyInterpreter` counts a step
 *   for each node it evaluates and ten for each block it runs (each loop iteration, even an empty one), and checks the
 *   length of every string it produces; past `RenderLimits` it throws RenderLimitError.
 */
import { Environment, Interpreter } from '@huggingface/jinja';
import { PyFloat, pyFloatRepr, pyJsonDumps, type PyJsonNode } from './pyJson';

type Runtime = { type: string; value: unknown };
type RuntimeCtor = new (value?: unknown) => Runtime;

const probe = new Environment();
const ctorOf = (v: unknown): RuntimeCtor => {
  const name = `v${probe.variables.size}`;
  probe.set(name, v);
  return (probe.variables.get(name) as unknown as { constructor: RuntimeCtor }).constructor;
};
const IntegerValue = ctorOf(1);
const FloatValue = ctorOf(0.5);
const StringValue = ctorOf('');
const BooleanValue = ctorOf(true);
const NullValue = ctorOf(null);
const ArrayValue = ctorOf([]);
const ObjectValue = ctorOf({});

/** A float from the conversation: the library's FloatValue, printed as Python's repr. */
class PyFloatValue extends FloatValue {
  override toString(): string {
    return pyFloatRepr(this.value as number);
  }
}

/** Whether a value tree holds a number that the library would mistype or misprint (see the module comment). */
function holdsFloat(v: unknown, depth = 0): boolean {
  if (v instanceof PyFloat) return true;
  if (typeof v === 'number') return !Number.isInteger(v);
  if (!v || typeof v !== 'object' || depth > 1000) return false;
  for (const x of Array.isArray(v) ? v : Object.values(v)) if (holdsFloat(x, depth + 1)) return true;
  return false;
}

/** A JS value as the library's runtime value, floats as Python's (PyFloat included). */
function toRuntime(v: unknown): Runtime {
  if (v instanceof PyFloat) return new PyFloatValue(v.value);
  if (typeof v === 'number') return Number.isInteger(v) ? new IntegerValue(v) : new PyFloatValue(v);
  if (typeof v === 'string') return new StringValue(v);
  if (typeof v === 'boolean') return new BooleanValue(v);
  if (v === null) return new NullValue();
  if (Array.isArray(v)) return new ArrayValue(v.map(toRuntime));
  if (typeof v === 'object') return new ObjectValue(new Map(Object.entries(v as object).map(([k, x]) => [k, toRuntime(x)])));
  return undefined as never;
}

/** env.set, except that values holding floats are built by `toRuntime`. */
export function setVariable(env: Environment, name: string, value: unknown): void {
  if (typeof value === 'function' || value === undefined || !holdsFloat(value)) env.set(name, value);
  else env.variables.set(name, toRuntime(value) as never);
}

/** What Python's json.dumps sees in a runtime value. */
function view(v: unknown): PyJsonNode {
  const r = v as Runtime;
  switch (r.type) {
    case 'NullValue':
    case 'UndefinedValue': return { kind: 'null' };
    case 'BooleanValue': return { kind: 'bool', value: r.value as boolean };
    case 'IntegerValue': return { kind: 'int', value: r.value as number };
    case 'FloatValue': return { kind: 'float', value: r.value as number };
    case 'StringValue': return { kind: 'string', value: r.value as string };
    case 'ArrayValue':
    case 'TupleValue': return { kind: 'array', items: r.value as unknown[] };
    case 'ObjectValue':
    case 'KeywordArgumentsValue': return { kind: 'object', entries: [...(r.value as Map<string, unknown>).entries()] };
    default: throw new Error(`Object of type ${r.type} is not JSON serializable`);
  }
}

interface FilterNode {
  type: string;
  value?: string;
  callee?: { type: string; value: string };
  args?: unknown[];
}
type ApplyFilter = (this: Interpreter, operand: Runtime, filter: FilterNode, env: Environment) => Runtime;
type EvaluateArguments = (this: Interpreter, args: unknown[], env: Environment) => [Runtime[], Map<string, Runtime>];
const libraryApplyFilter = (Interpreter.prototype as unknown as { applyFilter: ApplyFilter }).applyFilter;
const evaluateArguments = (Interpreter.prototype as unknown as { evaluateArguments: EvaluateArguments }).evaluateArguments;

/** How much work and output one render may take (chatTemplate.ts sets them from the conversation's size). */
export interface RenderLimits {
  /** Evaluated nodes plus executed blocks (loop iterations). */
  maxSteps: number;
  /** Length (UTF-16 units) of any string the template builds, its output included. */
  maxChars: number;
}

/** A render went past its RenderLimits. */
export class RenderLimitError extends Error {
  constructor(readonly kind: 'steps' | 'chars', readonly limit: number) {
    super(kind === 'steps' ? `more than ${limit} evaluation steps` : `a string longer than ${limit} characters`);
    this.name = 'RenderLimitError';
  }
}

/** The library's interpreter with transformers' `tojson` and a work budget. */
export class PyInterpreter extends Interpreter {
  /** Steps taken so far (evaluated nodes plus executed blocks). */
  steps = 0;

  constructor(env: Environment, readonly limits: RenderLimits) {
    super(env);
  }
}

type Evaluate = (this: PyInterpreter, node: unknown, env: Environment) => Runtime;
type EvaluateBlock = (this: PyInterpreter, statements: unknown[], env: Environment) => Runtime;
const proto = Interpreter.prototype as unknown as { evaluate: Evaluate; evaluateBlock: EvaluateBlock };
const libraryEvaluate = proto.evaluate;
const libraryEvaluateBlock = proto.evaluateBlock;

function checked(interp: PyInterpreter, r: Runtime): Runtime {
  if (r.type === 'StringValue' && (r.value as string).length > interp.limits.maxChars) throw new RenderLimitError('chars', interp.limits.maxChars);
  return r;
}

function step(interp: PyInterpreter, n: number): void {
  interp.steps += n;
  if (interp.steps > interp.limits.maxSteps) throw new RenderLimitError('steps', interp.limits.maxSteps);
}

/** Every node the library evaluates passes through `evaluate`: one step each. */
(PyInterpreter.prototype as unknown as { evaluate: Evaluate }).evaluate = function (node, env) {
  step(this, 1);
  return checked(this, libraryEvaluate.call(this, node, env));
};
/**
 * A loop runs its body through `evaluateBlock` once per iteration, also when the body is empty. An iteration costs
 * the library about ten times a plain node (it builds two Environments, each with its own table of tests, and a
 * `loop` object), so a block counts BLOCK_STEPS: the budget then tracks time, empty loops included.
 */
export const BLOCK_STEPS = 10;
(PyInterpreter.prototype as unknown as { evaluateBlock: EvaluateBlock }).evaluateBlock = function (statements, env) {
  step(this, BLOCK_STEPS);
  return checked(this, libraryEvaluateBlock.call(this, statements, env));
};
(PyInterpreter.prototype as unknown as { applyFilter: ApplyFilter }).applyFilter = function (operand, filter, env) {
  if (filter.type === 'Identifier' && filter.value === 'tojson') return new StringValue(pyJsonDumps(operand, view));
  if (filter.type === 'CallExpression' && filter.callee?.type === 'Identifier' && filter.callee.value === 'tojson') {
    const [positional, kwargs] = evaluateArguments.call(this, filter.args ?? [], env);
    const arg = (i: number, name: string): Runtime | undefined => kwargs.get(name) ?? positional[i];
    const ensureAscii = arg(0, 'ensure_ascii');
    const indent = arg(1, 'indent');
    const separators = arg(2, 'separators');
    const sortKeys = arg(3, 'sort_keys');
    const seps = separators && Array.isArray(separators.value) ? (separators.value as Runtime[]).map((s) => String(s.value)) : null;
    if (seps && seps.length !== 2) throw new Error('tojson: separators must be a pair of strings');
    return new StringValue(pyJsonDumps(operand, view, {
      ensureAscii: !!ensureAscii?.value,
      indent: indent && (typeof indent.value === 'number' || typeof indent.value === 'string') ? indent.value : null,
      separators: seps as [string, string] | null,
      sortKeys: !!sortKeys?.value,
    }));
  }
  return libraryApplyFilter.call(this, operand, filter, env);
};
