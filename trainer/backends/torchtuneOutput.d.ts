/**
 * Turns what torchtune 0.7 prints while it trains into the project's TrainingEvents, so a `tune run` feeds the same
 * monitor as our own trainer:
 * - metric logger lines (`Step N | loss:… lr:… …`) from StdoutLogger (stdout) or DiskLogger (its log file),
 *   values possibly printed as `tensor(…)`;
 * - the tqdm bar on stderr (carriage-return redraws, description `"{epoch}|{global_step}|Loss: {loss}"`);
 * - Python logging lines (`INFO:torchtune.utils._logging:…`): checkpoint saves, errors; tracebacks;
 * - everything else passes through as log events.
 */
import type { TrainingEvent } from '../events';
export interface MetricLine {
    step: number;
    metrics: Record<string, number>;
}
/** A metric value as torchtune prints it: `1.5`, `nan`, `tensor(1.5, device='cuda:0')`. */
export declare function parseMetricValue(text: string): number | null;
/** `Step 3 | loss:11.9 lr:0.0003 …` (the trailing space DiskLogger writes is allowed). */
export declare function parseMetricLine(line: string): MetricLine | null;
export interface TqdmBar {
    /** From the description `"{epoch}|{global_step}|Loss: {loss}"`, when set. */
    epoch?: number;
    globalStep?: number;
    loss?: number;
    n: number;
    total: number;
    elapsedSeconds: number;
    etaSeconds?: number;
    stepsPerSecond?: number;
    /** Text printed on the same segment after the bar (a warning that interrupted it). */
    rest: string;
}
/** One redraw of the tqdm bar, or null when the segment is not one. */
export declare function parseTqdmSegment(segment: string): TqdmBar | null;
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';
export interface TorchtuneParserOptions {
    now?: () => number;
    /** Epochs from the config, so progress can report total steps of the run. */
    epochs?: number;
}
/**
 * Stateful: the bar's description says which epoch a global step belongs to, a traceback spans many lines, and
 * StdoutLogger and DiskLogger print the same steps (each step is reported once).
 */
export declare class TorchtuneOutputParser {
    /** The DiskLogger file announced by `Writing logs to …`, for the session to follow. */
    logFilePath: string | undefined;
    lastStep: number;
    lastEpoch: number;
    stepsPerEpoch: number;
    private readonly now;
    private readonly epochs;
    private readonly out;
    private readonly err;
    private readonly file;
    private readonly stepsSeen;
    private readonly epochOfStep;
    private readonly checkpointDirs;
    private lastProgressKey;
    private lastBarComplete;
    private lastLevel;
    private traceback;
    constructor(options?: TorchtuneParserOptions);
    stdout(chunk: string): TrainingEvent[];
    stderr(chunk: string): TrainingEvent[];
    /** New text of the DiskLogger file (only metric lines are expected there). */
    logFile(chunk: string): TrainingEvent[];
    /** The streams ended: flush partial lines and a traceback that had no final line. */
    end(): TrainingEvent[];
    private lines;
    private line;
    private log;
    private atStep;
    private progress;
    private step;
    private checkpoint;
    private tracebackLine;
    private finishTraceback;
}
