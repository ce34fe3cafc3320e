/**
 * The tokenizer `_component_` that names a Hugging Face model folder (tokenizer.json + tokenizer_config.json + chat
 * template), as transformers loads it. Its `path` is a folder, where torchtune's tokenizers take a file: the file
 * checks of validate and Launch ask here which one to expect.
 */
export const HF_TOKENIZER_COMPONENT = 'transformers.AutoTokenizer.from_pretrained';

/** Whether a config's `tokenizer:` node reads a folder at `path` (an HF model folder) rather than a file. */
export function tokenizerPathIsFolder(tokenizer: Readonly<Record<string, unknown>>): boolean {
  return tokenizer._component_ === HF_TOKENIZER_COMPONENT;
}
