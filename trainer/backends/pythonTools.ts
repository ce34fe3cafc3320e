/**
 * Finds a Python package's command in the user's environment, the one way for every backend: beside the configured
 * interpreter (`finetune.pythonPath`, a venv's bin/ folder), else through that interpreter's `-m` module, else on
 * PATH. When it is not there, the error says which pip command installs it.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

export interface PythonTool {
  /** The package as people name it: `torchtune`, `Axolotl`. */
  label: string;
  /** The console script: `tune`, `axolotl`, `llamafactory-cli`. */
  exe: string;
  /** What `python -c "import …"` checks. */
  importName: string;
  /** The module that runs as the console script: `python -m MODULE …`. */
  module: string;
  /** `pip install NAME`. */
  pipName: string;
}

export interface ToolCommand {
  command: string;
  /** Arguments before the tool's own (`-m MODULE` when only the interpreter was found). */
  prefix: string[];
}

export class ToolNotFoundError extends Error {}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findPythonTool(
  tool: PythonTool,
  pythonPath: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  NotFound: new (message: string) => ToolNotFoundError = ToolNotFoundError,
): ToolCommand {
  const exe = process.platform === 'win32' ? `${tool.exe}.exe` : tool.exe;
  if (pythonPath) {
    if (!existsSync(pythonPath)) {
      throw new NotFound(`finetune.pythonPath points to ${pythonPath}, which does not exist: set it to the python of the environment where ${tool.label} is installed`);
    }
    const beside = join(dirname(pythonPath), exe);
    if (isFile(beside)) return { command: beside, prefix: [] };
    const probe = spawnSync(pythonPath, ['-c', `import ${tool.importName}`], { encoding: 'utf8', timeout: 30_000 });
    if (probe.status === 0) return { command: pythonPath, prefix: ['-m', tool.module] };
    const why = (probe.stderr ?? '').trim().split('\n').pop() || probe.error?.message || `exit code ${probe.status}`;
    throw new NotFound(`${tool.label} is not installed in ${pythonPath} (${why}): run \`${pythonPath} -m pip install ${tool.pipName}\` or point finetune.pythonPath at another environment`);
  }
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isFile(join(dir, exe))) return { command: join(dir, exe), prefix: [] };
  }
  throw new NotFound(`${tool.label}'s \`${tool.exe}\` command was not found on PATH: install ${tool.label} (\`pip install ${tool.pipName}\`) or set finetune.pythonPath to the python of the environment that has it`);
}
