/** Loads the torchtune golden cases (shared/golden/torchtune-tokenize) and runs them through tokenizeSample. */
import { readFileSync } from 'node:fs';
import { parseTree, type Node } from 'jsonc-parser';
import { createModelTokenizer } from '../../core/tokenizers';
import { tokenizeSample } from '../../core/data/pipeline';
import { formatProblem } from '../../core/data/transforms';
import { sharedPath } from '../shared';

export interface GoldenCase {
  name: string;
  data: string;
  style: 'sharegpt' | 'openai';
  column: string;
  train_on_input: boolean;
  new_system_prompt: string | null;
  max_seq_len: number | null;
  limit: number | null;
  tokenizer_component: Record<string, unknown>;
}

export type GoldenLine = { i: number; tokens: number[]; mask: boolean[]; labels: number[] } | { i: number; error: string };

export function goldenCases(): GoldenCase[] {
  return JSON.parse(readFileSync(sharedPath('golden', 'torchtune-tokenize', 'cases.json'), 'utf8')) as GoldenCase[];
}

export function goldenLines(name: string): GoldenLine[] {
  return readFileSync(sharedPath('golden', 'torchtune-tokenize', `${name}.jsonl`), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as GoldenLine);
}

/** Samples of a JSON array or JSONL file as nodes over the whole file text. */
export function samplesOf(path: string): { text: string; nodes: Node[] } {
  const text = readFileSync(path, 'utf8');
  if (path.endsWith('.jsonl')) {
    const nodes: Node[] = [];
    let start = 0;
    for (const line of text.split('\n')) {
      if (line.trim()) {
        // Parse the line alone, then shift offsets to document offsets.
        const n = parseTree(text.slice(0, start).replace(/[^\n]/g, ' ') + line);
        if (n) nodes.push(n);
      }
      start += line.length + 1;
    }
    return { text, nodes };
  }
  const root = parseTree(text);
  return { text, nodes: root?.children ?? [] };
}

export type Outcome = { i: number; tokens: number[]; mask: boolean[]; labels: number[] } | { i: number; error: string };

/** What our pipeline produces for a golden case (paths in cases.json are relative to the folder holding shared/). */
export function runCase(c: GoldenCase, overrides: Partial<GoldenCase> = {}): Outcome[] {
  const cc = { ...c, ...overrides };
  const base = sharedPath('..');
  const tok = createModelTokenizer({ ...cc.tokenizer_component, ...(cc.max_seq_len !== null ? { max_seq_len: cc.max_seq_len } : {}) }, base);
  const { text, nodes } = samplesOf(sharedPath('..', cc.data));
  const n = cc.limit === null ? nodes.length : Math.min(cc.limit, nodes.length);
  const out: Outcome[] = [];
  for (let i = 0; i < n; i++) {
    const r = tokenizeSample(tok, nodes[i], {
      kind: 'chat',
      style: cc.style,
      column: cc.column,
      trainOnInput: cc.train_on_input,
      newSystemPrompt: cc.new_system_prompt,
      text,
    });
    out.push(r.ok ? { i, tokens: r.sample.tokens, mask: r.sample.mask, labels: r.labels } : { i, error: formatProblem(r.error) });
  }
  return out;
}
