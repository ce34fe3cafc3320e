/**
 * `{log_dir}/metrics.jsonl`: one JSON object per logged step ({step, epoch, loss, lr, tokens_per_second,
 * grad_norm?, ...}). On resume the lines after the resumed step (written by the interrupted run past its last
 * checkpoint) are dropped, so the file reads as one uninterrupted run.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeError, writeFileAtomic } from '../checkpoint/atomic';

export interface MetricsRecord {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
  tokens_per_second: number;
  tokens: number;
  grad_norm?: number;
  time: number;
}

export class MetricsLog {
  readonly path: string;

  constructor(dir: string, resumeStep: number | null) {
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, 'metrics.jsonl');
    if (resumeStep === null) {
      writeFileAtomic(this.path, '');
      return;
    }
    if (!existsSync(this.path)) return;
    const kept = readFileSync(this.path, 'utf8')
      .split('\n')
      .filter((line) => {
        if (!line.trim()) return false;
        try {
          return (JSON.parse(line) as { step?: number }).step! <= resumeStep;
        } catch {
          return false;
        }
      });
    writeFileAtomic(this.path, kept.map((l) => l + '\n').join(''));
  }

  append(r: MetricsRecord): void {
    try {
      appendFileSync(this.path, JSON.stringify(r) + '\n');
    } catch (e) {
      throw writeError(this.path, e);
    }
  }
}

/** Reads metrics.jsonl back (for tests and the monitor). */
export function readMetrics(path: string): MetricsRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as MetricsRecord);
}
