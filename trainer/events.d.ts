/**
 * The training event stream: the trainer (ours, or torchtune parsed from its logs) writes one JSON object per
 * line; the CLI renders it as a progress bar, the extension forwards it to the monitor webview.
 * Every consumer validates with `parseEvent` — a line that is not an event is passed through as a log line.
 */
export type TrainingEvent = {
    type: 'start';
    time: number;
    config: Record<string, unknown>;
    totalSteps: number;
    stepsPerEpoch: number;
    epochs: number;
    backend: 'onnxruntime' | 'torchtune';
    device: string;
    outputDir: string;
} | {
    type: 'step';
    time: number;
    step: number;
    epoch: number;
    loss: number;
    lr: number;
    gradNorm?: number;
    tokensPerSecond?: number;
    tokens?: number;
    peakMemoryGiB?: number;
    sampleIndices?: number[];
    /** Every metric the trainer logged for the step, by its own name (torchtune: `peak_memory_reserved`, …). */
    metrics?: Record<string, number>;
} | {
    type: 'progress';
    time: number;
    step: number;
    epoch: number;
    totalSteps: number;
    loss?: number;
    /** Position inside the current epoch (tqdm's bar), seconds left and steps/s as the bar reports them. */
    epochStep?: number;
    stepsPerEpoch?: number;
    etaSeconds?: number;
    stepsPerSecond?: number;
} | {
    type: 'checkpoint';
    time: number;
    step: number;
    epoch: number;
    path: string;
    kind: 'epoch' | 'step' | 'stop';
} | {
    type: 'log';
    time: number;
    level: 'debug' | 'info' | 'warning' | 'error';
    message: string;
} | {
    type: 'error';
    time: number;
    message: string;
    step?: number;
    sampleIndices?: number[];
    /** The full traceback or stderr tail behind `message`. */
    detail?: string;
} | {
    type: 'end';
    time: number;
    status: 'completed' | 'stopped' | 'failed' | 'killed';
    step: number;
};
export type TrainingEventType = TrainingEvent['type'];
/** Returns the event when `value` is a well-formed event, otherwise null. */
export declare function parseEvent(value: unknown): TrainingEvent | null;
