/** Runs the real `ftune` CLI (TypeScript through tsx) in a child process, as a user would. */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sharedPath } from '../shared';

export const REPO = resolve(__dirname, '..', '..');

export function ftune(args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', resolve(REPO, 'cli/main.ts'), ...args], {
    cwd: REPO,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...env },
    maxBuffer: 256 << 20,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Writes `dir/name`: a Llama 3 recipe config whose chat_dataset reads ShareGPT turns from `column` of `data`. */
export function writeLlama3ChatConfig(dir: string, name: string, data: string, column: string, extra = ''): string {
  const p = join(dir, name);
  writeFileSync(
    p,
    `tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${sharedPath('assets/llama3/tokenizer.model')}
  max_seq_len: null
dataset:
  _component_: torchtune.datasets.chat_dataset
  source: json
  data_files: ${data}
  conversation_column: ${column}
  conversation_style: sharegpt
${extra}`,
  );
  return p;
}
