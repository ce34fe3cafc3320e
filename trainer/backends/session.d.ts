import { type TrainingEvent } from '../events';
import type { BackendName } from './torchtune';
export type SessionState = 'running' | 'stopping' | 'killing' | 'ended';
export type EndEvent = Extract<TrainingEvent, {
    type: 'end';
}>;
export type StartEvent = Extract<TrainingEvent, {
    type: 'start';
}>;
export interface SessionSpec {
    command: string;
    args: string[];
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    backend: BackendName;
    /** Emitted when the process starts, for backends that do not announce themselves (torchtune). */
    start?: Omit<StartEvent, 'type' | 'time'>;
    now?: () => number;
    /** How often torchtune's DiskLogger file is read for new lines. */
    logPollMs?: number;
}
export interface SessionResult {
    status: EndEvent['status'];
    step: number;
    /** One sentence for the user: why it failed, or how it ended. */
    message: string;
}
export declare function describeFailure(message: string): string;
export declare class TrainingSession {
    readonly history: TrainingEvent[];
    readonly spec: SessionSpec;
    readonly ended: Promise<SessionResult>;
    state: SessionState;
    lastStep: number;
    private readonly now;
    private readonly child;
    private readonly eventListeners;
    private readonly stateListeners;
    private readonly stderrTail;
    private readonly parser;
    private readonly outLines;
    private readonly errLines;
    private logCount;
    private sentSignal;
    private sawEnd;
    private lastError;
    private logTimer;
    private logOffset;
    private resolveEnded;
    constructor(spec: SessionSpec);
    get pid(): number | undefined;
    onEvent(listener: (e: TrainingEvent) => void): () => void;
    onState(listener: (s: SessionState) => void): () => void;
    /** First call: SIGTERM (the trainer saves a checkpoint and stops). Second call: SIGKILL. */
    stop(): SessionState;
    private signal;
    private setState;
    private emit;
    /** Keeps the replayed history bounded on long runs: the oldest half of the log lines go, metrics stay. */
    private dropOldLogs;
    private onStdout;
    private ownLine;
    private onStderr;
    private readDiskLog;
    /** The exception line of the stack trace on stderr, else its last line. */
    private crashMessage;
    private finish;
    private atStep;
    /** How the run ended, in one sentence (valid once `ended` resolved). */
    result(): SessionResult;
}
