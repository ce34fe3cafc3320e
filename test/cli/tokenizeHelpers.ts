/** Runs the real `ftune` CLI (TypeScript through tsx) in a child process, as a user would. */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

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
