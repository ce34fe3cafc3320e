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
  | { type: 'reset'; title: string }
  | { type: 'events'; events: TrainingEvent[] }
  | { type: 'state'; state: RunState };

/** Webview → host. */
export type WebviewMessage =
  | { type: 'ready' }
  | { type: 'stop' }
  | { type: 'openFolder'; path: string }
  | { type: 'openSamples'; step: number };

const MAX_PATH = 4096;

/** The message when `value` is one of the shapes above and nothing else, otherwise null. */
export function parseWebviewMessage(value: unknown): WebviewMessage | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  switch (v.type) {
    case 'ready':
    case 'stop':
      return keys === 'type' ? { type: v.type } : null;
    case 'openFolder':
      return keys === 'path,type' && typeof v.path === 'string' && v.path.length > 0 && v.path.length <= MAX_PATH && !v.path.includes('\0')
        ? { type: 'openFolder', path: v.path }
        : null;
    case 'openSamples':
      return keys === 'step,type' && typeof v.step === 'number' && Number.isSafeInteger(v.step) && v.step >= 0
        ? { type: 'openSamples', step: v.step }
        : null;
    default:
      return null;
  }
}
