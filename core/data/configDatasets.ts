/**
 * The samples a config trains on, in order: every dataset entry's data files (torchtune concatenates a list of
 * datasets), each sample analyzed through the shared pipeline. Used by `ftune tokenize` and `ftune stats`.
 */
import { type SampleOutcome, analyzeSample } from './analyze';
import { type DatasetConfig, DatasetConfigError, loadDatasetConfig } from './configSetup';
import { specReader } from './setup';
import { DatasetFile } from './source';
import { sliceRange } from './spec';

export interface ConfigSample {
  /** Index in the concatenated dataset (what torchtune's dataset[i] is). */
  index: number;
  file: string;
  /** Index of the sample within its file. */
  fileIndex: number;
  outcome: SampleOutcome;
}

/** Loads a config and checks that its datasets can be read and tokenized; throws DatasetConfigError otherwise. */
export async function openConfigDatasets(configPath: string, overrides: string[] = []): Promise<DatasetConfig> {
  const cfg = await loadDatasetConfig(configPath, overrides);
  if (cfg.tokenizerError) throw new DatasetConfigError(cfg.tokenizerError);
  const usable = cfg.resolved.datasets.filter((d) => d.dataFiles.length > 0);
  // A framework config's tokenizer comes with its datasets (the masker is prepared per dataset).
  if (!cfg.tokenizer && !(cfg.resolved.framework && usable.length === 0)) throw new DatasetConfigError(`${configPath}: the config has no tokenizer (a tokenizer: mapping with _component_ and path)`);
  if (usable.length === 0) {
    const none = cfg.resolved.framework ? 'no dataset of the config is a local JSON/JSONL file' : 'no dataset reads local files (source: json with data_files)';
    throw new DatasetConfigError(cfg.notes.length > 0 ? cfg.notes.join('\n') : `${configPath}: ${none}`);
  }
  return cfg;
}

/** Every sample of the config's local datasets, tokenized, in dataset order; stops after `limit` samples. */
export function* configSamples(
  cfg: DatasetConfig,
  limit = Infinity,
  onFileProblem: (message: string, severity: 'error' | 'warning' | 'information') => void = () => {},
): Generator<ConfigSample> {
  let index = 0;
  for (const spec of cfg.resolved.datasets) {
    const how = specReader(cfg.resolved, spec, cfg.configPath);
    if (how.problem) throw new DatasetConfigError(how.problem);
    const reader = how.reader;
    const tokenizer = how.tokenizer ?? cfg.tokenizer;
    for (const file of spec.dataFiles) {
      if (index >= limit) return;
      let source: DatasetFile;
      try {
        source = DatasetFile.open(file);
      } catch (e) {
        throw new DatasetConfigError(`${cfg.configPath}: ${spec.path.join('.')}.data_files: ${(e as Error).message}`);
      }
      for (const p of source.index.problems) {
        const r = source.problemRange(p).start;
        onFileProblem(`${file}:${r.line + 1}:${r.character + 1}: ${p.severity}: ${p.message}`, p.severity);
      }
      try {
        const [from, to] = spec.dataFiles.length === 1 ? sliceRange(spec.slice, source.index.count) : [0, source.index.count];
        for (let i = from; i < to && index < limit; i++) {
          const outcome = analyzeSample(source, i, { reader, tokenizer });
          yield { index: index++, file, fileIndex: i, outcome };
        }
      } finally {
        source.close();
      }
    }
  }
}
