/**
 * Public entry of core/data: dataset files of any size (sample index + lazy parse), dataset specs from configs,
 * validation, and per-sample analysis through the one tokenization path. (transforms, messages and pipeline are
 * imported from their own modules.)
 */
export { type DatasetFormat, type SampleIndex, type StructuralProblem, SampleIndexer, formatOfPath, indexText, sampleAtOffset } from './sampleIndex';
export { type DatasetSource, type Position, type PositionRange, type SampleText, DatasetFile, DatasetText, openDataset } from './source';
export { type ChatStyle, type DatasetKind, type DatasetSpec, type ResolvedDatasets, type SpecProblem, resolveDatasetSpec, sliceRange } from './spec';
export { type DetectedFormat, type Detection, detectFormat } from './detect';
export { type SampleReader, type ParsedSample, parseFast, parsePositioned, sampleToMessages } from './sampleMessages';
export { type AnalyzeOptions, type SampleDiagnostic, type SampleOutcome, analyzeSample } from './analyze';
export { type SampleFinding, checkMessages, checkTokenized } from './checks';
export { type FileSetup, detectReader, readerForFile, readerOf } from './setup';
export { type DatasetConfig, DatasetConfigError, loadDatasetConfig } from './configSetup';
export { type ConfigSample, configSamples, openConfigDatasets } from './configDatasets';
export { type DatasetStats, StatsCollector } from './stats';
export { type DatasetValidateOptions, type DatasetValidateResult, validateDatasetFile, validateSource, validateText } from './validateFile';
