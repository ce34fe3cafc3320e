/**
 * The training event stream: the trainer (ours, or torchtune parsed from its logs) writes one JSON object per
 * line; the CLI renders it as a progress bar, the extension forwards it to the monitor webview.
 * Every consumer validates with `parseEvent` — a line that is not an event is passed through as a log line.
 * `time` is Unix time in seconds (fractional), as the trainer writes it. `epoch` counts from 0, like torchtune's
 * `epoch_{E}` folders (the monitor shows it from 1); `step` is the global optimizer step, from 1.
 */

export type TrainingEvent =
  | { type: 'start'; time: number; config: Record<string, unknown>; totalSteps: number; stepsPerEpoch: number; epochs: number; backend: 'onnxruntime' | 'torchtune' | 'axolotl' | 'trl' | 'llamafactory'; device: string; outputDir: string }
  | {
      type: 'step'; time: number; step: number; epoch: number; loss: number; lr: number; gradNorm?: number; tokensPerSecond?: number; tokens?: number; peakMemoryGiB?: number; sampleIndices?: number[];
      /** Every metric the trainer logged for the step, by its own name (torchtune: `peak_memory_reserved`, …). */
      metrics?: Record<string, number>;
    }
  | {
      type: 'progress'; time: number; step: number; epoch: number; totalSteps: number; loss?: number;
      /** Position inside the current epoch (tqdm's bar), seconds left and steps/s as the bar reports them. */
      epochStep?: number; stepsPerEpoch?: number; etaSeconds?: number; stepsPerSecond?: number;
    }
  | { type: 'checkpoint'; time: number; step: number; epoch: number; path: string; kind: 'epoch' | 'step' | 'stop' }
  | { type: 'log'; time: number; level: 'debug' | 'info' | 'warning' | 'error'; message: string }
  | {
      type: 'error'; time: number; message: string; step?: number; sampleIndices?: number[];
      /** The full traceback or stderr tail behind `message`. */
      detail?: string;
    }
  | { type: 'end'; time: number; status: 'completed' | 'stopped' | 'failed' | 'killed'; step: number };

export type TrainingEventType = TrainingEvent['type'];

const REQUIRED_NUMBERS: Record<TrainingEventType, string[]> = {
  start: ['time', 'totalSteps', 'stepsPerEpoch', 'epochs'],
  step: ['time', 'step', 'epoch', 'loss', 'lr'],
  progress: ['time', 'step', 'epoch', 'totalSteps'],
  checkpoint: ['time', 'step', 'epoch'],
  log: ['time'],
  error: ['time'],
  end: ['time', 'step'],
};

/** Returns the event when `value` is a well-formed event, otherwise null. */
export function parseEvent(value: unknown): TrainingEvent | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Record<string, unknown>;
  const type = v.type;
  if (typeof type !== 'string' || !(type in REQUIRED_NUMBERS)) return null;
  for (const k of REQUIRED_NUMBERS[type as TrainingEventType]) {
    // loss may be NaN/Infinity, which JSON carries as null: the NaN check reports it.
    if (typeof v[k] !== 'number' && !(k === 'loss' && v[k] === null)) return null;
  }
  if ((type === 'log' || type === 'error') && typeof v.message !== 'string') return null;
  if (type === 'checkpoint' && typeof v.path !== 'string') return null;
  return v as unknown as TrainingEvent;
}
