/**
 * The options Axolotl's `type: chat_template` strategy runs with, read from the config's top level and one
 * `datasets:` entry with Axolotl's own defaults and validators (axolotl-ai-cloud/axolotl@067b021c):
 *
 * - src/axolotl/utils/schemas/datasets.py SFTDataset: `handle_legacy_message_fields` (utils/schemas/utils.py:
 *   message_field_role/_content → message_property_mappings, a conflict raises; role/content default to
 *   "role"/"content") and `check_chat_template_config` (chat_template defaults to tokenizer_default for
 *   type chat_template — so a dataset's chat_template_jinja without `chat_template: jinja` is ignored; jinja needs
 *   chat_template_jinja); the Literal train_on_eos/train_on_eot values.
 * - src/axolotl/utils/schemas/config.py / training.py: sequence_len 512, train_on_inputs False,
 *   excess_length_strategy (None → "drop"), min_sample_len (None → 2), eot_tokens; the top-level
 *   chat_template_jinja without chat_template means jinja (utils/schemas/validation.py check_chat_template_config).
 * - src/axolotl/prompt_strategies/chat_template.py StrategyLoader._get_strategy_params and __call__ (which does
 *   not pass field_tools on, and whose field_thinking mapping is only used when message_property_mappings is
 *   empty, which the validator never leaves it: both keys are ignored):
 *   roles_to_train ["assistant"], train_on_eos "turn", train_on_eot = train_on_eos when unset, field_messages
 *   "messages", roles mapping (default human/user → user, gpt/assistant → assistant, system, tool), roles_to_train
 *   mapped through it; ChatTemplateStrategy._validate_eot_and_eos_tokens (eot_tokens default [eos_token]; a listed
 *   token not in the template is dropped; one that encodes to several tokens, or eos among eot_tokens with
 *   train_on_eos ≠ train_on_eot, raises).
 */
import type { HfModelFolder } from '../../hf/folder';
import { FrameworkOptionsError, type Finding } from '../trained';
import { chooseTemplate, type ChosenTemplate } from './templates';

export type TrainOnEos = 'all' | 'turn' | 'last' | 'none';
const TRAIN_ON_EOS: readonly TrainOnEos[] = ['all', 'turn', 'last', 'none'];
export type ExcessLength = 'drop' | 'truncate' | 'raise';

const DEFAULT_ROLES: Record<string, string> = { human: 'user', user: 'user', assistant: 'assistant', gpt: 'assistant', system: 'system', tool: 'tool' };

export interface AxolotlOptions {
  fieldMessages: string;
  fieldSystem: string;
  fieldTools: string;
  /** Template property ← dataset message key (message_property_mappings after the legacy fields). */
  propertyMappings: Record<string, string>;
  /** Dataset role → template role. */
  roles: Record<string, string>;
  /** Template roles (after the roles mapping). */
  rolesToTrain: string[];
  trainOnInputs: boolean;
  trainOnEos: TrainOnEos;
  trainOnEot: TrainOnEos;
  messageFieldTraining?: string;
  messageFieldTrainingDetail?: string;
  templateThinkingKey: string;
  splitThinking: boolean;
  dropSystemMessage: boolean;
  template: ChosenTemplate;
  chatTemplateKwargs: Record<string, unknown>;
  /** eot_tokens after validation, and the ids of those that are one token (what find_first_eot_token looks for). */
  eotTokens: string[];
  eotIds: Set<number>;
  eosId: number | null;
  sequenceLen: number;
  excessLength: ExcessLength;
  minSampleLen: number;
  /** Config-level findings (what Axolotl only logs). */
  findings: Finding[];
  /** A dataset chat_template_jinja that Axolotl ignores (its validator picked tokenizer_default first). */
  ignoredJinja: boolean;
  /** Entry keys the schema accepts but the chat_template loader never reads. */
  ignoredKeys: string[];
}

type Obj = Readonly<Record<string, unknown>>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A value that Axolotl's pydantic model would treat as unset (None, or the key absent). */
function given(o: Obj, key: string): unknown {
  const v = o[key];
  return v === null ? undefined : v;
}

function str(o: Obj, key: string): string | undefined {
  const v = given(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new FrameworkOptionsError(`\`${key}\` must be a string`, key);
  return v;
}

function bool(o: Obj, key: string): boolean | undefined {
  const v = given(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new FrameworkOptionsError(`\`${key}\` must be true or false`, key);
  return v;
}

function wholeNumber(o: Obj, key: string): number | undefined {
  const v = given(o, key);
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw new FrameworkOptionsError(`\`${key}\` must be a whole number`, key);
  return v;
}

function stringList(o: Obj, key: string): string[] | undefined {
  const v = given(o, key);
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new FrameworkOptionsError(`\`${key}\` must be a list of strings`, key);
  return v as string[];
}

function trainOn(o: Obj, key: string): TrainOnEos | undefined {
  const v = given(o, key);
  if (v === undefined) return undefined;
  if (!TRAIN_ON_EOS.includes(v as TrainOnEos)) throw new FrameworkOptionsError(`\`${key}\` must be one of all, turn, last, none (got ${JSON.stringify(v)})`, key);
  return v as TrainOnEos;
}

/** utils/schemas/utils.py handle_legacy_message_fields_logic. */
function propertyMappings(entry: Obj): Record<string, string> {
  const raw = given(entry, 'message_property_mappings');
  if (raw !== undefined && (!isObj(raw) || Object.values(raw).some((x) => typeof x !== 'string'))) {
    throw new FrameworkOptionsError('`message_property_mappings` must map template properties to dataset keys, e.g. {role: from, content: value}', 'message_property_mappings');
  }
  const out: Record<string, string> = { ...((raw as Record<string, string> | undefined) ?? {}) };
  for (const [field, prop] of [['message_field_role', 'role'], ['message_field_content', 'content']] as const) {
    if (field in entry) {
      const legacy = entry[field];
      if (legacy !== null && typeof legacy !== 'string') throw new FrameworkOptionsError(`\`${field}\` must be a string`, field);
      if (prop in out && out[prop] !== legacy) {
        throw new FrameworkOptionsError(`Conflicting message ${prop} fields: ${field}='${String(legacy)}' conflicts with message_property_mappings.${prop}='${out[prop]}'; keep one (message_property_mappings)`, field);
      }
      out[prop] = (legacy as string | null) || prop;
    } else if (!(prop in out)) out[prop] = prop;
  }
  return out;
}

function rolesMapping(entry: Obj): Record<string, string> {
  const raw = given(entry, 'roles');
  if (raw === undefined) return { ...DEFAULT_ROLES };
  if (!isObj(raw) || Object.values(raw).some((x) => !Array.isArray(x) || x.some((s) => typeof s !== 'string'))) {
    throw new FrameworkOptionsError('`roles` maps each template role to the dataset roles it stands for, e.g. {assistant: [gpt, bot]}', 'roles');
  }
  // ChatTemplatePrompter: {s: t for t, sources in roles.items() for s in sources}; an empty mapping means the default.
  const out: Record<string, string> = {};
  for (const [target, sources] of Object.entries(raw)) for (const s of sources as string[]) out[s] = target;
  return Object.keys(out).length === 0 && Object.keys(raw).length === 0 ? { ...DEFAULT_ROLES } : out;
}

/** The template the dataset is rendered with (extract_chat_template_args over the validated entry). */
function template(folder: HfModelFolder, config: Obj, entry: Obj, baseDir: string | undefined): { chosen: ChosenTemplate; ignoredJinja: boolean } {
  const own = folder.chatTemplates.get('default') ?? null;
  let tokenizerTemplate = own;
  const topJinja = str(config, 'chat_template_jinja');
  const topChoice = str(config, 'chat_template') || (topJinja ? 'jinja' : undefined);
  if (topChoice) {
    let s = chooseTemplate(topChoice, topJinja, own, 'chat_template', baseDir).source;
    const system = str(config, 'default_system_message');
    if (system && topChoice === 'chatml') s = s.split('You are a helpful assistant.').join(system);
    tokenizerTemplate = s;
  }
  const dsJinja = str(entry, 'chat_template_jinja');
  // SFTDataset.check_chat_template_config: type chat_template without chat_template → tokenizer_default, before
  // the rule that would have made a lone chat_template_jinja mean jinja.
  const dsChoice = str(entry, 'chat_template') || 'tokenizer_default';
  if (dsChoice === 'jinja' && !dsJinja) throw new FrameworkOptionsError('chat_template_jinja is required when chat_template is set to jinja', 'chat_template');
  return {
    chosen: chooseTemplate(dsChoice, dsJinja, tokenizerTemplate, 'chat_template', baseDir),
    ignoredJinja: !!dsJinja && dsChoice !== 'jinja',
  };
}

/** ChatTemplateStrategy._validate_eot_and_eos_tokens and the eot id cache built after it. */
function eotTokens(folder: HfModelFolder, config: Obj, source: string, trainOnEos: TrainOnEos, trainOnEot: TrainOnEos, findings: Finding[]): { tokens: string[]; ids: Set<number> } {
  const eos = folder.eosToken;
  let tokens = stringList(config, 'eot_tokens') ?? (eos !== null ? [eos] : []);
  const encode = (t: string): number[] => folder.tokenizer.encodeIds(t, false);
  if (tokens.length === 1 && tokens[0] === eos) {
    if (!source.includes(eos) && !source.includes('eos_token')) {
      findings.push({
        code: 'eos-not-trained',
        message: `The EOS token '${eos}' is not in the chat template, so Axolotl trains no turn terminator (it only logs a warning): set \`eot_tokens\` to the template's end-of-turn token.`,
      });
    }
  } else {
    const kept: string[] = [];
    for (const t of tokens) {
      if (source.includes(t)) kept.push(t);
      else findings.push({ code: 'eos-not-trained', message: `eot_tokens: '${t}' is not in the chat template, so Axolotl drops it from eot_tokens (it only logs a warning).` });
    }
    tokens = kept;
    for (const t of tokens) {
      const ids = encode(t);
      if (ids.length === 0) throw new FrameworkOptionsError(`eot_tokens: '${t}' encodes to no token`, 'eot_tokens');
      if (ids.length > 1) {
        throw new FrameworkOptionsError(`eot_tokens: '${t}' is encoded as multiple tokens (${ids.join(', ')}); add it under \`tokens:\` or override an unused added token with \`added_tokens_overrides:\``, 'eot_tokens');
      }
    }
    if (eos !== null && tokens.includes(eos) && trainOnEos !== trainOnEot) {
      throw new FrameworkOptionsError(`Conflict between train_on_eos (${trainOnEos}) and train_on_eot (${trainOnEot}): the eos_token '${eos}' is in eot_tokens; make them equal`, 'train_on_eot');
    }
  }
  const ids = new Set<number>();
  for (const t of tokens) {
    const e = encode(t);
    if (e.length === 1) ids.add(e[0]);
  }
  return { tokens, ids };
}

export function readOptions(folder: HfModelFolder, config: Obj, entry: Obj, baseDir?: string): AxolotlOptions {
  if (given(config, 'tokenizer_use_mistral_common') === true) {
    throw new FrameworkOptionsError('tokenizer_use_mistral_common: Axolotl then tokenizes with mistral-common, not the chat template; that path is not previewed', 'tokenizer_use_mistral_common');
  }
  const type = given(entry, 'type');
  if (type !== 'chat_template') {
    throw new FrameworkOptionsError(`only \`type: chat_template\` datasets are previewed (this entry has type ${JSON.stringify(type ?? null)})`, 'type');
  }
  const findings: Finding[] = [];
  const propertyMap = propertyMappings(entry);
  const roles = rolesMapping(entry);
  const trainOnEos = trainOn(entry, 'train_on_eos') ?? 'turn';
  const trainOnEot = trainOn(entry, 'train_on_eot') ?? trainOnEos;
  const { chosen, ignoredJinja } = template(folder, config, entry, baseDir);
  const eot = eotTokens(folder, config, chosen.source, trainOnEos, trainOnEot, findings);
  const excess = (str(config, 'excess_length_strategy') ?? 'drop').toLowerCase();
  if (excess !== 'drop' && excess !== 'truncate' && excess !== 'raise') {
    throw new FrameworkOptionsError(`\`excess_length_strategy\` must be drop, truncate or raise (got ${JSON.stringify(excess)})`, 'excess_length_strategy');
  }
  const kwargs = given(config, 'chat_template_kwargs');
  if (kwargs !== undefined && !isObj(kwargs)) throw new FrameworkOptionsError('`chat_template_kwargs` must be a mapping', 'chat_template_kwargs');
  const eosId = folder.eosToken === null ? null : folder.tokenizer.idOf(folder.eosToken) ?? null;
  return {
    fieldMessages: str(entry, 'field_messages') ?? 'messages',
    fieldSystem: 'system',
    // StrategyLoader passes neither field_tools nor (through the always-filled mappings) field_thinking on.
    fieldTools: 'tools',
    ignoredKeys: ['field_tools', 'field_thinking'].filter((k) => str(entry, k) !== undefined),
    propertyMappings: propertyMap,
    roles,
    rolesToTrain: (stringList(entry, 'roles_to_train') ?? ['assistant']).map((r) => roles[r] ?? r),
    trainOnInputs: bool(config, 'train_on_inputs') ?? false,
    trainOnEos,
    trainOnEot,
    messageFieldTraining: str(entry, 'message_field_training'),
    messageFieldTrainingDetail: str(entry, 'message_field_training_detail'),
    templateThinkingKey: str(entry, 'template_thinking_key') ?? 'reasoning_content',
    splitThinking: bool(entry, 'split_thinking') ?? false,
    dropSystemMessage: bool(entry, 'drop_system_message') ?? false,
    template: chosen,
    chatTemplateKwargs: (kwargs as Record<string, unknown> | undefined) ?? {},
    eotTokens: eot.tokens,
    eotIds: eot.ids,
    eosId,
    sequenceLen: wholeNumber(config, 'sequence_len') ?? 512,
    excessLength: excess,
    minSampleLen: wholeNumber(config, 'min_sample_len') || 2,
    findings,
    ignoredJinja,
  };
}
