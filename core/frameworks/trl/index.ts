/**
 * TRL's SFTTrainer (huggingface/trl v1.13.0) as a FrameworkMasker: which tokens `trl sft --config x.yaml` trains.
 *
 * prepare() reads the SFTConfig keys (options.ts), picks the template SFTTrainer renders with (templates.ts:
 * chat_template_path, the training-template swap under assistant_only_loss) and reports once what TRL itself
 * refuses or warns about for that config; sampleFromRow() reads TRL's column names (rows.ts); tokenize() is
 * _prepare_dataset + the collator (tokenize.ts). Checked against TRL's own functions by
 * scripts/reference/trl_sft_ref.py → test/fixtures/trl/expected.json (test/core/frameworks/trl.test.ts).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, isAbsolute, resolve } from 'node:path';
import { ChatTemplate, ChatTemplateError } from '../../hf/chatTemplate';
import { loadHfModelFolder, templateVariables, type HfModelFolder } from '../../hf/folder';
import { FrameworkOptionsError, type Finding, type FrameworkMasker, type PreparedMasker } from '../trained';
import { readTrlOptions, type TrlOptions } from './options';
import { trlSampleFromRow, type TrlSample } from './rows';
import {
  NOT_TRAINING_COMPATIBLE, STOP_TOKEN_WARNING, TRL_VERSION, defaultSystemPrompt, isStopTokenTrained, printsDate, trainingTemplateFor,
} from './templates';
import { trlTokenize, type TrlTokenizeContext } from './tokenize';

export interface TrlMaskerOptions {
  /** Where relative `chat_template_path` values are resolved when prepare is given no baseDir (default: process.cwd()). */
  baseDir?: string;
  /** The date `strftime_now` prints (default: now, as transformers). */
  now?: Date;
}

interface BaseTemplate {
  source: string | undefined;
  label: string;
  /** clone_chat_template takes the source tokenizer's EOS. */
  eosToken?: string | null;
}

/** SFTTrainer.__init__'s chat_template_path: a .jinja/.j2 file, or a tokenizer folder (clone_chat_template). */
function baseTemplate(folder: HfModelFolder, opts: TrlOptions, baseDir: string): BaseTemplate {
  const own: BaseTemplate = { source: folder.chatTemplates.get('default'), label: "the model folder's chat template" };
  if (opts.chatTemplatePath === null) return own;
  const path = isAbsolute(opts.chatTemplatePath) ? opts.chatTemplatePath : resolve(baseDir, opts.chatTemplatePath);
  const isFile = existsSync(path) && statSync(path).isFile();
  if (isFile && /\.(jinja|j2)$/.test(path)) {
    return { source: readFileSync(path, 'utf8'), label: `chat_template_path ${basename(path)}` };
  }
  if (existsSync(path) && statSync(path).isDirectory()) {
    const source = loadHfModelFolder(path);
    const template = source.chatTemplates.get('default');
    if (template === undefined) throw new FrameworkOptionsError(`chat_template_path ${path} is a tokenizer folder without a chat template`, 'chat_template_path');
    const missing = [...source.tokenizer.addedTokens.values()].filter((t) => folder.tokenizer.idOf(t) === undefined);
    if (missing.length > 0) {
      throw new FrameworkOptionsError(
        `chat_template_path ${path}: TRL's clone_chat_template would add ${missing.length} tokens (${missing.slice(0, 3).join(', ')}…) to the model's tokenizer and resize its embeddings; the preview cannot model new tokens — point chat_template_path at a .jinja file instead`,
        'chat_template_path',
      );
    }
    return { source: template, label: `chat_template_path ${path} (cloned)`, eosToken: source.eosToken };
  }
  throw new FrameworkOptionsError(
    `chat_template_path ${opts.chatTemplatePath}: no such .jinja/.j2 file or tokenizer folder (resolved to ${path}); a Hub model id cannot be read offline — download it and point at the folder`,
    'chat_template_path',
  );
}

function compile(source: string, label: string): ChatTemplate {
  try {
    return new ChatTemplate(source);
  } catch (e) {
    throw new FrameworkOptionsError(`${label}: ${(e as ChatTemplateError).message}`, 'chat_template_path');
  }
}

export function createTrlMasker(masker: TrlMaskerOptions = {}): FrameworkMasker {
  return {
    framework: 'trl',
    prepare(folder: HfModelFolder, config: Readonly<Record<string, unknown>>, _entry?: Readonly<Record<string, unknown>>, baseDir?: string): PreparedMasker {
      const opts = readTrlOptions(config);
      const findings: Finding[] = [];
      const base = baseTemplate(folder, opts, baseDir ?? masker.baseDir ?? process.cwd());
      let eosToken = base.eosToken !== undefined ? base.eosToken : folder.eosToken;
      if (opts.eosToken !== null) {
        if (folder.tokenizer.idOf(opts.eosToken) === undefined) {
          throw new FrameworkOptionsError(
            `The specified \`eos_token\` ('${opts.eosToken}') is not found in the vocabulary of the given \`processing_class\`. Ensure that the \`eos_token\` exists in the vocabulary before using it as an EOS token.`,
            'eos_token',
          );
        }
        eosToken = opts.eosToken;
      }
      const variables: Record<string, unknown> = { ...templateVariables(folder) };
      if (eosToken !== null) variables.eos_token = eosToken;

      let template: ChatTemplate | null = base.source === undefined ? null : compile(base.source, base.label);
      let label = base.label;
      let assistantMaskUnavailable = false;
      if (opts.assistantOnlyLoss) {
        if (template === null) {
          findings.push({ code: 'no-generation-block', message: 'assistant_only_loss needs a chat template and the model folder has none (TRL fails at start); set chat_template_path' });
          assistantMaskUnavailable = true;
        } else if (!template.hasGenerationBlocks) {
          const swap = trainingTemplateFor(template.source);
          if (swap) {
            template = compile(swap.template, swap.training);
            label = `${swap.training} (TRL's training template for ${swap.stock})`;
          } else {
            findings.push({
              code: 'no-generation-block',
              message: `${label} has no {% generation %} block and is not one of TRL's known templates, so SFTTrainer raises ValueError at start: "${NOT_TRAINING_COMPATIBLE}" Set chat_template_path to a template with {% generation %}…{% endgeneration %} around the assistant's output (TRL ships *_training.jinja ones).`,
            });
            assistantMaskUnavailable = true;
          }
        }
        if (template !== null && !assistantMaskUnavailable && !isStopTokenTrained(folder, template, variables)) {
          findings.push({ code: 'eos-not-trained', message: `TRL warns: "${STOP_TOKEN_WARNING}" (${label})` });
        }
      }
      if (template !== null) {
        const inserted = defaultSystemPrompt(template, variables);
        if (inserted !== null) {
          findings.push({ code: 'default-system-prompt', message: `${label} inserts a system prompt when a conversation has none: ${JSON.stringify(inserted.trim())}` });
        }
        if (printsDate(template, variables)) findings.push({ code: 'date-inserted', message: `${label} prints the current date (strftime_now): the same conversation tokenizes differently on another day` });
      }
      const context: TrlTokenizeContext = { folder, options: opts, template, templateLabel: label, variables, eosToken, assistantMaskUnavailable, now: masker.now };
      return {
        summary: summaryOf(opts, label),
        findings,
        sampleFromRow: (row) => trlSampleFromRow(row, { datasetTextField: opts.datasetTextField, assistantOnlyLoss: opts.assistantOnlyLoss }),
        tokenize: (sample) => trlTokenize(context, sample as TrlSample),
      };
    },
  };
}

function summaryOf(opts: TrlOptions, label: string): string {
  const parts: string[] = [];
  if (opts.assistantOnlyLoss) parts.push('assistant_only_loss');
  if (opts.completionOnlyLoss !== false) parts.push(opts.completionOnlyLoss === true ? 'completion_only_loss' : 'completion_only_loss (prompt/completion rows)');
  parts.push(opts.maxLength === null ? 'no max_length' : `max_length ${opts.maxLength} (${opts.packing ? `packing ${opts.packingStrategy}` : opts.truncationMode})`);
  if (opts.paddingFree) parts.push('padding_free');
  parts.push(label);
  return `${parts.join(' · ')} (TRL ${TRL_VERSION})`;
}

/** TRL with chat_template_path resolved against the current directory. */
export const trlMasker: FrameworkMasker = createTrlMasker();
