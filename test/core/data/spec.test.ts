import assert from 'node:assert/strict';
import { originOffset } from '../../../core/data/messages';
import { describe, test } from 'node:test';
import { parseTree } from 'jsonc-parser';
import { alpacaToMessages } from '../../../core/data/transforms';
import { detectFormat } from '../../../core/data/detect';
import { resolveDatasetSpec, sliceRange } from '../../../core/data/spec';

const tokenizer = { _component_: 'torchtune.models.llama3.llama3_tokenizer', path: 'tok.model', max_seq_len: 2048 };

describe('resolveDatasetSpec', () => {
  test('chat_dataset over a local JSON file, relative to the config folder', () => {
    const r = resolveDatasetSpec(
      {
        tokenizer,
        dataset: {
          _component_: 'torchtune.datasets.chat_dataset',
          source: 'json',
          data_files: 'data/chat.jsonl',
          conversation_column: 'messages',
          conversation_style: 'openai',
          new_system_prompt: 'Be brief.',
          split: 'train[:10%]',
          packed: true,
        },
      },
      '/home/me/project',
    );
    assert.deepEqual(r.problems, []);
    assert.equal(r.maxSeqLen, 2048);
    assert.deepEqual(r.tokenizer, tokenizer);
    const [d] = r.datasets;
    assert.deepEqual(d.dataFiles, ['/home/me/project/data/chat.jsonl']);
    assert.equal(d.kind, 'chat');
    assert.equal(d.style, 'openai');
    assert.equal(d.column, 'messages');
    assert.equal(d.trainOnInput, false);
    assert.equal(d.newSystemPrompt, 'Be brief.');
    assert.equal(d.packed, true);
    assert.deepEqual(sliceRange(d.slice, 200), [0, 20]);
  });

  test('a YAML list of datasets, builder defaults, Hub sources and missing pieces', () => {
    const r = resolveDatasetSpec(
      {
        tokenizer: { ...tokenizer, max_seq_len: null },
        dataset: [
          { _component_: 'torchtune.datasets.instruct_dataset', source: 'json', data_files: ['/abs/a.json', 'b.json'], column_map: { input: 'q', output: 'a' } },
          { _component_: 'torchtune.datasets.alpaca_dataset', packed: true },
          { _component_: 'torchtune.datasets.slimorca_dataset', source: 'json', data_files: 'orca.jsonl' },
          { _component_: 'torchtune.datasets.chat_dataset', source: 'json', data_files: 'x.json' },
          { _component_: 'torchtune.datasets.text_completion_dataset' },
        ],
      },
      '/cfg',
    );
    const [instruct, alpaca, orca, chat] = r.datasets;
    assert.equal(r.datasets.length, 4);
    assert.deepEqual(instruct.dataFiles, ['/abs/a.json', '/cfg/b.json']);
    assert.deepEqual(instruct.columnMap, { input: 'q', output: 'a' });
    assert.equal(instruct.trainOnInput, false);
    assert.equal(alpaca.kind, 'alpaca');
    assert.equal(alpaca.trainOnInput, true); // alpaca_dataset's default
    assert.deepEqual(alpaca.dataFiles, []);
    assert.deepEqual([orca.style, orca.column], ['sharegpt', 'conversations']);
    assert.equal(chat.style, undefined);
    const messages = r.problems.map((p) => `${p.path.join('.')}: ${p.message}`);
    assert.deepEqual(messages, [
      "dataset.1.source: source 'tatsu-lab/alpaca' is a Hugging Face Hub dataset: only local files (source: json with data_files) can be previewed",
      'dataset.3: chat_dataset needs conversation_style (sharegpt or openai)',
      'dataset.3: chat_dataset needs conversation_column (the key holding each conversation)',
      'dataset.4._component_: torchtune.datasets.text_completion_dataset: only chat_dataset, instruct_dataset, alpaca_dataset, alpaca_cleaned_dataset and slimorca_dataset over local JSON files can be previewed',
      'dataset.1.packed: packed: true needs tokenizer.max_seq_len',
    ]);
  });

  test('splits: data_files given per split, slices, and a split that does not exist', () => {
    const base = { _component_: 'torchtune.datasets.chat_dataset', source: 'json', conversation_column: 'c', conversation_style: 'sharegpt' };
    const r = resolveDatasetSpec(
      {
        tokenizer,
        dataset: [
          { ...base, data_files: { train: 't.jsonl', validation: 'v.jsonl' }, split: 'validation[5:-5]' },
          { ...base, data_files: 't.jsonl', split: 'test' },
        ],
      },
      '/c',
    );
    assert.deepEqual(r.datasets[0].dataFiles, ['/c/v.jsonl']);
    assert.deepEqual(sliceRange(r.datasets[0].slice, 100), [5, 95]);
    assert.deepEqual(r.problems.map((p) => p.path.join('.')), ['dataset.1.split']);
  });
});

describe('detectFormat', () => {
  test('sharegpt vs openai vs instruct, and the column that holds the turns', () => {
    assert.equal(detectFormat([{ id: 1, dialogue: [{ from: 'human', value: 'q' }] }]).description, "sharegpt (detected, column 'dialogue')");
    assert.equal(detectFormat([{ messages: [{ role: 'user', content: 'q' }] }]).description, "openai (detected, column 'messages')");
    assert.equal(detectFormat([{ instruction: 'i', input: '', output: 'o' }]).format.kind, 'alpaca');
    assert.equal(detectFormat([{ input: 'i', output: 'o' }]).format.kind, 'instruct');
    const unknown = detectFormat([{ text: 'plain' }]);
    assert.equal(unknown.format.kind, 'unknown');
    assert.match(unknown.description, /keys: 'text'/);
  });
});

describe("alpaca_dataset's AlpacaToMessages", () => {
  const run = (json: string, trainOnInput = true, columnMap?: Record<string, string>) => alpacaToMessages(parseTree(json)!, { trainOnInput, text: json, columnMap });

  test('instruction + input fill the Alpaca prompt; the output keeps its source offsets', () => {
    const json = '{"instruction": "Add", "input": "1 and 2", "output": "3"}';
    const r = run(json, false);
    assert.ok('messages' in r);
    const [user, assistant] = r.messages;
    assert.equal(
      user.content[0].text,
      'Below is an instruction that describes a task, paired with an input that provides further context. Write a response that appropriately completes the request.\n\n### Instruction:\nAdd\n\n### Input:\n1 and 2\n\n### Response:\n',
    );
    assert.equal(user.masked, true);
    assert.equal(assistant.masked, false);
    assert.equal(originOffset(assistant.content[0].origin!, 0), json.indexOf('"3"') + 1);
  });

  test('an empty input uses the no-input prompt; missing columns are KeyErrors', () => {
    const r = run('{"instruction": "Hi", "input": "", "output": "Hello"}');
    assert.ok('messages' in r && r.messages[0].content[0].text.startsWith('Below is an instruction that describes a task. Write'));
    const missing = run('{"instruction": "Hi"}');
    assert.ok('error' in missing && `${missing.error.type}: ${missing.error.message}` === "KeyError: 'output'");
    const badMap = run('{"q": "Hi", "a": "x"}', true, { input: 'q' });
    assert.ok('error' in badMap && badMap.error.message === "Expected a key of 'instruction' in column_map but found dict_keys(['input']).");
  });
});
