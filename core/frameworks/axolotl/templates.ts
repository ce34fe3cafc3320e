/**
 * Which chat template an Axolotl dataset is rendered with, as Axolotl chooses it
 * (axolotl-ai-cloud/axolotl@067b021c src/axolotl/utils/chat_templates/base.py: get_chat_template,
 * extract_chat_template_args; src/axolotl/loaders/tokenizer.py load_tokenizer: a top-level `chat_template`
 * replaces the tokenizer's own before any dataset is read, and `default_system_message` is written into chatml).
 *
 * The named templates (`chatml`, `llama3`, `qwen_25`, `gemma3`, …) are Axolotl's own .jinja files, dumped unchanged
 * into templates.json by scripts/reference/axolotl_templates.py.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { FrameworkOptionsError } from '../trained';

// require (not import) keeps the 150 kB JSON out of the type checker; esbuild still bundles it.
const NAMED = require('./templates.json') as { source: string; templates: Record<string, string> };

export const NAMED_TEMPLATES_SOURCE = NAMED.source;

export function namedTemplate(name: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(NAMED.templates, name) ? NAMED.templates[name] : undefined;
}

const JINJA = 'jinja';
const TOKENIZER_DEFAULT = 'tokenizer_default';
const FALLBACK_PREFIX = 'tokenizer_default_fallback_';

export interface ChosenTemplate {
  source: string;
  /** What the preview says: "tokenizer_default", "chatml", "jinja", "tokenizer_default_fallback_chatml → chatml". */
  label: string;
}

/**
 * get_chat_template(user_choice, jinja_template, tokenizer). `key` names the config key a refusal points at.
 * A `chat_template_jinja` that names an existing file is read, as Axolotl does (os.path.exists, so relative to the
 * directory Axolotl runs in: `baseDir`, else the process's working directory).
 */
export function chooseTemplate(choice: string, jinja: string | undefined, tokenizerTemplate: string | null, key: string, baseDir?: string): ChosenTemplate {
  if (choice === JINJA) {
    if (!jinja) throw new FrameworkOptionsError('`chat_template: jinja` needs the template in `chat_template_jinja` (a Jinja string or a .jinja file)', key);
    return { source: readIfFile(jinja, baseDir), label: 'jinja' };
  }
  if (choice === TOKENIZER_DEFAULT) {
    if (tokenizerTemplate === null) {
      throw new FrameworkOptionsError("`chat_template: tokenizer_default` but the tokenizer has no chat_template: add one to tokenizer_config.json, or name one (e.g. `chat_template: chatml`)", key);
    }
    return { source: tokenizerTemplate, label: TOKENIZER_DEFAULT };
  }
  let name = choice;
  if (choice.startsWith(FALLBACK_PREFIX)) {
    if (tokenizerTemplate !== null) return { source: tokenizerTemplate, label: `${choice} (the tokenizer's)` };
    name = choice.slice(FALLBACK_PREFIX.length);
  }
  const named = namedTemplate(name);
  if (named === undefined) throw new FrameworkOptionsError(`Template '${name}' not found: Axolotl names ${Object.keys(NAMED.templates).join(', ')}`, key);
  return { source: named, label: name === choice ? name : `${choice} → ${name}` };
}

function readIfFile(jinja: string, baseDir: string | undefined): string {
  if (jinja.includes('\n')) return jinja;
  const path = baseDir === undefined ? jinja : resolve(baseDir, jinja);
  try {
    if (existsSync(path) && statSync(path).isFile()) return readFileSync(path, 'utf8');
  } catch {
    // not a readable path: the text is the template
  }
  return jinja;
}
