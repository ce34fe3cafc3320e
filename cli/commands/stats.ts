/**
 * `ftune stats <config.yaml> [key=value ...] [--format text|json]`: the whole dataset as training will see it —
 * errors by kind, token lengths, trained share, what truncation costs, samples with nothing trained, duplicates.
 */
import { type Command, Option } from 'commander';
import { configSamples, openConfigDatasets } from '../../core/data/configDatasets';
import { type DatasetStats, StatsCollector } from '../../core/data/stats';
import { findingCountLine } from '../../core/data/findingCounts';
import { specReader } from '../../core/data/setup';
import type { DatasetConfig } from '../../core/data/configSetup';
import { FRAMEWORK_LABEL } from '../../core/frameworks/catalog';
import { LENGTH_KEY } from '../../core/frameworks/datasets';
import { type Painter, paintFindingLine, painter } from '../style';

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

/** The report; counts that need attention (errors, truncation, nothing trained) coloured when `paint` is. */
export function formatStats(s: DatasetStats, describe: string, paint: Painter = painter(process.stdout), head: string[] = []): string {
  const lines: string[] = [...head];
  const flag = (n: number, tone: 'red' | 'yellow'): string => (n > 0 ? paint(tone, String(n)) : String(n));
  const key = s.lengthKey ?? 'max_seq_len';
  lines.push(`dataset: ${describe}`);
  lines.push(`samples: ${s.samples}  (${s.samples - s.errorSamples} ok, ${flag(s.errorSamples, 'red')} failing)`);
  if (s.errors.length > 0) {
    lines.push('errors by kind:');
    // Samples are numbered from 1, as the editor and `ftune tokenize` number them.
    for (const e of s.errors) lines.push(`  ${String(e.count).padStart(6)}  ${paint('red', e.code)}  e.g. sample ${e.firstIndex + 1}: ${e.example}`);
  }
  if (s.length) {
    lines.push(`tokens per sample (untruncated): p50 ${s.length.p50}  p90 ${s.length.p90}  p99 ${s.length.p99}  max ${s.length.max}  mean ${s.length.mean.toFixed(1)}`);
    const peak = Math.max(...s.histogram.map((b) => b.count));
    const w = String(s.histogram[s.histogram.length - 1]?.to ?? 0).length;
    for (const b of s.histogram) {
      const bar = '█'.repeat(peak === 0 ? 0 : Math.round((b.count / peak) * 40));
      const m = s.maxSeqLen;
      const over = m === null || b.to <= m ? '' : b.from >= m ? `  > ${key}` : `  ← ${key} ${m} falls here`;
      lines.push(`  ${String(b.from).padStart(w)}–${String(b.to).padEnd(w)} ${String(b.count).padStart(6)} ${bar}${over}`);
    }
  }
  lines.push(`${key}: ${s.maxSeqLen ?? 'none'}`);
  lines.push(`tokens (after truncation): ${s.tokens}, trained ${s.trainedTokens} (${pct(s.trainedShare)})`);
  lines.push(`truncated samples: ${flag(s.truncatedSamples, 'yellow')}, trained tokens dropped by truncation: ${flag(s.droppedTrainedTokens, 'yellow')}`);
  lines.push(`samples with nothing trained: ${flag(s.nothingTrained, 'yellow')}`);
  lines.push(`duplicate samples (same messages as an earlier one): ${flag(s.duplicates, 'yellow')}`);
  if (s.warnings.length > 0) lines.push(`${paint('yellow', 'warnings')}: ${s.warnings.map((w) => `${w.code} ${w.count}`).join(', ')}`);
  if (s.maskWays) lines.push(`mask way: ${s.maskWays.map((w) => `${w.way} ${w.count}`).join(', ')}${s.droppedSamples ? `; dropped by the framework: ${flag(s.droppedSamples, 'yellow')}` : ''}`);
  if (s.findings) {
    lines.push(s.findings.length === 0 ? 'framework findings: none' : 'framework findings:');
    for (const f of s.findings) lines.push(`  ${paint(f.severity === 'error' ? 'red' : 'yellow', findingCountLine(f, s.samples))}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * For a framework config: which config and framework decide, the masker's options and its config-level findings
 * (e.g. no generation block under assistant_only_loss), one line each.
 */
export function frameworkHead(cfg: DatasetConfig): string[] {
  const fw = cfg.resolved.framework;
  if (!fw) return [];
  const out = [`config in force: ${cfg.configPath} (${FRAMEWORK_LABEL[fw.name]}), model ${fw.model.ok ? fw.model.dir : 'unavailable'}`];
  const seen = new Set<string>();
  for (const spec of cfg.resolved.datasets) {
    const m = specReader(cfg.resolved, spec, cfg.configPath).reader.framework?.masker;
    if (!m) continue;
    const line = `options: ${m.summary}`;
    if (!seen.has(line)) out.push(line);
    seen.add(line);
    for (const f of m.findings) {
      const l = `config: ${f.message} [${f.code}]`;
      if (!seen.has(l)) out.push(l);
      seen.add(l);
    }
  }
  return out;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description('token lengths, trained share, truncation losses, errors and duplicates over the whole dataset')
    .argument('<config>', 'recipe config (YAML) with tokenizer and dataset')
    .argument('[overrides...]', 'key=value config overrides')
    .addOption(new Option('--format <format>', 'a text report, or JSON').choices(['text', 'json']).default('text'))
    .action(async (config: string, overrides: string[], opts: { format: string }) => {
      const cfg = await openConfigDatasets(config, overrides);
      const fw = cfg.resolved.framework;
      const collector = new StatsCollector(cfg.resolved.maxSeqLen, fw ? LENGTH_KEY[fw.name] : undefined);
      const errPaint = painter(process.stderr);
      const warn = (m: string): void => void process.stderr.write(`${paintFindingLine(errPaint, m)}\n`);
      for (const s of configSamples(cfg, Infinity, warn)) collector.add(s.index, s.outcome, s.file);
      const stats = collector.result();
      const describe = cfg.resolved.datasets
        .filter((d) => d.dataFiles.length > 0)
        .map((d) => `${d.dataFiles.join(', ')} (${d.framework ? d.framework.label : d.kind === 'chat' ? `${d.style}, column '${d.column}'` : d.kind})`)
        .join('; ');
      for (const n of cfg.notes) warn(n);
      const head = frameworkHead(cfg);
      process.stdout.write(opts.format === 'json' ? JSON.stringify({ ...stats, ...(head.length ? { config: head } : {}) }, null, 2) + '\n' : formatStats(stats, describe, undefined, head));
    });
}
