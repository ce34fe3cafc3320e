/**
 * The SFTConfig keys that decide what TRL's SFTTrainer tokenizes and trains, read from a `trl sft --config` YAML
 * value, with SFTConfig's defaults and the refusals SFTTrainer raises for them.
 *
 * Source: huggingface/trl v1.13.0 trl/trainer/sft_config.py (fields and defaults) and trl/trainer/sft_trainer.py
 * (`SFTTrainer.__init__`: eos_token must be in the vocabulary, padding_free without packing needs
 * max_length=None; `_prepare_dataset`: truncation_mode keep_start | keep_end).
 */
import { FrameworkOptionsError } from '../trained';

export type PackingStrategy = 'bfd' | 'bfd_split' | 'wrapped';

export interface TrlOptions {
  /** dataset_text_field (default "text"): the column a language-modeling row's text is read from. */
  datasetTextField: string;
  /** eos_token (default: the tokenizer's): replaces tokenizer.eos_token, so also the template's `eos_token`. */
  eosToken: string | null;
  /** max_length (default 1024; null = no truncation). */
  maxLength: number | null;
  truncationMode: 'keep_start' | 'keep_end';
  packing: boolean;
  packingStrategy: PackingStrategy;
  /** padding_free as set; SFTTrainer also turns it on for packing with bfd / bfd_split. */
  paddingFree: boolean;
  /** completion_only_loss: null = on for prompt/completion rows, off otherwise. */
  completionOnlyLoss: boolean | null;
  assistantOnlyLoss: boolean;
  chatTemplatePath: string | null;
  /** dataset_kwargs.skip_prepare_dataset: TRL tokenizes nothing (the dataset must be pre-tokenized). */
  skipPrepareDataset: boolean;
}

function optionalString(config: Readonly<Record<string, unknown>>, key: string, fallback: string | null): string | null {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'string') throw new FrameworkOptionsError(`${key} must be a string (got ${JSON.stringify(v)})`, key);
  return v;
}

function optionalBool(config: Readonly<Record<string, unknown>>, key: string, fallback: boolean | null): boolean | null {
  const v = config[key];
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'boolean') throw new FrameworkOptionsError(`${key} must be true or false (got ${JSON.stringify(v)})`, key);
  return v;
}

export function readTrlOptions(config: Readonly<Record<string, unknown>>): TrlOptions {
  const maxLengthValue = config.max_length;
  let maxLength: number | null = 1024;
  if (maxLengthValue === null) maxLength = null;
  else if (maxLengthValue !== undefined) {
    if (typeof maxLengthValue !== 'number' || !Number.isInteger(maxLengthValue) || maxLengthValue < 1) {
      throw new FrameworkOptionsError(`max_length must be a positive integer or null (got ${JSON.stringify(maxLengthValue)})`, 'max_length');
    }
    maxLength = maxLengthValue;
  }
  const truncationMode = optionalString(config, 'truncation_mode', 'keep_start');
  if (truncationMode !== 'keep_start' && truncationMode !== 'keep_end') {
    throw new FrameworkOptionsError(`Unsupported truncation mode: ${truncationMode}, expected 'keep_start' or 'keep_end'`, 'truncation_mode');
  }
  let packingStrategy = optionalString(config, 'packing_strategy', 'bfd');
  if (packingStrategy === 'bfd-requeue') packingStrategy = 'bfd_split'; // SFTConfig.__post_init__'s rename
  if (packingStrategy !== 'bfd' && packingStrategy !== 'bfd_split' && packingStrategy !== 'wrapped') {
    throw new FrameworkOptionsError(`packing_strategy must be 'bfd', 'bfd_split' or 'wrapped' (got ${JSON.stringify(packingStrategy)})`, 'packing_strategy');
  }
  const packing = optionalBool(config, 'packing', false) ?? false;
  const paddingFree = optionalBool(config, 'padding_free', false) ?? false;
  if (paddingFree && !packing && maxLength !== null) {
    throw new FrameworkOptionsError(
      'When `padding_free=True` without packing, `max_length` is not enforced. Either enable packing (e.g., `packing=True, packing_strategy=\'bfd\'`), provide already truncated inputs, or set `max_length=None`.' +
        (config.max_length === undefined ? ' (max_length defaults to 1024.)' : ''),
      config.max_length === undefined ? 'padding_free' : 'max_length',
    );
  }
  const kwargs = config.dataset_kwargs;
  const skipPrepareDataset = !!kwargs && typeof kwargs === 'object' && (kwargs as Record<string, unknown>).skip_prepare_dataset === true;
  return {
    datasetTextField: optionalString(config, 'dataset_text_field', 'text') ?? 'text',
    eosToken: optionalString(config, 'eos_token', null),
    maxLength,
    truncationMode,
    packing,
    packingStrategy,
    paddingFree: paddingFree || (packing && packingStrategy !== 'wrapped'),
    completionOnlyLoss: optionalBool(config, 'completion_only_loss', null),
    assistantOnlyLoss: optionalBool(config, 'assistant_only_loss', false) ?? false,
    chatTemplatePath: optionalString(config, 'chat_template_path', null),
    skipPrepareDataset,
  };
}
