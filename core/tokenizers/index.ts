/** Public entry of core/tokenizers. */
export { TokenizerConfigError, TokenizeSampleError } from './types';
export type { ModelTokenizer, EncodeOptions } from './types';
export { createModelTokenizer, supportedTokenizerComponents } from './factory';
export { loadTextTokenizer } from './detect';
export type { TextTokenizer, TokenizerFormat } from './detect';
