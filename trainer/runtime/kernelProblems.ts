/** What the static kernel checks (cudaKernels.ts, webgpuKernels.ts) report: nodes a provider would leave to CPU. */

export interface KernelProblem {
  node: string;
  message: string;
}

/** Problems grouped by message → count, for a one-line summary. */
export function summarizeProblems(problems: KernelProblem[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const p of problems) out.set(p.message, (out.get(p.message) ?? 0) + 1);
  return out;
}
