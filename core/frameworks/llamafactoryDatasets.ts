/** Moved to ./llamafactory/datasets.ts; kept so existing imports keep working. */
export { checkLlamaFactoryDatasets } from './llamafactory/datasets';
