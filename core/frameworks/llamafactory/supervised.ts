/**
 * LLaMA-Factory's supervised (stage: sft) example builder, hiyouga/LLaMA-Factory@ff6d4d12
 * src/llamafactory/data/processor/supervised.py `_encode_data_example` + processor_utils.py `infer_seqlen`:
 *
 * - the conversation is encoded as [prompt, answer] pairs (template.encode_multiturn);
 * - `mask_history`: the pairs are walked LAST first (the last turn gets the length budget) and prepended, and only
 *   the first walked pair — the last answer — is trained;
 * - per pair, while the running length is under `cutoff_len` (default 2048; packing takes one off it in
 *   DataArguments.__post_init__): infer_seqlen splits the remaining budget between prompt and answer, each is cut at
 *   its END, and pairs after the budget runs out are left out — the sample is never dropped for length;
 * - labels: the prompt is -100 unless `train_on_prompt`; with `efficient_eos` (glm4, …) the first prompt token of
 *   every later pair carries the eos id as its label (the previous answer's end), and one eos is appended at the end.
 */
import { appendPiece, emptyPiece, encodeMultiturn, type LfMessage, type Piece, type TemplateTokenizer } from './template';

export const IGNORE_INDEX = -100;

export interface SupervisedOptions {
  cutoffLen: number;
  trainOnPrompt: boolean;
  maskHistory: boolean;
  enableThinking: boolean | null;
  preserveThinking: boolean;
}

/** processor_utils.infer_seqlen. */
export function inferSeqlen(sourceLen: number, targetLen: number, cutoffLen: number): [number, number] {
  let maxTarget: number;
  if (targetLen * 2 < cutoffLen) maxTarget = cutoffLen;
  else if (sourceLen * 2 < cutoffLen) maxTarget = cutoffLen - sourceLen;
  else maxTarget = Math.trunc(cutoffLen * (targetLen / (sourceLen + targetLen)));
  const newTarget = Math.min(maxTarget, targetLen);
  const maxSource = Math.max(cutoffLen - newTarget, 0);
  return [Math.min(maxSource, sourceLen), newTarget];
}

export interface SupervisedExample extends Piece {
  labels: number[];
  /** Tokens and trained tokens the cutoff removed (the same sample built with no cutoff, minus this one). */
  lostTokens: number;
  lostTrained: number;
  /** Whether the last answer's final token (its end-of-turn / eos) is trained. */
  lastAnswerEndTrained: boolean;
}

/** The first `n` tokens of a piece, its text cut after the last one kept. */
function head(p: Piece, n: number): Piece {
  if (n >= p.ids.length) return p;
  const textEnd = n === 0 ? 0 : p.ends[n - 1];
  return {
    ids: p.ids.slice(0, n),
    starts: p.starts.slice(0, n),
    ends: p.ends.slice(0, n),
    text: p.text.slice(0, textEnd),
    contents: p.contents.filter((c) => c.start < textEnd).map((c) => ({ ...c, end: Math.min(c.end, textEnd) })),
  };
}

function build(tk: TemplateTokenizer, pairs: [Piece, Piece][], opts: SupervisedOptions, cutoff: number): { piece: Piece; labels: number[]; lastEndTrained: boolean } {
  const eff = tk.template.efficient_eos;
  const eos = tk.eosId ?? IGNORE_INDEX;
  let total = eff ? 1 : 0;
  const order = opts.maskHistory ? [...pairs].reverse() : pairs;
  const parts: { piece: Piece; labels: number[] }[] = [];
  let lastEndTrained = false;
  for (const [turn, [source, target]] of order.entries()) {
    if (total >= cutoff) break;
    const [sLen, tLen] = inferSeqlen(source.ids.length, target.ids.length, cutoff - total);
    const src = head(source, sLen);
    const tgt = head(target, tLen);
    total += sLen + tLen;
    let sourceLabels: number[];
    if (opts.trainOnPrompt) sourceLabels = src.ids.slice();
    else if (eff && turn !== 0) sourceLabels = sLen > 0 ? [eos, ...new Array<number>(sLen - 1).fill(IGNORE_INDEX)] : [];
    else sourceLabels = new Array<number>(sLen).fill(IGNORE_INDEX);
    const targetTrained = !(opts.maskHistory && turn !== 0);
    const targetLabels = targetTrained ? tgt.ids.slice() : new Array<number>(tLen).fill(IGNORE_INDEX);
    const isLast = opts.maskHistory ? turn === 0 : turn === pairs.length - 1;
    if (isLast) lastEndTrained = targetTrained && tLen === target.ids.length && tLen > 0;
    const piece = emptyPiece();
    appendPiece(piece, src);
    appendPiece(piece, tgt);
    parts.push({ piece, labels: [...sourceLabels, ...targetLabels] });
  }
  if (opts.maskHistory) parts.reverse();
  const piece = emptyPiece();
  const labels: number[] = [];
  for (const p of parts) {
    appendPiece(piece, p.piece);
    labels.push(...p.labels);
  }
  if (eff && tk.eosId !== null) {
    appendPiece(piece, { ids: [tk.eosId], starts: [0], ends: [tk.eosToken!.length], text: tk.eosToken!, contents: [] });
    labels.push(tk.eosId);
    lastEndTrained = lastEndTrained || pairs.length > 0;
  }
  return { piece, labels, lastEndTrained };
}

/** supervised.py `_encode_data_example` for a text-only sample (prompt: 2T-1 messages, response: 1). */
export function encodeDataExample(
  tk: TemplateTokenizer,
  prompt: readonly LfMessage[],
  response: readonly LfMessage[],
  system: string,
  tools: string,
  opts: SupervisedOptions,
): SupervisedExample {
  const discardingHistoryCot = opts.maskHistory && !opts.preserveThinking;
  const pairs = encodeMultiturn(tk, [...prompt, ...response], system, tools, { enable: opts.enableThinking }, discardingHistoryCot);
  const kept = build(tk, pairs, opts, opts.cutoffLen);
  const whole = build(tk, pairs, opts, Number.POSITIVE_INFINITY);
  const trainedCount = (ls: number[]): number => ls.reduce((n, l) => n + (l !== IGNORE_INDEX ? 1 : 0), 0);
  return {
    ...kept.piece,
    labels: kept.labels,
    lostTokens: whole.piece.ids.length - kept.piece.ids.length,
    lostTrained: trainedCount(whole.labels) - trainedCount(kept.labels),
    lastAnswerEndTrained: kept.lastEndTrained,
  };
}
