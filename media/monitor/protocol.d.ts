/**
 * Messages between the training monitor webview and the extension host. The host treats every message from the
 * webview as untrusted input: `parseWebviewMessage` accepts only these shapes, and the host then checks each
 * request against its own run history (a folder is opened only if the run wrote a checkpoint there).
 */
import type { TrainingEvent } from '../../trainer/events';
export type RunState = 'running' | 'stopping' | 'killing' | 'ended';
/** Host → webview. */
export type HostMessage = 
/** A (re)opened panel: forget what is shown, the history follows. */
{
    type: 'reset';
    title: string;
} | {
    type: 'events';
    events: TrainingEvent[];
} | {
    type: 'state';
    state: RunState;
};
/** Webview → host. */
export type WebviewMessage = {
    type: 'ready';
} | {
    type: 'stop';
} | {
    type: 'openFolder';
    path: string;
} | {
    type: 'openSamples';
    step: number;
};
/** The message when `value` is one of the shapes above and nothing else, otherwise null. */
export declare function parseWebviewMessage(value: unknown): WebviewMessage | null;
