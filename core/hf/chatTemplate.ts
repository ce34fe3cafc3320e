/**
 * Hugging Face chat templates rendered as transformers' `apply_chat_template` renders them
 * (src/transformers/utils/chat_template_utils.py: `_compile_jinja_template`, `render_jinja_template`), on
 * `@huggingface/jinja`.
 *
 * transformers' environment: ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with
 * jinja2.ext.loopcontrols, its own `tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False)`
 * filter, and the globals `raise_exception(message)` (TemplateError) and `strftime_now(format)`; the template gets
 * `messages`, `tools`, `documents`, `add_generation_prompt` and every extra kwarg (the tokenizer's special tokens:
 * `bos_token`, `eos_token`, …). `@huggingface/jinja` already lexes with trim_blocks + lstrip_blocks, has
 * break/continue, and a `tojson` with those four arguments; what we add around it:
 *
 * - `{% generation %}…{% endgeneration %}` spans (transformers' AssistantTracker). `@huggingface/jinja` deletes
 *   these tags in `preprocess()` (src/lexer.ts), so before lexing we replace each tag with a block that prints a
 *   private-use marker character, `{%<l> if true %}M{% endif <r>%}`: a block tag like the one it replaces, so
 *   lstrip_blocks, trim_blocks and the `-` modifiers strip exactly the same whitespace. After rendering, the
 *   markers are removed and their positions become the spans.
 * - `raise_exception` throws a ChatTemplateError carrying the template's message (transformers: TemplateError).
 * - `strftime_now` can be pinned to a fixed date (`now`), so renders that print today's date are reproducible.
 * - `range` is the sandbox's safe_range (at most 100000 items), as ImmutableSandboxedEnvironment's.
 * - A work budget, which jinja2 has not (core/hf/jinjaPython.ts): a render that takes more than renderMaxSteps(conversation)
 *   steps, or builds a string longer than renderMaxChars(conversation), stops with a ChatTemplateError instead of
 *   hanging or exhausting memory. Both are far beyond real templates (bench/chat-template-steps.ts measures them).
 *
 * - Python floats and `tojson` as json.dumps: core/hf/jinjaPython.ts (integral floats arrive as PyFloat from
 *   core/hf/pyJson.ts `parsePyJson`/`pyJsonValue`).
 *
 * Known differences from Python that remain: a `{% generation %}` inside a macro or `{% set %}` block is placed where its text lands (transformers
 * records the position at the time the block is evaluated).
 */
import { Environment, Template } from '@huggingface/jinja';
import { PyInterpreter, RenderLimitError, setVariable, type RenderLimits } from './jinjaPython';
import './jinjaStrings'; // Python's str.strip/lstrip/rstrip (the library ignores their argument)

/** The template failed: it raised (`raise_exception`), or it does not parse or evaluate. */
export class ChatTemplateError extends Error {
  constructor(message: string, readonly raised: boolean) {
    super(message);
    this.name = 'ChatTemplateError';
  }
}

export interface RenderOptions {
  tools?: unknown[] | null;
  documents?: unknown[] | null;
  addGenerationPrompt?: boolean;
  /** Extra template variables (transformers' **kwargs / template_vars): bos_token, eos_token, enable_thinking… */
  extra?: Record<string, unknown>;
  /** The date `strftime_now` formats (default: the current time, as transformers). */
  now?: Date;
}

/** A rendered conversation and the [start, end) UTF-16 ranges of its `{% generation %}` blocks, in order. */
export interface RenderedChat {
  text: string;
  generationSpans: [number, number][];
  /** Work the render took (evaluated nodes plus loop iterations), for bench/chat-template-steps.ts. */
  steps: number;
}

/**
 * The most steps one render may take: RENDER_BASE_STEPS plus RENDER_STEPS_PER_ITEM per message, tool and document.
 * The templates of test/fixtures/chat-templates take at most about 2,000 steps per conversation and 400 per message
 * (bench/chat-template-steps.ts), so this is a thousand times what they need; a step costs about 1 µs, so a
 * hostile template (nested range(100000) loops: 10^10 iterations) stops within a few seconds.
 */
export const RENDER_BASE_STEPS = 2_000_000;
export const RENDER_STEPS_PER_ITEM = 20_000;

export function renderMaxSteps(items: number): number {
  return RENDER_BASE_STEPS + RENDER_STEPS_PER_ITEM * items;
}

/** The longest string one render may build: the conversation's own text many times over, and at least 16M. */
export function renderMaxChars(inputChars: number): number {
  return Math.max(16_000_000, 32 * inputChars);
}

const GENERATION_TAG = /\{%(-?)\s*(end)?generation\s*(-?)%\}/g;

/** Whether a template marks the assistant's output with `{% generation %}` (transformers' own regex test). */
export function hasGenerationBlocks(template: string): boolean {
  return /\{%-?\s*generation\s*-?%\}/.test(template);
}

/** Two private-use characters absent from `texts`, to mark generation starts and ends. */
function pickMarkers(texts: string[]): [string, string] {
  for (let c = 0xe000; c < 0xf8ff; c += 2) {
    const open = String.fromCharCode(c);
    const close = String.fromCharCode(c + 1);
    if (texts.every((t) => !t.includes(open) && !t.includes(close))) return [open, close];
  }
  throw new ChatTemplateError('cannot mark generation blocks: the conversation uses every private-use character', false);
}

/** Formats `date` as Python's strftime does for the directives chat templates use. */
export function pyStrftime(date: Date, format: string): string {
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  const months = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  return format.replace(/%([a-zA-Z%])/g, (all, d: string) => {
    switch (d) {
      case 'Y': return String(date.getFullYear());
      case 'y': return pad(date.getFullYear() % 100);
      case 'm': return pad(date.getMonth() + 1);
      case 'd': return pad(date.getDate());
      case 'e': return String(date.getDate()).padStart(2, ' ');
      case 'B': return months[date.getMonth()];
      case 'b': return months[date.getMonth()].slice(0, 3);
      case 'A': return days[date.getDay()];
      case 'a': return days[date.getDay()].slice(0, 3);
      case 'H': return pad(date.getHours());
      case 'I': return pad(((date.getHours() + 11) % 12) + 1);
      case 'p': return date.getHours() < 12 ? 'AM' : 'PM';
      case 'M': return pad(date.getMinutes());
      case 'S': return pad(date.getSeconds());
      case 'j': {
        const start = new Date(date.getFullYear(), 0, 1);
        return pad(Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1, 3);
      }
      case '%': return '%';
      default: return all;
    }
  });
}

/** A compiled chat template. Compile once per template text; render per conversation. */
export class ChatTemplate {
  private readonly compiled = new Map<string, Template>();
  readonly hasGenerationBlocks: boolean;

  /** `origin` names the template's file (or config key) in error messages. */
  constructor(readonly source: string, readonly origin = 'the chat template') {
    this.hasGenerationBlocks = hasGenerationBlocks(source);
    // Parse errors surface here, before any conversation is rendered.
    this.compile(['\ue000', '\ue001']);
  }

  private compile([open, close]: [string, string]): Template {
    const key = open + close;
    let t = this.compiled.get(key);
    if (!t) {
      const marked = this.source.replace(GENERATION_TAG, (_all, l: string, end: string | undefined, r: string) =>
        `{%${l} if true %}${end ? close : open}{% endif ${r}%}`,
      );
      try {
        t = new Template(marked);
      } catch (e) {
        throw new ChatTemplateError(`the chat template does not parse: ${(e as Error).message}`, false);
      }
      this.compiled.set(key, t);
    }
    return t;
  }

  render(messages: readonly unknown[], opts: RenderOptions = {}): RenderedChat {
    const extra = opts.extra ?? {};
    const inputs = { messages, tools: opts.tools ?? null, documents: opts.documents ?? null, extra };
    const inputText = JSON.stringify(inputs);
    const markers = this.hasGenerationBlocks ? pickMarkers([inputText, this.source]) : (['\ue000', '\ue001'] as [string, string]);
    const template = this.compile(markers);
    const variables: Record<string, unknown> = {
      ...extra,
      messages,
      tools: opts.tools ?? null,
      documents: opts.documents ?? null,
      add_generation_prompt: opts.addGenerationPrompt ?? false,
    };
    let raw: string;
    let steps: number;
    const items = messages.length + (opts.tools?.length ?? 0) + (opts.documents?.length ?? 0);
    const limits: RenderLimits = { maxSteps: renderMaxSteps(items), maxChars: renderMaxChars(inputText.length) };
    try {
      ({ raw, steps } = renderWith(template, variables, opts.now, limits));
    } catch (e) {
      if (e instanceof ChatTemplateError) throw e;
      if (e instanceof RenderLimitError) throw new ChatTemplateError(this.limitMessage(e), false);
      // V8's own string limit, hit by doubling a string faster than the per-string check sees it grow.
      if (e instanceof RangeError && /string length/i.test(e.message)) throw new ChatTemplateError(this.limitMessage(new RenderLimitError('chars', limits.maxChars)), false);
      throw new ChatTemplateError(`the chat template failed: ${(e as Error).message}`, false);
    }
    return { ...(this.hasGenerationBlocks ? extractSpans(raw, markers) : { text: raw, generationSpans: [] }), steps };
  }

  private limitMessage(e: RenderLimitError): string {
    const what = e.kind === 'steps'
      ? `took more than ${e.limit.toLocaleString('en-US')} steps (loop iterations and evaluated expressions) on one conversation, so rendering stopped; real chat templates take a few thousand`
      : `built a string longer than ${e.limit.toLocaleString('en-US')} characters on one conversation, so rendering stopped`;
    return `${this.origin} ${what}. Check its loops (nested range() calls, loops over long strings) and string concatenation, or use the model's own template`;
  }
}

/**
 * Template.render with transformers' globals in place of @huggingface/jinja's: Template.render declares its own
 * `raise_exception` (a bare Error) and `strftime_now` (the current time) and refuses redeclaring them, so the
 * environment is built here: the same constants and `range`, plus our two functions. The globals live in a parent
 * environment built once per `now` (converting them is a tenth of a short render); each render gets a child
 * environment for its variables, which shadow the globals exactly as a merged environment would, and the
 * template's own `{% set %}` writes land in that child (or deeper), never in the shared parent.
 */
function renderWith(template: Template, variables: Record<string, unknown>, now: Date | undefined, limits: RenderLimits): { raw: string; steps: number } {
  const env = new Environment(globalsFor(now));
  for (const [k, v] of Object.entries(variables)) setVariable(env, k, v);
  const interpreter = new PyInterpreter(env, limits);
  const raw = interpreter.run(template.parsed).value as string;
  return { raw, steps: interpreter.steps };
}

/** The globals environment for the clock (undefined) and for the last pinned date, by its time value. */
let clockGlobals: Environment | undefined;
let pinnedGlobals: { time: number; env: Environment } | undefined;

function globalsFor(now: Date | undefined): Environment {
  if (now === undefined) return (clockGlobals ??= makeGlobals(() => new Date()));
  const time = now.getTime();
  if (pinnedGlobals?.time !== time) {
    const pinned = new Date(time); // a copy: the caller may change its Date afterwards
    pinnedGlobals = { time, env: makeGlobals(() => pinned) };
  }
  return pinnedGlobals.env;
}

function makeGlobals(date: () => Date): Environment {
  const env = new Environment();
  const globals: Record<string, unknown> = {
    false: false, true: true, none: null, False: false, True: true, None: null,
    range: pyRange,
    raise_exception: (message: unknown) => {
      throw new ChatTemplateError(String(message), true);
    },
    strftime_now: (format: unknown) => pyStrftime(date(), String(format)),
  };
  for (const [k, v] of Object.entries(globals)) env.set(k, v);
  return env;
}

/** jinja2.sandbox.MAX_RANGE: the sandbox's `range` refuses longer ranges (so a template cannot exhaust memory). */
export const SANDBOX_MAX_RANGE = 100_000;

/** The sandbox's safe_range: Python's range(stop) / range(start, stop[, step]), at most SANDBOX_MAX_RANGE long. */
function pyRange(a: number, b?: number, step = 1): number[] {
  const [start, stop] = b === undefined ? [0, a] : [a, b];
  if (step === 0) throw new ChatTemplateError('range() arg 3 must not be zero', false);
  const length = Math.max(0, Math.ceil((stop - start) / step));
  if (length > SANDBOX_MAX_RANGE) {
    throw new ChatTemplateError(`Range too big. The sandbox blocks ranges larger than MAX_RANGE (${SANDBOX_MAX_RANGE}).`, false);
  }
  const out: number[] = [];
  for (let i = 0; i < length; i++) out.push(start + i * step);
  return out;
}

/** Removes the markers; each outermost open…close pair becomes a span (transformers records each block it leaves). */
function extractSpans(raw: string, [open, close]: [string, string]): Omit<RenderedChat, 'steps'> {
  let text = '';
  const spans: [number, number][] = [];
  const starts: number[] = [];
  let last = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c !== open && c !== close) continue;
    text += raw.slice(last, i);
    last = i + 1;
    if (c === open) starts.push(text.length);
    else {
      const s = starts.pop();
      if (s !== undefined) spans.push([s, text.length]);
    }
  }
  text += raw.slice(last);
  // transformers appends a block's span when the block ends: inner blocks come before the outer one.
  return { text, generationSpans: spans };
}
