/**
 * torchtune 0.7.0's AlpacaToMessages (alpaca_dataset, alpaca_cleaned_dataset): instruction (+ input) fill the
 * Alpaca prompt template as the user turn, output is the assistant turn. The prompt is template text, so it has
 * no source origin; the output keeps its offsets.
 */
import type { Node } from 'jsonc-parser';
import { decodeStringNode, propertyNode, pyRepr, pyStrRepr } from './jsonOrigin';
import type { Message, TextPart } from './messages';
import type { TransformResult } from './transforms';

const PROMPT_INPUT =
  'Below is an instruction that describes a task, paired with an input that provides further context. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:\n';
const PROMPT_NO_INPUT =
  'Below is an instruction that describes a task. ' +
  'Write a response that appropriately completes the request.\n\n' +
  '### Instruction:\n{instruction}\n\n### Response:\n';

export interface AlpacaOptions {
  columnMap?: Record<string, string>;
  trainOnInput: boolean;
  text: string;
}

/** Python's str() of a JSON value, as str.format uses it. */
function pyStr(node: Node): string {
  return node.type === 'string' ? String(node.value) : pyRepr(node);
}

/** Python's truthiness of a JSON value. */
function truthy(node: Node): boolean {
  switch (node.type) {
    case 'string':
      return String(node.value).length > 0;
    case 'number':
      return Number(node.value) !== 0;
    case 'boolean':
      return node.value === true;
    case 'null':
      return false;
    default:
      return (node.children ?? []).length > 0;
  }
}

function rangeOf(node: Node): { start: number; end: number } {
  return { start: node.offset, end: node.offset + node.length };
}

export function alpacaToMessages(sample: Node, opts: AlpacaOptions): TransformResult {
  const map = opts.columnMap && Object.keys(opts.columnMap).length > 0 ? opts.columnMap : {};
  for (const k of ['instruction', 'output']) {
    if (Object.keys(map).length > 0 && !(k in map)) {
      const keys = Object.keys(map).map(pyStrRepr).join(', ');
      return { error: { type: 'ValueError', message: `Expected a key of '${k}' in column_map but found dict_keys([${keys}]).`, code: 'bad-column-map' } };
    }
  }
  const keyInput = map.input ?? 'input';
  const keyInstruction = map.instruction ?? 'instruction';
  const keyOutput = map.output ?? 'output';
  if (sample.type !== 'object') {
    return { error: { type: 'TypeError', message: `'${sample.type === 'array' ? 'list' : 'str'}' object is not a mapping`, code: 'not-an-object', range: rangeOf(sample) } };
  }
  const missing = (key: string): TransformResult => ({
    error: { type: 'KeyError', message: pyStrRepr(key), code: 'missing-column', range: rangeOf(sample) },
  });
  const input = propertyNode(sample, keyInput);
  const instruction = propertyNode(sample, keyInstruction);
  if (!instruction) return missing(keyInstruction);
  const prompt =
    input && truthy(input)
      ? PROMPT_INPUT.replace('{instruction}', () => pyStr(instruction)).replace('{input}', () => pyStr(input))
      : PROMPT_NO_INPUT.replace('{instruction}', () => pyStr(instruction));
  const output = propertyNode(sample, keyOutput);
  if (!output) return missing(keyOutput);
  if (output.type === 'array') {
    return { error: { type: 'TypeError', message: 'content must be a string; got a list (torchtune would fail tokenizing it)', code: 'content-not-string', range: rangeOf(output) } };
  }
  if (output.type !== 'string') {
    return {
      error: { type: 'AssertionError', message: `content must be of type list[dict[str, Any]], got ${pyRepr(output)}`, code: 'content-not-string', range: rangeOf(output) },
    };
  }
  const decoded = decodeStringNode(output, opts.text);
  const answer: TextPart = decoded.origin ? { type: 'text', text: decoded.text, origin: decoded.origin } : { type: 'text', text: decoded.text };
  const messages: Message[] = [
    { role: 'user', content: [{ type: 'text', text: prompt }], masked: !opts.trainOnInput, eot: true },
    { role: 'assistant', content: [answer], masked: false, eot: true },
  ];
  return { messages };
}
