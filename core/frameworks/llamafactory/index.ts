/**
 * What LLaMA-Factory trains (stage: sft), as its own code decides it — hiyouga/LLaMA-Factory@ff6d4d12:
 * dataset_info.json entry → converter.py (converter.ts) → template.py / formatter.py (template.ts, templates.json)
 * → processor/supervised.py (supervised.ts). Checked token for token against LLaMA-Factory's own functions by
 * test/core/frameworks/llamafactory.test.ts (fixtures from scripts/reference/llamafactory_ref.py).
 *
 * `prepare(folder, config, entry)`: `entry` is the dataset_info.json entry of the dataset file being previewed (as
 * core/frameworks/datasets.ts resolves `dataset:` names); without one, DatasetAttr's defaults (alpaca:
 * instruction/input/output).
 */
import {
  type Finding,
  type FrameworkMasker,
  type FrameworkMessage,
  type FrameworkSample,
  type FrameworkTokenized,
  type PreparedMasker,
} from '../trained';
import { convertRow, datasetAttrOf, type AlignedSample } from './converter';
import { sampleFindings } from './findings';
import { readOptions } from './options';
import { encodeDataExample, IGNORE_INDEX } from './supervised';
import { UnsupportedSampleError, type LfMessage } from './template';

export { datasetAttrOf, convertRow } from './converter';
export { llamafactoryTemplate, llamafactoryTemplateNames, LLAMAFACTORY_TEMPLATES_SOURCE } from './template';
export { checkLlamaFactoryDatasets, datasetEntriesOf, type LlamaFactoryDatasetEntry } from './datasets';

/** FrameworkTokenized plus LLaMA-Factory's label ids (efficient_eos labels a prompt token with the eos id). */
export interface LlamaFactoryTokenized extends FrameworkTokenized {
  /** Per token, the label LLaMA-Factory writes: the id trained on, or -100. */
  labels: number[];
  /** Where each message's content lies in `text` (message: index in the sample's messages; -1: a default system prompt the template inserted). */
  contents: { message: number; start: number; end: number }[];
}

/** A sample as sampleFromRow builds it: the converter's verdict travels with the messages. */
interface LlamaFactorySample {
  kind: 'messages';
  messages: FrameworkMessage[];
  llamafactory?: { skipped?: AlignedSample['skipped']; tools: string; unsupervised: boolean; insertedSystem?: string };
}

const PLACEHOLDERS = ['<image>', '<video>', '<audio>']; // extras/constants.py IMAGE/VIDEO/AUDIO_PLACEHOLDER defaults

export const llamafactoryMasker: FrameworkMasker = {
  framework: 'llamafactory',
  prepare(folder, config, entry): PreparedMasker {
    const o = readOptions(folder, config);
    const attr = datasetAttrOf(entry);
    const summary = `${[...o.summaryParts, `${attr.formatting} dataset`].join(' · ')} (LLaMA-Factory)`;
    const tokenize = (sample: FrameworkSample): LlamaFactoryTokenized => {
      const out: LlamaFactoryTokenized = { text: '', ids: [], starts: [], ends: [], trained: [], labels: [], contents: [], way: 'formatter', findings: [] };
      const drop = (code: Finding['code'], message: string, messageIndex?: number): LlamaFactoryTokenized => {
        out.dropped = true;
        out.findings.push(messageIndex === undefined ? { code, message } : { code, message, message_index: messageIndex });
        return out;
      };
      if (sample.kind !== 'messages') return drop('template-error', 'LLaMA-Factory samples are messages (sampleFromRow builds them from alpaca or sharegpt rows)');
      const extra = (sample as LlamaFactorySample).llamafactory;
      if (extra?.skipped) return drop('role-not-trained', extra.skipped.message, extra.skipped.messageIndex);
      const msgs = sample.messages;
      let system = '';
      let first = 0;
      if (msgs.length > 0 && msgs[0].role === 'system') {
        system = msgs[0].content;
        first = 1;
      }
      const rest: LfMessage[] = [];
      for (let i = first; i < msgs.length; i++) {
        const role = msgs[i].role;
        const turn = i - first;
        const ok = turn % 2 === 0 ? role === 'user' || role === 'observation' : role === 'assistant' || role === 'function';
        if (!ok) return drop('role-not-trained', `message ${i} has role ${role} where LLaMA-Factory expects ${turn % 2 === 0 ? 'user or observation' : 'assistant or function'}; it skips the whole sample`, i);
        rest.push({ role: role as LfMessage['role'], content: msgs[i].content, source: msgs[i].source, index: i });
      }
      if (rest.length % 2 !== 0 || rest.length === 0) {
        if (extra?.unsupervised) return drop('nothing-trained', 'the row has no response string (alpaca `output` column): LLaMA-Factory logs "Dropped invalid example" and skips it');
        return drop('role-not-trained', `the conversation has ${rest.length} messages after the system prompt; LLaMA-Factory needs prompt/answer pairs and skips the whole sample`);
      }
      const texts = [{ i: first > 0 ? 0 : -1, c: system }, ...rest.map((m) => ({ i: m.index!, c: m.content }))];
      if (o.multimodal) {
        for (const { i, c } of texts) {
          const ph = PLACEHOLDERS.find((p) => c.includes(p));
          if (ph) return drop('template-error', `message ${i} contains ${ph}, a media placeholder of the ${o.templateName} template's multimodal plugin, with no media: LLaMA-Factory raises "The number of images does not match"`, i);
        }
      }
      let ex;
      try {
        ex = encodeDataExample(o.tk, rest.slice(0, -1), rest.slice(-1), system, extra?.tools ?? '', o.supervised);
      } catch (e) {
        if (e instanceof UnsupportedSampleError) {
          return drop('template-error', e.unsupported ? `not previewed: ${e.message}` : `LLaMA-Factory stops with an error on this sample: ${e.message}`);
        }
        throw e;
      }
      out.text = ex.text;
      out.ids = ex.ids;
      out.starts = ex.starts;
      out.ends = ex.ends;
      out.labels = ex.labels;
      out.trained = ex.labels.map((l) => l !== IGNORE_INDEX);
      out.contents = ex.contents.map((c) => ({ ...c, message: c.message === -1 ? (first > 0 ? 0 : -1) : c.message }));
      if (ex.lostTokens > 0) out.lost = { tokens: ex.lostTokens, trained: ex.lostTrained };
      out.findings.push(
        ...sampleFindings(o, {
          ex,
          trainedAny: out.trained.some(Boolean),
          system,
          tools: extra?.tools ?? '',
          ...(extra?.insertedSystem ? { insertedSystem: extra.insertedSystem } : {}),
          texts,
          lastMessage: rest[rest.length - 1].index,
        }),
      );
      return out;
    };

    return {
      summary,
      findings: o.findings,
      sampleFromRow(row: unknown): FrameworkSample | { error: string } {
        const a = convertRow(attr, row);
        if ('error' in a) return a;
        const messages: FrameworkMessage[] = [];
        if (a.systemSource !== undefined || (a.system && !a.skipped)) messages.push({ role: 'system', content: a.system, ...(a.systemSource !== undefined ? { source: a.systemSource } : {}) });
        for (const m of [...a.prompt, ...a.response]) messages.push({ role: m.role, content: m.content, ...(m.source !== undefined ? { source: m.source } : {}) });
        const s: LlamaFactorySample = {
          kind: 'messages',
          messages,
          llamafactory: { tools: a.tools, unsupervised: !a.skipped && a.response.length === 0, ...(a.skipped ? { skipped: a.skipped } : {}), ...(a.insertedSystem ? { insertedSystem: a.insertedSystem } : {}) },
        };
        return s;
      },
      tokenize,
    };
  },
};
