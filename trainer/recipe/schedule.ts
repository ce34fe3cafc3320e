/**
 * Learning-rate schedules as torch's LambdaLR applies them: the lr used by optimizer step k (1-based) is
 * base_lr · λ(k − 1); torchtune logs the lr after `scheduler.step()`, i.e. base_lr · λ(k).
 */

export type LrLambda = (step: number) => number;

/** torchtune.training.lr_schedulers.get_cosine_schedule_with_warmup. */
export function cosineWithWarmup(numWarmupSteps: number, numTrainingSteps: number, numCycles = 0.5): LrLambda {
  return (current) => {
    if (current < numWarmupSteps) return current / Math.max(1, numWarmupSteps);
    const progress = (current - numWarmupSteps) / Math.max(1, numTrainingSteps - numWarmupSteps);
    const mult = 0.5 * (1.0 + Math.cos(Math.PI * numCycles * 2.0 * progress));
    return Math.max(0.0, mult);
  };
}

export const constantLr: LrLambda = () => 1;
