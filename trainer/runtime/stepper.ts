/**
 * The contract between the training loop (trainer/recipe) and the compiled training graph (trainer/graph +
 * trainer/models + trainer/runtime). One call = forward + backward of one micro-batch.
 * Implementation: `createStepper` in trainer/runtime/createStepper.ts.
 */

export interface MicroBatch {
  /** [batch, seqLen] token ids, right-padded. */
  tokens: Int32Array;
  /**
   * [batch, seqLen] torchtune's labels, already shifted by its SFTDataset (core/data/messages.ts `labelsOf`):
   * label t is the token position t must predict (token t+1), or -100 where ignored (masked tokens, the last
   * position, padding). Position t is scored on label t as given; nothing shifts them again, as in torchtune
   * 0.7.0's lora_finetune_single_device recipe.
   */
  labels: Int32Array;
  batchSize: number;
  seqLen: number;
}

export interface StepResult {
  /** Sum of the per-token cross-entropy over non-ignored labels (not the mean: the loop weights by tokens). */
  lossSum: number;
  /** Number of labels != -100 in the micro-batch. */
  numTokens: number;
  /** Gradient of lossSum with respect to each trainable tensor, by parameter name. */
  grads: Map<string, Float32Array>;
}

export interface TrainableParam {
  /** HF/PEFT-style name, e.g. `base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight`. */
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface Stepper {
  readonly params: TrainableParam[];
  /** Runs forward + backward with the current values of `params`. */
  step(batch: MicroBatch): Promise<StepResult>;
  /** Forward only (for evaluation and checks). */
  loss(batch: MicroBatch): Promise<{ lossSum: number; numTokens: number }>;
  dispose(): Promise<void>;
}
