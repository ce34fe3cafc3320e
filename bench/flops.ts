/**
 * Matmul FLOPs of the emitted training graph vs the LoRA minimum (forward + needed input grads + adapter weight
 * grads, no frozen-weight grads), and the host↔device bytes one step moves.
 * Run: npx tsx bench/flops.ts
 */
import { matmulFlops } from '../trainer/graph/flops';
import type { Graph } from '../trainer/graph/ir';
import * as o from '../trainer/graph/ops';
import { specFromModelComponent } from '../trainer/models/catalog';
import { buildTrainingGraph, outputChunkSizes } from '../trainer/models/decoder';
import { minimumStepFlops } from '../trainer/models/flops';
import type { TrainingSpec } from '../trainer/models/spec';

const bind = (g: Graph, name: string, shape: number[]) => o.cast(g.initializer(name, 'bfloat16', shape, { file: 'w', offset: 0, length: 0 }), 'float32');

function report(label: string, spec: TrainingSpec, batch: number, seq: number): void {
  const t = buildTrainingGraph(spec, bind, { withGrads: true });
  const tokens = batch * seq;
  const graph = matmulFlops(t.graph, { batch, seq, tokens, '(rows)': tokens, scored: tokens, ...outputChunkSizes(tokens) });
  const min = minimumStepFlops(spec, batch, seq);
  const paramFloats = t.params.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  const toDevice = 2 * 4 * tokens + 4 * paramFloats; // tokens + targets (int32) + trainable values
  const fromDevice = 8 + 4 * paramFloats; // loss_sum + num_tokens + grads
  // What the same step would cost if frozen weights also got weight gradients (the naive graph).
  const weightGradFlops = buildTrainingGraph({ ...spec, lora: null }, bind, { withGrads: false }).params.reduce(
    (a, p) => a + (p.shape.length === 2 ? 2 * tokens * p.shape[0]! * p.shape[1]! : 0),
    0,
  );
  console.log(`${label}  batch ${batch} × seq ${seq}`);
  console.log(`  graph matmul FLOPs     ${(graph / 1e12).toFixed(4)} TFLOP`);
  console.log(`  LoRA minimum           ${(min.total / 1e12).toFixed(4)} TFLOP (forward ${(min.forward / 1e12).toFixed(4)}, backward ${(min.backward / 1e12).toFixed(4)})`);
  console.log(`  ratio graph / minimum  ${(graph / min.total).toFixed(4)}× (target ≤ 1.05×)`);
  console.log(`  frozen weight grads would add ${(weightGradFlops / 1e12).toFixed(4)} TFLOP (${((weightGradFlops / min.total) * 100).toFixed(1)}%) — not emitted`);
  console.log(`  host→device ${(toDevice / 2 ** 20).toFixed(2)} MiB, device→host ${(fromDevice / 2 ** 20).toFixed(2)} MiB per step (${t.params.length} trainable tensors, ${paramFloats} values)`);
}

const l32 = specFromModelComponent({
  _component_: 'torchtune.models.llama3_2.lora_llama3_2_1b',
  lora_attn_modules: ['q_proj', 'v_proj', 'output_proj'],
  apply_lora_to_mlp: true,
  lora_rank: 64,
  lora_alpha: 128,
});
report('Llama 3.2 1B, torchtune 1B_lora_single_device adapters (q, v, output_proj, MLP; rank 64)', { ...l32, dtype: 'bf16' }, 4, 2048);
const q = specFromModelComponent({ _component_: 'torchtune.models.qwen2.lora_qwen2_0_5b', lora_attn_modules: ['q_proj', 'v_proj'], lora_rank: 8 });
report('Qwen2 0.5B, LoRA on q, v (rank 8)', { ...q, dtype: 'bf16' }, 2, 1024);
