/**
 * `ftune validate <file...>`: recipe configs (.yaml/.yml) through core/config, chat datasets (.json/.jsonl)
 * through core/data. A config brings its local datasets along: each is validated as the config reads it (the same
 * samples `ftune run` tokenizes), reported at the dataset's own file:line:col. Prints compiler-style lines or JSON;
 * exit 1 when any error, 2 on usage errors.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { rangeFor, readConfigText, resolveConfig, validateConfig } from '../../core/config';
import { noStepPerEpochProblem } from '../../core/config/trainerSettings';
import type { TrainerEngine } from '../../core/config/rules/trainerSupport';
import { DatasetConfigError, loadDatasetConfig } from '../../core/data/configSetup';
import { toPositioned, type PositionedDiagnostic } from '../../core/diagnostics';
import { validateDatasetFile } from '../../core/data/validateFile';
import { FRAMEWORK_LABEL, type FrameworkName } from '../../core/frameworks';
import { frameworkPreviewCheck } from '../../core/frameworks/previewCheck';
import { LineIndex, plural } from '../../core/text';
import { type Painter, finding, painter } from '../style';

export interface FileReport {
  file: string;
  diagnostics: PositionedDiagnostic[];
  /** For a config: its local dataset files (validated as their own reports). */
  datasetFiles?: string[];
  /** Extra one-line facts for the text format's summary (detected recipe, dataset style). */
  notes?: string[];
  /** Set for an Axolotl, TRL or LLaMA-Factory config (its datasets are not read as torchtune's). */
  framework?: FrameworkName;
  /** For a dataset: how many samples it holds. */
  samples?: number;
  /** Things the user must know that have no position (tokenizer/config errors, detection notes, diagnostics beyond the cap). */
  messages?: string[];
}

interface ValidateCliOptions {
  recipe?: string;
  format: 'text' | 'json';
  config?: string;
  /** builtin: check as `ftune run` will (its limits and missing files are errors); torchtune: skip its limits. */
  engine?: TrainerEngine;
}

const CONFIG_EXT = new Set(['.yaml', '.yml']);
const DATASET_EXT = new Set(['.json', '.jsonl']);

function fileError(file: string, code: string, message: string): FileReport {
  return { file, diagnostics: [{ severity: 'error', line: 1, column: 1, endLine: 1, endColumn: 1, code, message }] };
}

export function validateConfigFile(file: string, recipe?: string, engine?: TrainerEngine): FileReport {
  const { text, error } = readConfigText(file);
  if (error) return fileError(file, error.code, error.message);
  const result = validateConfig(text, { path: file, recipe, engine });
  const index = new LineIndex(text);
  const fw = result.framework;
  const notes = [fw ? `${FRAMEWORK_LABEL[fw.framework]} config (${fw.source === 'comment' ? '# framework: comment' : 'recognized by its keys'})` : result.recipe ? `recipe ${result.recipe} (${result.recipeSource})` : 'recipe unknown: only components are checked'];
  return { file, diagnostics: result.diagnostics.map((d) => toPositioned(d, index)), notes, ...(fw ? { framework: fw.framework } : {}) };
}

/**
 * The config's local dataset files, read as the config reads them, and why its tokenizer cannot be built (a
 * diagnostic on the config: `ftune run` needs it; a missing tokenizer file is the files rule's).
 */
async function configDatasets(file: string, report: FileReport, engine: TrainerEngine | undefined): Promise<{ files: string[]; entryFiles: string[] }> {
  let cfg;
  try {
    cfg = await loadDatasetConfig(file);
  } catch (e) {
    if (e instanceof DatasetConfigError) return { files: [], entryFiles: [] }; // the config's own diagnostics say why it cannot be read
    throw e;
  }
  const tokPath = cfg.resolved.tokenizer?.path;
  const tokMissing = typeof tokPath === 'string' && !existsSync(resolve(cfg.configDir, tokPath));
  if (cfg.tokenizerError && !tokMissing) {
    const { text } = readConfigText(file);
    const { document } = validateConfig(text ?? '', { path: file, checkFiles: false });
    const at = toPositioned({ severity: 'error', code: 'tokenizer-unusable', message: '', range: rangeFor(document, ['tokenizer', '_component_'], 'value') }, new LineIndex(text ?? ''));
    report.diagnostics.push({ ...at, severity: engine === 'builtin' ? 'error' : 'warning', message: `${cfg.tokenizerError.replace(`${file}: `, '')} (ftune run cannot tokenize the datasets)` });
  }
  // entryFiles: every entry's files, repeats kept (an entry listed twice is trained on twice).
  const entryFiles = cfg.resolved.datasets.flatMap((d) => d.dataFiles);
  return { files: [...new Set(entryFiles)].filter((f) => existsSync(f) && statSync(f).isFile()), entryFiles };
}

/**
 * An Axolotl, TRL or LLaMA-Factory config's local datasets (each validated through the framework's masker), and
 * why its model cannot be used for the preview, on the config at the model key.
 */
async function frameworkDatasets(file: string, report: FileReport, fw: FrameworkName): Promise<string[]> {
  const { text } = readConfigText(file);
  const { document, value } = resolveConfig(text ?? '');
  const { resolved, diagnostics } = frameworkPreviewCheck(fw, document, value, file, [process.cwd()]);
  const lines = new LineIndex(text ?? '');
  report.diagnostics.push(...diagnostics.map((d) => toPositioned(d, lines)));
  const model = resolved.framework?.model;
  if (model?.ok) (report.notes ??= []).push(`model ${model.dir}${model.from === 'hub-cache' ? ' (Hugging Face cache)' : ''}`);
  const problems = resolved.problems.filter((p) => !model || model.ok || p.message !== model.problem);
  if (problems.length > 0) report.messages = [...(report.messages ?? []), ...problems.map((p) => `${p.path.length ? p.path.join('.') + ': ' : ''}${p.message}`)];
  if (diagnostics.length > 0 || !model?.ok) return []; // said on the config (here or by its file-not-found rule)
  return [...new Set(resolved.datasets.flatMap((d) => d.dataFiles))].filter((f) => existsSync(f) && statSync(f).isFile());
}

/**
 * A dataset smaller than one optimizer step (batch_size × gradient_accumulation_steps): `ftune run` refuses it
 * (noStepPerEpochProblem, the same words), torchtune trains no step. Reported at the config's batch_size.
 */
function checkStepsPerEpoch(file: string, report: FileReport, samplesOf: (data: string) => number | undefined, entryFiles: readonly string[], engine: TrainerEngine | undefined): void {
  if (entryFiles.length === 0) return;
  const counts = entryFiles.map(samplesOf);
  if (counts.some((n) => n === undefined)) return; // a file that cannot be read has its own report
  const { text } = readConfigText(file);
  const { value } = resolveConfig(text ?? '');
  const positive = (v: unknown, dflt: number): number | null => (v === undefined ? dflt : typeof v === 'number' && Number.isInteger(v) && v >= 1 ? v : null);
  const batchSize = positive(value.batch_size, NaN);
  const gas = positive(value.gradient_accumulation_steps, 1);
  if (batchSize === null || gas === null || Number.isNaN(batchSize)) return; // the config's own diagnostics say why
  const problem = noStepPerEpochProblem(counts.reduce<number>((a, n) => a + (n ?? 0), 0), batchSize, gas);
  if (!problem) return;
  const { document } = validateConfig(text ?? '', { path: file, checkFiles: false });
  const at = toPositioned({ severity: 'error', code: 'dataset-too-small', message: '', range: rangeFor(document, ['batch_size'], 'value') }, new LineIndex(text ?? ''));
  const torchtune = engine === 'builtin' ? '' : ' — torchtune would train no step; `ftune run` and Launch refuse it';
  report.diagnostics.push({ ...at, severity: engine === 'builtin' ? 'error' : 'warning', message: `${problem}${torchtune}` });
}

async function validateDataset(file: string, configPath?: string): Promise<FileReport> {
  if (!existsSync(file)) return fileError(file, 'file-unreadable', `Cannot read ${file}: no such file`);
  if (statSync(file).isDirectory()) return fileError(file, 'file-unreadable', `Cannot read ${file}: it is a folder`);
  try {
    const r = await validateDatasetFile(file, { configPath });
    const report: FileReport = { file, diagnostics: r.diagnostics.map((d) => ({ ...d })), notes: [`${r.samples} samples, ${r.style}`], samples: r.samples };
    if (r.notes.length > 0) report.messages = [...r.notes];
    return report;
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return fileError(file, 'validation-failed', `Dataset validation failed: ${message.split('\n')[0]}`);
  }
}

/** A folder argument stands for the recipe configs under it (recursively, sorted). */
function expandFolders(files: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = join(dir, name);
      const st = statSync(p, { throwIfNoEntry: false });
      if (st?.isDirectory()) walk(p);
      else if (CONFIG_EXT.has(extname(name).toLowerCase())) out.push(p);
    }
  };
  for (const f of files) {
    if (statSync(f, { throwIfNoEntry: false })?.isDirectory()) walk(f);
    else out.push(f);
  }
  return out;
}

export async function validateFiles(files: readonly string[], options: Omit<ValidateCliOptions, 'format'> = {}): Promise<FileReport[]> {
  const reports: FileReport[] = [];
  const seen = new Map<string, FileReport>();
  const keyOf = (file: string, configPath?: string): string => `${resolve(file)}\0${configPath ? resolve(configPath) : ''}`;
  const dataset = async (file: string, configPath?: string): Promise<void> => {
    const key = keyOf(file, configPath);
    if (seen.has(key)) return;
    const report = await validateDataset(file, configPath);
    seen.set(key, report);
    reports.push(report);
  };
  for (const file of expandFolders(files)) {
    const ext = extname(file).toLowerCase();
    if (CONFIG_EXT.has(ext)) {
      const report = validateConfigFile(file, options.recipe, options.engine);
      reports.push(report);
      if (report.framework) {
        report.datasetFiles = await frameworkDatasets(file, report, report.framework);
        for (const data of report.datasetFiles) await dataset(data, file);
        continue;
      }
      const { files: datasetFiles, entryFiles } = await configDatasets(file, report, options.engine);
      report.datasetFiles = datasetFiles;
      for (const data of datasetFiles) await dataset(data, file);
      if (options.engine !== 'torchtune') checkStepsPerEpoch(file, report, (data) => seen.get(keyOf(data, file))?.samples, entryFiles, options.engine);
    } else if (DATASET_EXT.has(ext)) await dataset(file, options.config);
    else reports.push(fileError(file, 'unsupported-file', `Cannot validate ${file}: expected a .yaml/.yml recipe config or a .json/.jsonl dataset`));
  }
  return reports;
}

/** Compiler-style lines (`file:line:col: severity: message [code]`), then a verdict; coloured when `paint` is. */
export function formatText(reports: readonly FileReport[], paint: Painter = painter(process.stdout)): string {
  const lines: string[] = [];
  let errors = 0;
  let warnings = 0;
  for (const r of reports) {
    for (const d of r.diagnostics) {
      if (d.severity === 'error') errors++;
      else if (d.severity === 'warning') warnings++;
      lines.push(`${finding(paint, `${r.file}:${d.line}:${d.column}`, d.severity, d.message)} ${paint('grey', `[${d.code}]`)}`);
    }
    for (const m of r.messages ?? []) lines.push(finding(paint, r.file, 'note', m));
  }
  const verdict = errors > 0 ? paint('red', 'FAILED') : paint('green', 'OK');
  // One config (with the datasets it brought along) or one dataset: its facts in the summary.
  const main = reports.filter((r) => !reports.some((c) => c.datasetFiles?.includes(r.file)));
  const detail = main.length === 1 && main[0].notes?.length ? ` (${main[0].notes.join('; ')})` : '';
  lines.push(`${verdict}: ${plural(errors, 'error')}, ${plural(warnings, 'warning')} in ${plural(reports.length, 'file')}${detail}`);
  return lines.join('\n') + '\n';
}

function parseEngine(v: string): TrainerEngine {
  if (v !== 'builtin' && v !== 'torchtune') throw new InvalidArgumentError("use 'builtin' or 'torchtune'");
  return v;
}

function parseFormat(v: string): 'text' | 'json' {
  if (v !== 'text' && v !== 'json') throw new InvalidArgumentError("use 'text' or 'json'");
  return v;
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check recipe configs (.yaml) and chat datasets (.json/.jsonl); exit 1 when any has errors')
    .argument('<file...>', 'configs and datasets to check (a folder: the .yaml configs under it)')
    .option('--recipe <name>', 'the torchtune recipe the configs are for (default: from the registry, a `# recipe:` comment, or inferred)')
    .option('--config <file>', 'for datasets: the recipe config whose `dataset` and tokenizer decide how the file is read')
    .option('--format <format>', 'output format: text or json', parseFormat, 'text')
    .option('--engine <engine>', "the trainer the configs are for: builtin (as `ftune run` and Launch check them: what it cannot run and missing files are errors) or torchtune (default: the config's `# backend:` comment, else the built-in trainer's limits are warnings)", parseEngine)
    .action(async (files: string[], opts: ValidateCliOptions) => {
      const reports = await validateFiles(files, opts);
      if (opts.format === 'json') {
        const out = reports.map((r) => (r.messages ? { file: r.file, diagnostics: r.diagnostics, notes: r.messages } : { file: r.file, diagnostics: r.diagnostics }));
        process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      } else process.stdout.write(formatText(reports));
      if (reports.some((r) => r.diagnostics.some((d) => d.severity === 'error'))) process.exitCode = 1;
    });
}
