/** Public API of the recipe-config core: positioned YAML, OmegaConf semantics, the catalog and validation. */
export type { Comment, ConfigDocument, ConfigNode, ConfigPath, AliasNode, MapNode, PairNode, ScalarNode, ScalarValue, SeqNode } from './tree';
export type { Catalog, ComponentInfo, ParamInfo, RecipeInfo, RecipeKeyInfo, EnumValue } from './catalogTypes';
export { parseConfig } from './parse';
export { validateConfig, resolveConfig, type ValidateOptions, type ValidateResult, type ResolvedConfig } from './validate';
export { loadConfigFile, readConfigText, type LoadedConfig } from './load';
export { nodeAt, getNode, getPair, rangeFor, toPlain, deref, mapPairs, findPair, type NodeAtResult } from './paths';
export {
  getCatalog,
  getComponent,
  listComponents,
  getRecipe,
  listRecipes,
  recipeForConfigFile,
  registryConfigName,
  didYouMean,
  suggestComponent,
  suggestComponents,
} from './catalog';
export { detectRecipe, normalizeRecipeName, type RecipeSource, type RecipeDetection } from './recipe';
export { applyOverrides } from './overrides';
export { resolveInterpolations, splitInterpolations, type InterpolationProblem } from './interpolate';
export { resolvePlainScalar } from './scalars';
export { pyTypeToSchema, describeSchema } from './pyTypes';
export { recipeSchema, schemaFileName } from './schema';
