/**
 * Rules torchtune only discovers at run time (often after the model has loaded): fp16, activation offloading
 * without checkpointing, optimizer_in_bwd conflicts, packing without max_seq_len, left-pad collate, and top-level
 * keys the recipe never reads (usually typos).
 */
import { didYouMean, getRecipe } from '../catalog';
import type { RuleContext } from '../context';
import { isMap } from '../values';


/** Recipes that do not train (no dtype/optimizer rules). */
const NON_TRAINING = /^(generate|dev\/generate_v2|dev\/generate_v2_distributed|eleuther_eval|quantize)$/;

export function checkRecipeRules(ctx: RuleContext): void {
  const v = ctx.value;
  const recipe = ctx.recipe;
  const training = recipe !== null && !NON_TRAINING.test(recipe);

  if (training && v.dtype === 'fp16') {
    ctx.report('error', 'fp16-unsupported', 'dtype fp16 is not supported by torchtune recipes (ValueError at startup): use bf16, or fp32 on hardware without bf16', ctx.range(['dtype'], 'value'), ctx.replaceValueFix(['dtype'], 'bf16', 'Change to bf16'));
  }

  if (v.enable_activation_offloading === true) {
    if (v.enable_activation_checkpointing !== true) {
      ctx.report(
        'error',
        'offloading-needs-checkpointing',
        'enable_activation_offloading: True requires enable_activation_checkpointing: True (torchtune raises RuntimeError)',
        ctx.range(['enable_activation_offloading'], 'value'),
        ctx.inText(['enable_activation_checkpointing'])
          ? ctx.replaceValueFix(['enable_activation_checkpointing'], 'True', 'Set enable_activation_checkpointing: True')
          : ctx.insertKeyFix([], 'enable_activation_checkpointing', 'True'),
      );
    }
    if (typeof v.device === 'string' && !/^(cuda|xpu)(:\d+)?$/.test(v.device)) {
      ctx.report('error', 'offloading-needs-gpu', `enable_activation_offloading needs device cuda or xpu, not ${v.device}`, ctx.range(['enable_activation_offloading'], 'value'));
    }
  }

  if (v.optimizer_in_bwd === true && (recipe === null || /full_finetune/.test(recipe))) {
    if (v.clip_grad_norm !== undefined && v.clip_grad_norm !== null) {
      ctx.report('error', 'optimizer-in-bwd-conflict', 'optimizer_in_bwd: True cannot be combined with clip_grad_norm (torchtune raises RuntimeError): set clip_grad_norm: null', ctx.range(['clip_grad_norm'], 'value'), ctx.replaceValueFix(['clip_grad_norm'], 'null'));
    }
    if (typeof v.gradient_accumulation_steps === 'number' && v.gradient_accumulation_steps > 1) {
      ctx.report('error', 'optimizer-in-bwd-conflict', 'optimizer_in_bwd: True cannot be combined with gradient_accumulation_steps > 1 (torchtune raises RuntimeError)', ctx.range(['gradient_accumulation_steps'], 'value'), ctx.replaceValueFix(['gradient_accumulation_steps'], '1'));
    }
  }

  checkPacked(ctx);

  if (typeof v.collate_fn === 'string' && v.collate_fn.includes('left_pad_sequence')) {
    ctx.report('error', 'bad-collate', 'collate_fn left_pad_sequence is for generation; training recipes reject it (RuntimeError): use torchtune.data.padded_collate_sft', ctx.range(['collate_fn'], 'value'), ctx.replaceValueFix(['collate_fn'], 'torchtune.data.padded_collate_sft'));
  }

  const info = recipe ? getRecipe(recipe) : undefined;
  if (info?.detailed) {
    const known = new Set(Object.keys(info.keys).map((k) => k.split('.')[0]));
    const names = [...known];
    for (const key of Object.keys(v)) {
      if (known.has(key) || !ctx.inText([key])) continue;
      const suggestion = didYouMean(key, names.filter((n) => !(n in v)));
      const msg = suggestion
        ? `Recipe ${recipe} does not read \`${key}\`. Did you mean \`${suggestion}\`?`
        : `Recipe ${recipe} does not read \`${key}\`; it has no effect`;
      ctx.report('warning', 'unknown-key', msg, ctx.range([key], 'key'), suggestion ? ctx.renameKeyFix([key], suggestion) : []);
    }
  }
}

/** `packed: True` needs a fixed `tokenizer.max_seq_len` (PackedDataset raises otherwise). */
function checkPacked(ctx: RuleContext): void {
  const ds = ctx.value.dataset;
  const list = Array.isArray(ds) ? ds.map((d, i) => [d, ['dataset', i]] as const) : [[ds, ['dataset']] as const];
  const tok = ctx.value.tokenizer;
  const maxLen = isMap(tok) ? tok.max_seq_len : undefined;
  for (const [d, path] of list) {
    if (!isMap(d) || d.packed !== true) continue;
    if (typeof maxLen === 'number' && maxLen > 0) continue;
    ctx.report(
      'error',
      'packed-needs-max-seq-len',
      'packed: True needs tokenizer.max_seq_len set to a number (packing fills fixed-length sequences; torchtune raises ValueError otherwise)',
      ctx.range([...path, 'packed'], 'value'),
      isMap(tok) && ctx.inText(['tokenizer', 'max_seq_len']) ? ctx.replaceValueFix(['tokenizer', 'max_seq_len'], '2048', 'Set tokenizer.max_seq_len: 2048') : ctx.insertKeyFix(['tokenizer'], 'max_seq_len', '2048'),
    );
  }
}
