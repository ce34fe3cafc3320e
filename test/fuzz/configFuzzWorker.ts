/**
 * The core half of the config fuzzer, run as its own process so it works under a heap limit
 * (`node --max-old-space-size=512 --import tsx test/fuzz/configFuzzWorker.ts SEED COUNT OUT_DIR`). Each case is a
 * structure-aware mutant of a torchtune corpus config (configMutator.ts), validated as the CLI and the server do,
 * with what an editor asks of it (node at offsets, paths); checks: no exception, no internal error, every range
 * and fix inside the text. Prints one JSON summary line; failing inputs are written to OUT_DIR.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { getNode, nodeAt, validateConfig } from '../../core/config';
import type { Diagnostic } from '../../core/diagnostics';
import { mulberry32 } from '../../trainer/runtime/prng';
import { corpusConfigs } from '../core/config/helpers';
import { mutateConfig, parseModel, MUTATION_COUNT } from './configMutator';

export interface FuzzSummary {
  cases: number;
  failures: { seed: number; file: string; problem: string }[];
  slowest: { ms: number; seed: number; ops: number[]; bytes: number; codes: string[] }[];
  /** How often each error code was given (what the cases reached). */
  codes: Record<string, number>;
  /** How often each mutation was applied. */
  mutations: number[];
  damaged: number;
  totalMs: number;
  peakRssMb: number;
}

const OVERRIDES = ['model.lora_rank=8', '~seed', 'epochs=3', 'a.b.c=[1,2', '+x.y=${model}', 'dataset=torchtune.datasets.alpaca_dataset', 'optimizer.lr=abc'];

function checkRanges(text: string, ds: Diagnostic[]): string | undefined {
  for (const d of ds) {
    if (d.code === 'internal-error') return `internal error: ${d.message}`;
    if (!(typeof d.message === 'string' && d.message.length > 0)) return `empty message (${d.code})`;
    const bad = (r: { start: number; end: number }): boolean => !(r.start >= 0 && r.start <= r.end && r.end <= text.length);
    if (bad(d.range)) return `range ${JSON.stringify(d.range)} outside the text (${text.length}) for ${d.code}`;
    for (const f of d.fixes ?? []) for (const e of f.edits) if (bad(e.range)) return `fix range ${JSON.stringify(e.range)} outside the text for ${d.code}`;
  }
  return undefined;
}

function runCase(text: string, file: string, r: () => number): { problem?: string; codes: string[] } {
  const overrides = r() < 0.1 ? [OVERRIDES[Math.floor(r() * OVERRIDES.length)]] : undefined;
  const result = validateConfig(text, { path: file, overrides });
  const problem = checkRanges(text, result.diagnostics);
  if (problem) return { problem, codes: [] };
  for (let k = 0; k < 5; k++) {
    const at = nodeAt(result.document, Math.floor(r() * (text.length + 1)));
    if (at.path.length) getNode(result.document, at.path);
  }
  return { codes: [...new Set(result.diagnostics.filter((d) => d.severity === 'error').map((d) => d.code))] };
}

function peakRssMb(): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
}

export function fuzzConfigs(seed: number, count: number, outDir: string): FuzzSummary {
  const bases = corpusConfigs().map((c) => ({ model: parseModel(readFileSync(c.path, 'utf8')), file: join('/nonexistent', basename(c.path)) }));
  const summary: FuzzSummary = { cases: 0, failures: [], slowest: [], codes: {}, mutations: Array(MUTATION_COUNT).fill(0), damaged: 0, totalMs: 0, peakRssMb: 0 };
  for (let k = 0; k < count; k++) {
    const caseSeed = (seed * 1_000_003 + k) >>> 0;
    const r = mulberry32(caseSeed);
    const base = bases[Math.floor(r() * bases.length)];
    const m = mutateConfig(base.model, r);
    m.ops.forEach((i) => summary.mutations[i]++);
    if (m.damaged) summary.damaged++;
    const t0 = performance.now();
    let outcome: { problem?: string; codes: string[] };
    try {
      outcome = runCase(m.text, base.file, r);
    } catch (e) {
      outcome = { problem: `threw: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`, codes: [] };
    }
    const ms = performance.now() - t0;
    summary.totalMs += ms;
    summary.cases++;
    for (const c of outcome.codes) summary.codes[c] = (summary.codes[c] ?? 0) + 1;
    summary.slowest.push({ ms: Math.round(ms), seed: caseSeed, ops: m.ops, bytes: m.text.length, codes: outcome.codes });
    summary.slowest.sort((a, b) => b.ms - a.ms).splice(5);
    if (outcome.problem) {
      mkdirSync(outDir, { recursive: true });
      const saved = join(outDir, `config-${caseSeed}.yaml`);
      writeFileSync(saved, m.text);
      summary.failures.push({ seed: caseSeed, file: saved, problem: outcome.problem.slice(0, 2000) });
    }
  }
  summary.peakRssMb = Math.round(peakRssMb());
  return summary;
}

if (require.main === module) {
  const [seed, count, outDir] = process.argv.slice(2);
  console.log(JSON.stringify(fuzzConfigs(Number(seed), Number(count), outDir)));
}
