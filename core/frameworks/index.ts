/** Public API of the framework-config core: Axolotl, TRL and LLaMA-Factory YAML configs. */
export { frameworkCatalog, frameworkKey, isDatasetList, FRAMEWORK_LABEL, type FrameworkName, type FrameworkKey, type FrameworkCatalog } from './catalog';
export { recognizeFramework, frameworkFromComment, frameworkFromKeys, looksLikeFrameworkConfig, type FrameworkDetection } from './recognize';
export { validateFrameworkConfig, type FrameworkValidateOptions } from './validate';
