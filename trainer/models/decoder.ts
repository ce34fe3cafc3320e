/**
 * The training graph of a Llama-family decoder (Llama 2/3/3.1/3.2, Mistral, Qwen2) with optional LoRA, in the
 * tensor DSL: forward, token-sum cross-entropy with ignore index -100, and the backward pass for the trainable
 * tensors only. Activations are kept as [tokens, features] 2-D matrices so every projection is one Gemm against
 * the HF [out, in] weight (transB), without transposed copies of frozen weights.
 */
import { backward } from '../graph/autodiff';
import { Graph, type Tensor } from '../graph/ir';
import * as o from '../graph/ops';
import { baseWeights, headDim, hfLinearPath, linearShape, loraParams, type LinearModule } from './names';
import { ropeInvFreq } from './rope';
import type { TrainingSpec } from './spec';

export const IGNORE_INDEX = -100;
/** Row chunks of the output projection + loss (torchtune's CEWithChunkedOutputLoss uses 8 too). */
export const OUTPUT_CHUNKS = 8;

/**
 * Element type of the matmul operands and the activations between them. float32 everywhere on CPU; bfloat16 on
 * CUDA and float16 on WebGPU (which has no bf16) as torchtune's bf16 recipe: frozen weights are used in their
 * dtype, RMSNorm statistics, RoPE, the attention softmax and the loss run in float32.
 */
export type ComputeDType = 'float32' | 'bfloat16' | 'float16';

/** Supplies a frozen base weight in its stored dtype (the graph casts it to the compute dtype where needed). */
export type WeightBinder = (g: Graph, name: string, shape: number[]) => Tensor;

export interface TrainingGraph {
  graph: Graph;
  /** Trainable tensors in feed order (LoRA A/B, or every base weight for full fine-tuning). */
  params: { name: string; shape: number[] }[];
  /** Output names. */
  outputs: { lossSum: string; numTokens: string; grads: Map<string, string> };
  /** Node index range [start, end) of each decoder layer's forward pass (memory accounting). */
  layerNodes: { layer: number; start: number; end: number }[];
  /** Index of the first node of the backward pass (= g.nodes.length when there is none). */
  backwardStart: number;
}

export interface BuildOptions {
  /** Emit the backward pass (false: loss only, for evaluation). */
  withGrads: boolean;
  /** Seed for LoRA dropout masks. */
  seed?: number;
  /** Default float32. */
  computeDtype?: ComputeDType;
  /**
   * torchtune's enable_activation_checkpointing: keep only each decoder layer's input for the backward pass and
   * recompute the layer's forward inside it (same values, so the same loss and gradients).
   */
  checkpointLayers?: boolean;
  /** Row blocks of the output projection + loss; 1 = one [rows, vocab] block. Default OUTPUT_CHUNKS. */
  outputChunks?: number;
  /** Spell Gemm as MatMul and LogSoftmax as x − ReduceLogSumExp(x), ops the WebGPU provider has kernels for. */
  webgpu?: boolean;
}

/** Dropout masks of one layer: recorded by its forward pass, replayed by its recomputation. */
interface MaskTape {
  masks: Tensor[];
  replay: boolean;
  next: number;
}

/**
 * Graph inputs: `tokens` int32 [batch, seq], `targets` int32 [batch, seq] (labels already shifted left by one,
 * -100 = ignored), then the trainable params by name. Outputs: `loss_sum`, `num_tokens`, `grad.<param>`.
 */
export function buildTrainingGraph(spec: TrainingSpec, bindWeight: WeightBinder, opts: BuildOptions): TrainingGraph {
  const m = spec.model;
  const lora = spec.lora;
  const cd: ComputeDType = opts.computeDtype ?? 'float32';
  const chunks = opts.outputChunks ?? OUTPUT_CHUNKS;
  const g = new Graph();
  if (opts.webgpu) Object.assign(g.lowering, { gemmAsMatMul: true, logSoftmaxAsReduce: true });
  const tokens = g.input('tokens', 'int32', ['batch', 'seq']);
  const targets = g.input('targets', 'int32', ['batch', 'seq']);

  const trainable = lora ? loraParams(m, lora) : baseWeights(m);
  const paramByName = new Map<string, Tensor>();
  for (const p of trainable) paramByName.set(p.name, g.param(p.name, 'float32', p.shape));
  const bound = new Map<string, Tensor>();
  const operands = new Map<string, Tensor>();
  /**
   * A weight as a compute-dtype operand, made once per graph. Frozen weights stored in the compute dtype are used
   * as they are: no Cast of a frozen initializer, so ORT's constant folding cannot make a float32 copy of one.
   * Trainable tensors are float32 graph inputs (the host keeps them and the optimizer state in float32).
   */
  const weight = (name: string, shape: number[]): Tensor => {
    let t = operands.get(name);
    if (!t) {
      let src = paramByName.get(name) ?? bound.get(name);
      if (!src) bound.set(name, (src = bindWeight(g, name, shape)));
      operands.set(name, (t = o.cast(src, cd)));
    }
    return t;
  };
  const loraOperand = (path: string, part: 'A' | 'B'): Tensor | undefined => {
    const name = `base_model.model.${path}.lora_${part}.weight`;
    const p = paramByName.get(name);
    return p && weight(name, [...p.shape] as number[]);
  };

  const hd = headDim(m);
  const group = m.numHeads / m.numKvHeads;
  if (!Number.isInteger(hd) || !Number.isInteger(group)) {
    throw new Error(`embed_dim ${m.embedDim} / num_heads ${m.numHeads} / num_kv_heads ${m.numKvHeads} do not divide evenly`);
  }
  let dropoutSeed = opts.seed ?? 0;

  /** x2 [tokens, in] → [tokens, out]: base projection (+ bias) + LoRA when this module has an adapter. */
  const linear = (x2: Tensor, path: string, shape: [number, number], bias: boolean, tape: MaskTape): Tensor => {
    let y = o.gemm(x2, weight(`${path}.weight`, shape), { transB: true, ...(bias ? { c: weight(`${path}.bias`, [shape[0]]) } : {}) });
    const a = loraOperand(path, 'A');
    const b = loraOperand(path, 'B');
    if (a && b && lora) {
      let xin = x2;
      if (lora.dropout > 0 && opts.withGrads) {
        if (tape.replay) xin = o.applyDropoutMask(x2, tape.masks[tape.next++]!, lora.dropout);
        else {
          const d = o.dropoutWithMask(x2, lora.dropout, ++dropoutSeed);
          tape.masks.push(d.mask);
          xin = d.y;
        }
      }
      const t = o.gemm(xin, a, { transB: true });
      y = o.gemm(t, b, { transB: true, alpha: lora.alpha / lora.rank, c: y });
    }
    return y;
  };
  const layerLinear = (x2: Tensor, l: number, mod: LinearModule, tape: MaskTape): Tensor =>
    linear(x2, hfLinearPath(l, mod), linearShape(m, mod), m.qkvBias && (mod === 'q_proj' || mod === 'k_proj' || mod === 'v_proj'), tape);

  /** torchtune's RMSNorm: statistics in float32, the normalized value back in the compute dtype times the scale. */
  const rmsNorm = (x: Tensor, name: string): Tensor => {
    const xf = o.cast(x, 'float32');
    const ms = o.reduceMean(o.mul(xf, xf), [-1], true);
    return o.mul(o.cast(o.mul(xf, o.reciprocal(o.sqrt(o.add(ms, m.normEps)))), cd), weight(name, [m.embedDim]));
  };

  // RoPE tables for the runtime sequence length: positions ⊗ inverse frequencies, in float32 like torchtune.
  const invFreq = o.constant(g, 'float32', [1, hd / 2], Float32Array.from(ropeInvFreq(hd, m.ropeBase, m.ropeScaling)));
  const positions = o.unsqueeze(o.cast(o.rangeOf(g, 'seq'), 'float32'), [1]);
  const angles = o.mul(positions, invFreq); // [seq, hd/2]
  const cosT = o.reshape(o.concat([o.cos(angles), o.cos(angles)], 1), ['seq', 1, hd]);
  const sinT = o.reshape(o.concat([o.sin(angles), o.sin(angles)], 1), ['seq', 1, hd]);
  const rope = (x: Tensor): Tensor => {
    // x [batch, seq, heads, hd] in float32: x*cos + rotate_half(x)*sin.
    const rot = o.concat([o.neg(o.slice(x, -1, hd / 2, hd)), o.slice(x, -1, 0, hd / 2)], -1);
    return o.add(o.mul(x, cosT), o.mul(rot, sinT));
  };

  // Causal mask, additive: 0 where key <= query, -inf above the diagonal (float32: the softmax runs in float32).
  const pos = o.rangeOf(g, 'seq');
  const allowed = o.lessOrEqual(o.unsqueeze(pos, [0]), o.unsqueeze(pos, [1])); // [q, k]: k <= q
  const causal = o.where(allowed, o.scalar(g, 'float32', 0), o.scalar(g, 'float32', -Infinity));

  /** One decoder layer on h [tokens, E] (compute dtype). */
  const decoderLayer = (h: Tensor, l: number, tape: MaskTape): Tensor => {
    const x = rmsNorm(h, `model.layers.${l}.input_layernorm.weight`);
    const f32 = (t: Tensor): Tensor => o.cast(t, 'float32');
    // The 1/sqrt(hd) scale is applied in float32 with RoPE (it is not exact in bf16 for hd = 128).
    const q = o.cast(o.mul(rope(f32(o.reshape(layerLinear(x, l, 'q_proj', tape), ['batch', 'seq', m.numHeads, hd]))), 1 / Math.sqrt(hd)), cd);
    const k = o.cast(rope(f32(o.reshape(layerLinear(x, l, 'k_proj', tape), ['batch', 'seq', m.numKvHeads, hd]))), cd);
    const v = o.reshape(layerLinear(x, l, 'v_proj', tape), ['batch', 'seq', m.numKvHeads, hd]);
    // Grouped-query attention: query head j uses kv head floor(j / group), as torchtune's repeat_interleave.
    const q5 = o.transpose(o.reshape(q, ['batch', 'seq', m.numKvHeads, group, hd]), [0, 2, 3, 1, 4]);
    const kT = o.unsqueeze(o.transpose(k, [0, 2, 3, 1]), [2]); // [b, kv, 1, hd, seq]
    const v5 = o.unsqueeze(o.transpose(v, [0, 2, 1, 3]), [2]); // [b, kv, 1, seq, hd]
    const probs = o.cast(o.softmax(o.add(f32(o.matmul(q5, kT)), causal), -1), cd); // [b, kv, group, seq, seq]
    const ctx = o.reshape(o.transpose(o.matmul(probs, v5), [0, 3, 1, 2, 4]), ['tokens', m.numHeads * hd]);
    const h1 = o.add(h, layerLinear(ctx, l, 'output_proj', tape));

    const x2 = rmsNorm(h1, `model.layers.${l}.post_attention_layernorm.weight`);
    const gate = layerLinear(x2, l, 'gate_proj', tape);
    const up = layerLinear(x2, l, 'up_proj', tape);
    return o.add(h1, layerLinear(o.mul(o.mul(gate, o.sigmoid(gate)), up), l, 'down_proj', tape));
  };

  const flatTokens = o.reshape(tokens, ['tokens']);
  let h = o.gather(weight('model.embed_tokens.weight', [m.vocabSize, m.embedDim]), flatTokens, 0); // [tokens, E]

  const layerNodes: TrainingGraph['layerNodes'] = [];
  for (let l = 0; l < m.numLayers; l++) {
    const start = g.nodes.length;
    const tape: MaskTape = { masks: [], replay: false, next: 0 };
    if (!(opts.checkpointLayers && opts.withGrads)) {
      h = decoderLayer(h, l, tape);
    } else {
      const hin = h;
      const out = decoderLayer(o.stopGradient(hin), l, tape);
      // The layer's trainable operands (as made by `weight`): their gradients come from the recomputation.
      const prefix = `model.layers.${l}.`;
      const layerTrainables = [...paramByName.keys()].filter((n) => n.includes(prefix)).map((n) => operands.get(n)!);
      const targets = [hin, ...layerTrainables];
      h = o.withCustomGradient(out, targets, (gy, needed) => {
        const from = g.nodes.length;
        // hin again, but as a node that needs gy: the recomputation cannot run (and hold its activations) before
        // the backward pass reaches this layer, and ORT's common-subexpression pass cannot merge it with the forward.
        const hr = o.expandLike(hin, gy);
        const outR = decoderLayer(hr, l, { masks: tape.masks, replay: true, next: 0 });
        const wrtOf = (i: number): Tensor => (i === 0 ? hr : targets[i]!);
        const wrt = targets.map((_, i) => wrtOf(i)).filter((_, i) => needed[i]);
        const grads = backward(outR, wrt, { seed: gy, fromNode: from });
        return targets.map((_, i) => (needed[i] ? grads.get(wrtOf(i))! : null));
      });
    }
    layerNodes.push({ layer: l, start, end: g.nodes.length });
  }
  // Only positions with a target reach the output projection: ignored rows (masked prompt, padding, the last
  // position) add nothing to the loss or the gradients, and the [rows, vocab] logits dominate time and memory.
  const flatTargets = o.reshape(targets, ['tokens']);
  const keep = o.nonZero1d(o.not(o.equal(flatTargets, o.scalar(g, 'int32', IGNORE_INDEX))), 'scored');
  // [scored, E]; the norm is per row. The rows are gathered in float32 (the norm's own first step), so the gradient's
  // scatter back to every position adds in float32 (and ORT's CPU ScatterND has no float16 add).
  const hn = rmsNorm(o.gather(o.cast(h, 'float32'), keep, 0), 'model.norm.weight');
  const outName = m.tieWordEmbeddings ? 'model.embed_tokens' : 'lm_head';
  // Tied output: the embedding matrix; an output adapter (untied only) is named after lm_head as PEFT does.
  const outWeight = weight(`${outName}.weight`, [m.vocabSize, m.embedDim]);
  const la = loraOperand('lm_head', 'A');
  const lb = loraOperand('lm_head', 'B');
  const logitsOf = (x: Tensor): Tensor => {
    const y = o.gemm(x, outWeight, { transB: true });
    return la && lb && lora ? o.gemm(o.gemm(x, la, { transB: true }), lb, { transB: true, alpha: lora.alpha / lora.rank, c: y }) : y;
  };

  const scoredTargets = o.gather(flatTargets, keep, 0);
  const outputTrainables = [...(paramByName.has(`${outName}.weight`) ? [outWeight] : []), ...(la && lb ? [la, lb] : [])];
  const { lossSum, count } =
    chunks <= 1
      ? crossEntropySum(widen(logitsOf(hn)), scoredTargets, m.vocabSize)
      : outputTrainables.length === 0
        ? chunkedOutputLoss(hn, outWeight, scoredTargets, chunks)
        : chunkedTrainableOutputLoss(hn, logitsOf, outputTrainables, scoredTargets, chunks);
  g.markOutput(lossSum, 'loss_sum');
  g.markOutput(count, 'num_tokens');
  const backwardStart = g.nodes.length;
  const grads = new Map<string, string>();
  if (opts.withGrads) {
    const params = trainable.map((p) => paramByName.get(p.name)!);
    const gmap = backward(lossSum, params);
    for (const p of params) grads.set(p.name, g.markOutput(gmap.get(p)!, `grad.${p.name}`).name);
  }
  return { graph: g, params: trainable, outputs: { lossSum: 'loss_sum', numTokens: 'num_tokens', grads }, layerNodes, backwardStart };
}

/**
 * Sum over non-ignored tokens of -log softmax(logits)[target], and the number of non-ignored tokens, in the
 * logits' dtype (float32). The gradient is written by hand, d logits = (softmax(logits) - onehot(target)) * valid,
 * with softmax = exp(log_softmax) as PyTorch's log_softmax backward computes it, so no [tokens, vocab]
 * intermediate of the forward pass but the log-probabilities stays alive for the backward pass.
 */
export function crossEntropySum(logits: Tensor, targets: Tensor, _vocab: number): { lossSum: Tensor; count: Tensor; rowLoss: Tensor } {
  const g = logits.graph;
  const dt = logits.dtype;
  const t = o.cast(targets, 'int64');
  const valid = o.not(o.equal(t, o.scalar(g, 'int64', IGNORE_INDEX)));
  const validF = o.cast(valid, dt);
  const idx = o.unsqueeze(o.where(valid, t, o.scalar(g, 'int64', 0)), [1]); // [tokens, 1]
  const logProbs = o.logSoftmax(o.stopGradient(logits), 1);
  const nll = o.neg(o.squeeze(o.gatherElements(logProbs, idx, 1), [1])); // [tokens]
  const raw = o.reduceSum(o.mul(nll, validF), [0], false);
  const lossSum = o.withCustomGradient(raw, [logits], (gy) => {
    const scale = o.mul(o.unsqueeze(validF, [1]), gy); // [tokens, 1]
    const d = o.mul(o.exp(logProbs), scale);
    return [o.scatterElements(d, idx, o.sub(o.gatherElements(d, idx, 1), scale), 1)];
  });
  return { lossSum, count: o.reduceSum(validF, [0], false), rowLoss: nll };
}

/**
 * `index` (int64 [1]) unchanged, but computable only once every tensor of `deps` exists. ORT runs nodes in a
 * depth-first order from the graph outputs that would compute every row block's log-softmax (for the loss) before
 * any block's gradient, so all [rows, vocab] blocks were alive at once and chunking saved nothing (measured:
 * bench/memory.ts --chunks). Starting block i+1 at an index that reads block i's results makes ORT finish one
 * block before it starts the next. The read is the shape of a zero-row slice: nothing is copied or computed.
 */
function sequencedAfter(index: Tensor, deps: Tensor[], zero: Tensor): Tensor {
  let out = index;
  for (const d of deps) {
    const none = o.sliceDynamic(d.rank ? d : o.unsqueeze(d, [0]), 0, zero, zero, 'none');
    out = o.add(out, o.slice(o.shapeOf(none), 0, 0, 1));
  }
  return out;
}

/** Half-precision values as float32 (the loss and gradient sums run in float32); float32/float64 stay as they are. */
function widen(t: Tensor): Tensor {
  return t.dtype === 'bfloat16' || t.dtype === 'float16' ? o.cast(t, 'float32') : t;
}

/** Runtime sizes of the chunk dims (`chunk0`...) for `scored` rows, e.g. for FLOP counts. */
export function outputChunkSizes(scored: number, chunks = OUTPUT_CHUNKS): Record<string, number> {
  const size = Math.ceil(scored / chunks);
  const out: Record<string, number> = {};
  for (let i = 0; i < chunks; i++) out[`chunk${i}`] = Math.max(0, Math.min(scored, (i + 1) * size) - Math.min(scored, i * size));
  return out;
}

/**
 * Cross-entropy of `hidden @ weightᵀ` for a frozen output projection, in `chunks` row blocks. Each block's
 * [rows, vocab] logits give its loss and, right away, its input gradient, so only one block of logits is alive at
 * a time and the backward pass keeps [rows, embed] instead of [rows, vocab]. Same matmul work as the unchunked
 * graph: one logits product and one input-gradient product per row.
 */
export function chunkedOutputLoss(hidden: Tensor, weight: Tensor, targets: Tensor, chunks: number): { lossSum: Tensor; count: Tensor } {
  const n = o.dimSize(hidden, 0);
  const size = o.div(o.add(n, chunks - 1), chunks); // ceil(n / chunks); Slice clamps the tail
  const zero = o.mul(n, 0); // a runtime 0 (ORT cannot fold it)
  const losses: Tensor[] = [];
  const dHidden: Tensor[] = [];
  let count: Tensor | null = null;
  let previous: Tensor[] = [];
  for (let i = 0; i < chunks; i++) {
    const start = sequencedAfter(o.mul(size, i), previous, zero);
    const end = o.add(start, size);
    const h = o.sliceDynamic(hidden, 0, start, end, `chunk${i}`);
    const t = o.sliceDynamic(targets, 0, start, end, `chunk${i}`);
    const ce = crossEntropyBlock(widen(o.gemm(o.stopGradient(h), weight, { transB: true })), t, weight);
    losses.push(ce.lossSum);
    count = count ? o.add(count, ce.count) : ce.count;
    dHidden.push(ce.dHidden);
    previous = [ce.rowLoss, ce.dHidden];
  }
  const raw = losses.reduce((a, b) => o.add(a, b));
  const dh = o.reshapeLike(o.concat(dHidden, 0), hidden); // the blocks tile the rows: same shape as hidden
  return { lossSum: o.withCustomGradient(raw, [hidden], (gy) => [o.mul(dh, o.cast(gy, dh.dtype))]), count: count! };
}

/**
 * The chunked cross-entropy when the output projection trains (full fine-tuning, or an adapter on lm_head): each
 * row block's logits = `logitsOf(rows)` give its loss and, right away, the gradients of the rows and of the
 * `trainables` (the generic backward pass of the block), so only one block's [rows, vocab] logits are ever alive.
 * The trainables' gradients are summed over the blocks in float32.
 */
export function chunkedTrainableOutputLoss(
  hidden: Tensor,
  logitsOf: (rows: Tensor) => Tensor,
  trainables: Tensor[],
  targets: Tensor,
  chunks: number,
): { lossSum: Tensor; count: Tensor } {
  const g = hidden.graph;
  const n = o.dimSize(hidden, 0);
  const size = o.div(o.add(n, chunks - 1), chunks);
  const frozenHidden = o.stopGradient(hidden);
  const zero = o.mul(n, 0);
  const losses: Tensor[] = [];
  const dHidden: Tensor[] = [];
  const dTrainables: (Tensor | null)[] = trainables.map(() => null);
  let count: Tensor | null = null;
  let previous: Tensor[] = [];
  for (let i = 0; i < chunks; i++) {
    const start = sequencedAfter(o.mul(size, i), previous, zero);
    const end = o.add(start, size);
    const from = g.nodes.length;
    const h = o.sliceDynamic(frozenHidden, 0, start, end, `chunk${i}`);
    const t = o.sliceDynamic(targets, 0, start, end, `chunk${i}`);
    const ce = crossEntropySum(widen(logitsOf(h)), t, 0);
    const grads = backward(ce.lossSum, [h, ...trainables], { fromNode: from });
    losses.push(ce.lossSum);
    count = count ? o.add(count, ce.count) : ce.count;
    dHidden.push(grads.get(h)!);
    trainables.forEach((w, j) => {
      const d = widen(grads.get(w)!);
      const prev = dTrainables[j];
      dTrainables[j] = prev ? o.add(prev, d) : d;
    });
    previous = [ce.rowLoss, grads.get(h)!, ...dTrainables.map((d) => d!)];
  }
  const raw = losses.reduce((a, b) => o.add(a, b));
  const dh = o.reshapeLike(o.concat(dHidden, 0), hidden);
  const lossSum = o.withCustomGradient(raw, [hidden, ...trainables], (gy) => [
    o.mul(dh, o.cast(gy, dh.dtype)),
    ...dTrainables.map((d, j) => o.cast(o.mul(d!, gy), trainables[j]!.dtype)),
  ]);
  return { lossSum, count: count! };
}

/**
 * Loss sum, token count and d lossSum / d hidden (not scaled by an upstream gradient) of one block, where
 * logits = hidden @ weightᵀ. The per-element passes over the [rows, vocab] logits are the step's hot spot (the
 * vocabulary is ~128k wide and the model may be tiny), so they are kept to two: log_softmax (one fused kernel, not
 * ReduceLogSumExp, which ORT runs several times slower) and its exp. The one-hot part of softmax − onehot(target)
 * is applied after the product, as the target's row of the weight, and the valid-row mask on [rows, embed]: no
 * scatter or mask over the wide logits.
 */
function crossEntropyBlock(logits: Tensor, targets: Tensor, weight: Tensor): { lossSum: Tensor; count: Tensor; dHidden: Tensor; rowLoss: Tensor } {
  const g = logits.graph;
  const t = o.cast(targets, 'int64');
  const valid = o.not(o.equal(t, o.scalar(g, 'int64', IGNORE_INDEX)));
  const validF = o.cast(valid, logits.dtype);
  const idx = o.where(valid, t, o.scalar(g, 'int64', 0)); // [rows]
  const logProbs = o.logSoftmax(logits, 1);
  const nll = o.neg(o.squeeze(o.gatherElements(logProbs, o.unsqueeze(idx, [1]), 1), [1]));
  // The products run in the weight's (compute) dtype; the loss stays float32.
  const probs = o.cast(o.exp(logProbs), weight.dtype);
  const dHidden = o.mul(o.sub(o.gemm(probs, weight), o.gather(weight, idx, 0)), o.unsqueeze(o.cast(valid, weight.dtype), [1]));
  return { lossSum: o.reduceSum(o.mul(nll, validF), [0], false), count: o.reduceSum(validF, [0], false), dHidden, rowLoss: nll };
}
