/**
 * The tokenizer pipeline transformers actually runs for a folder, as a tokenizer.json object. transformers 5 does
 * not always use tokenizer.json as written: AutoTokenizer instantiates the class that tokenizer_config.json's
 * `tokenizer_class` names, and a class with its own `__init__` takes only the vocab and merges (and the
 * post-processor, padding, truncation) from the file and builds normalizer, pre-tokenizer and decoder itself
 * (transformers@5.17.0 tokenization_utils_tokenizers.py `TokenizersBackend.convert_to_native_format`: the
 * `"__init__" not in cls.__dict__` test). Where that rebuilt pipeline differs from the file's, the difference is
 * reproduced here on a copy of the tokenizer.json object so that @huggingface/tokenizers runs transformers' one.
 *
 * Reproduced: LlamaTokenizer / LlamaTokenizerFast (Llama 2, Mistral v0.x, and every folder whose config names
 * them; models/llama/tokenization_llama.py `LlamaTokenizer.__init__`): no normalizer (the file's Prepend("▁") +
 * Replace(" ", "▁") is dropped) and Metaspace(replacement="▁", split=False, prepend_scheme) with prepend_scheme
 * from tokenization_utils_base.py `_get_prepend_scheme`: "never" when add_prefix_space is false, else "first" when
 * `legacy` is false (the class default) and "always" when the config says `legacy: true`. The visible difference:
 * no extra "▁" token after a special token or before a text that already starts with a space.
 * Checked equal to the file as written (test/fixtures/hf-tokenizer/ids-expected.json): GemmaTokenizer (Gemma 3),
 * Qwen2Tokenizer (Qwen 3) and PreTrainedTokenizerFast / TokenizersBackend (Llama 3, used as-is).
 */

const LLAMA_CLASSES = new Set(['LlamaTokenizer', 'LlamaTokenizerFast']);

/** tokenization_utils_base.py `_get_prepend_scheme(add_prefix_space, tokenizer)` with LlamaTokenizer's defaults. */
function llamaPrependScheme(config: Record<string, unknown>): 'always' | 'first' | 'never' {
  const addPrefixSpace = typeof config.add_prefix_space === 'boolean' ? config.add_prefix_space : true;
  if (!addPrefixSpace) return 'never';
  const legacy = typeof config.legacy === 'boolean' ? config.legacy : false;
  return legacy ? 'always' : 'first';
}

/** The tokenizer.json object transformers' tokenizer class would run; the input itself when it is used as-is. */
export function transformersPipeline(tokenizerJson: Record<string, unknown>, tokenizerConfig: Record<string, unknown>): Record<string, unknown> {
  const cls = tokenizerConfig.tokenizer_class;
  if (typeof cls !== 'string' || !LLAMA_CLASSES.has(cls)) return tokenizerJson;
  const model = tokenizerJson.model as { type?: unknown } | undefined;
  if (model?.type !== 'BPE') return tokenizerJson; // the class builds a BPE model; anything else is left as written
  return {
    ...tokenizerJson,
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: llamaPrependScheme(tokenizerConfig), split: false },
  };
}
