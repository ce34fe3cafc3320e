/**
 * Axolotl's masking rules for `type: chat_template` datasets, as the FrameworkMasker of core/frameworks/trained.ts.
 * Reproduces axolotl-ai-cloud/axolotl@067b021c: src/axolotl/prompt_strategies/chat_template.py (options.ts,
 * rows.ts, tokenize.ts), src/axolotl/utils/chat_templates/ (templates.ts), src/axolotl/utils/schemas/ (options.ts),
 * src/axolotl/utils/data/utils.py (tokenize.ts); checked against Axolotl's own code by
 * scripts/reference/axolotl_chat_template_ref.py (test/fixtures/axolotl/).
 *
 * `prepare` throws FrameworkOptionsError where Axolotl refuses the config; `key` is the key's name inside the
 * `datasets:` entry (train_on_eos, chat_template, message_field_role, …) or at the top level (eot_tokens,
 * sequence_len, excess_length_strategy): the wiring knows which entry it passed.
 */
import type { HfModelFolder } from '../../hf/folder';
import type { Finding, FrameworkMasker, PreparedMasker } from '../trained';
import { readOptions, type AxolotlOptions } from './options';
import { sampleFromRow } from './rows';
import { AxolotlConversationTokenizer } from './tokenize';

export { NAMED_TEMPLATES_SOURCE, namedTemplate } from './templates';

function summary(o: AxolotlOptions): string {
  const eot = o.trainOnEot === o.trainOnEos ? `train_on_eos ${o.trainOnEos}` : `train_on_eos ${o.trainOnEos} · train_on_eot ${o.trainOnEot}`;
  return [
    `template ${o.template.label}${o.ignoredJinja ? ' (chat_template_jinja ignored: set chat_template: jinja)' : ''}`,
    o.trainOnInputs ? 'train_on_inputs' : `roles_to_train ${o.rolesToTrain.join(', ') || 'none'}`,
    eot,
    `sequence_len ${o.sequenceLen} (${o.excessLength})`,
    ...o.ignoredKeys.map((k) => `${k} ignored by Axolotl's loader`),
  ].join(' · ') + ' (Axolotl)';
}

function configFindings(o: AxolotlOptions, t: AxolotlConversationTokenizer): Finding[] {
  const out = [...o.findings];
  if (o.trainOnEos === 'none' && o.trainOnEot === 'none') {
    out.push({ code: 'eos-not-trained', message: 'train_on_eos: none (and train_on_eot: none): no end-of-turn token is trained, so the model is not taught to stop.' });
  }
  if (!o.trainOnInputs && o.rolesToTrain.length === 0) {
    out.push({ code: 'nothing-trained', message: 'roles_to_train is empty: no turn is trained unless a message sets message_field_training.' });
  }
  if (t.facts.printsDate) {
    out.push({ code: 'date-inserted', message: "The chat template prints today's date (strftime_now), so the tokens change with the day Axolotl preprocesses the data." });
  }
  return out;
}

export const axolotlMasker: FrameworkMasker = {
  framework: 'axolotl',
  prepare(folder: HfModelFolder, config: Readonly<Record<string, unknown>>, entry: Readonly<Record<string, unknown>> = {}, baseDir?: string): PreparedMasker {
    const o = readOptions(folder, config, entry, baseDir);
    const tokenizer = new AxolotlConversationTokenizer(folder, o);
    return {
      summary: summary(o),
      findings: configFindings(o, tokenizer),
      sampleFromRow: (row) => sampleFromRow(row, o),
      tokenize: (sample) => tokenizer.tokenize(sample),
    };
  },
};
