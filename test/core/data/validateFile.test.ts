import assert from 'node:assert/strict';
import { originOffset } from '../../../core/data/messages';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { DatasetText } from '../../../core/data/source';
import { type DatasetValidateResult, validateDatasetFile, validateSource, validateText } from '../../../core/data/validateFile';
import { mulberry32 } from '../../../trainer/runtime/prng';
import { sharedPath } from '../../shared';

const dir = mkdtempSync(join(tmpdir(), 'ftune-validate-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

type Diag = DatasetValidateResult['diagnostics'][number];
const at = (d: Diag): string => `${d.line}:${d.column}-${d.endLine}:${d.endColumn} ${d.code}`;

const STYLES: Record<string, string> = {
  'bad_sharegpt.jsonl': "sharegpt (detected, column 'conversations')",
  'edge_sharegpt.jsonl': "sharegpt (detected, column 'conversations')",
  'glaive_first4.json': "sharegpt (detected, column 'dialogue')",
  'glaive_sharegpt.json': "sharegpt (detected, column 'dialogue')",
  'mixed_openai.jsonl': "openai (detected, column 'messages')",
  'alpaca_en_demo.json': "alpaca instruct (detected: columns 'instruction', 'input', 'output')",
  'dpo_en_demo.json': "sharegpt (detected, column 'conversations')",
  'glaive_toolcall_en_demo.json': "sharegpt (detected, column 'conversations')",
  'identity.json': "alpaca instruct (detected: columns 'instruction', 'input', 'output')",
  'mllm_demo.json': "openai (detected, column 'messages')",
  'v1_sft_demo.jsonl': "openai (detected, column 'messages')",
};

describe('every corpus file validates without crashing, with the detected style', () => {
  for (const d of ['chat', 'llamafactory']) {
    for (const name of readdirSync(sharedPath('corpus', d))) {
      test(`${d}/${name}`, async () => {
        const r = await validateDatasetFile(sharedPath('corpus', d, name));
        assert.equal(r.style, STYLES[name]);
        assert.ok(r.samples > 0);
        for (const x of r.diagnostics) {
          assert.ok(x.line >= 1 && x.column >= 1 && (x.endLine > x.line || (x.endLine === x.line && x.endColumn >= x.column)), at(x));
          assert.ok(x.message.length > 0);
        }
      });
    }
  }
});

describe('precise diagnostics on real messy data (positions checked by hand)', () => {
  test("bad_sharegpt.jsonl: torchtune's exact errors at the offending message", async () => {
    const r = await validateDatasetFile(sharedPath('corpus/chat/bad_sharegpt.jsonl'));
    assert.equal(r.failingSamples, 5);
    assert.deepEqual(
      r.diagnostics.map((x) => [at(x), x.message.split(' — ')[0]]),
      [
        ['1:20-1:66 too-few-messages', 'ValueError: Messages must be at least length 2, but got 1 messages'],
        ['2:53-2:84 consecutive-user', 'ValueError: Two consecutive user messages at index 1 and 0 in messages'],
        ['3:20-3:63 assistant-before-user', 'ValueError: Assistant message before expected user, tool or ipython message at index 0 in messages'],
        ['4:53-4:95 late-system', 'ValueError: System message at index 1 in messages, but system messages must come first'],
        ['5:62-5:77 unknown-role', "KeyError: 'function_call'"],
      ],
    );
    assert.match(r.diagnostics[4].message, /ShareGPT roles \("from"\) are system, human and gpt\.$/);
  });

  test('edge_sharegpt.jsonl: special-token strings and whitespace-only turns that torchtune accepts silently', async () => {
    const r = await validateDatasetFile(sharedPath('corpus/chat/edge_sharegpt.jsonl'));
    assert.equal(r.failingSamples, 0);
    const got = r.diagnostics.map(at);
    assert.ok(got.includes('5:58-5:68 special-token-text'), got.join('\n'));
    assert.ok(got.includes('11:47-11:52 whitespace-turn'), got.join('\n'));
    // line 13: the system turn is "" (empty)
    assert.ok(r.diagnostics.some((x) => x.line === 13 && x.code === 'empty-turn'));
  });

  test('glaive_toolcall_en_demo.json: LLaMA-Factory tool turns are KeyErrors at the "from" value', async () => {
    const r = await validateDatasetFile(sharedPath('corpus/llamafactory/glaive_toolcall_en_demo.json'));
    assert.equal(at(r.diagnostics[0]), '17:17-17:32 unknown-role');
    assert.match(r.diagnostics[0].message, /^KeyError: 'function_call'/);
    assert.ok(r.notes.some((n) => n.includes("'tools' column")));
  });

  test('v1_sft_demo.jsonl: OpenAI content parts with "value" instead of "text"', async () => {
    const r = await validateDatasetFile(sharedPath('corpus/llamafactory/v1_sft_demo.jsonl'));
    assert.equal(r.failingSamples, 500);
    assert.equal(at(r.diagnostics[0]), '1:44-1:75 missing-text');
    assert.equal(r.diagnostics[0].message, "KeyError: 'text' — it has 'type', 'value'.");
  });

  test('dpo_en_demo.json: preference data read as chat is flagged, one-turn samples fail as torchtune does', async () => {
    const r = await validateDatasetFile(sharedPath('corpus/llamafactory/dpo_en_demo.json'));
    assert.equal(at(r.diagnostics[0]), '4:7-7:8 too-few-messages');
    assert.ok(r.notes.some((n) => n.includes('preference')));
  });

  test('clean corpora have no diagnostics', async () => {
    for (const f of ['chat/glaive_sharegpt.json', 'chat/mixed_openai.jsonl', 'llamafactory/alpaca_en_demo.json']) {
      const r = await validateDatasetFile(sharedPath('corpus', f));
      assert.deepEqual(r.diagnostics, [], f);
    }
  });
});

describe('structural problems are diagnostics with positions', () => {
  test('invalid JSON lines, a trailing comma in a sample, a truncated last line', async () => {
    const p = write(
      'broken.jsonl',
      [
        '{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}',
        '{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"},]}',
        "{'conversations': []}",
        '',
        '{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "val',
      ].join('\n'),
    );
    const r = await validateDatasetFile(p);
    assert.equal(r.samples, 4);
    assert.equal(r.failingSamples, 3);
    const [comma, quote, cut] = r.diagnostics;
    assert.equal(at(comma), '2:83-2:84 json-syntax');
    assert.match(comma.message, /trailing comma/);
    assert.equal(at(quote), '3:2-3:17 json-syntax');
    assert.match(quote.message, /double quotes/);
    assert.equal(cut.line, 5);
    assert.equal(cut.code, 'truncated');
    assert.match(cut.message, /truncated last line/);
  });

  test('a JSON file that is one object, with a BOM', async () => {
    const r = await validateDatasetFile(write('obj.json', '\uFEFF{\n  "conversations": []\n}\n'));
    assert.deepEqual(r.diagnostics.map(at), ['1:1-1:1 bom', '1:1-1:2 not-array']);
  });

  test('a .json file with one object per line is read as JSON Lines, as the HF loader does', async () => {
    const line = '{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}';
    const r = await validateDatasetFile(write('lines.json', `${line}\n${line.replace('"gpt"', '"bot"')}\n`));
    assert.equal(r.samples, 2);
    assert.deepEqual(r.diagnostics.map(at), ['1:1-1:1 json-lines', '2:62-2:67 unknown-role']);
    assert.equal(r.diagnostics[0].severity, 'information');
  });

  test('the in-memory text gives the same positions as the file', async () => {
    const text = '[\n  {"conversations": [{"from": "human", "value": "😀"}, {"from": "human", "value": "b"}]}\n]\n';
    const fromFile = await validateDatasetFile(write('mem.json', text));
    const fromText = await validateSource(new DatasetText('mem.json', text));
    assert.deepEqual(fromText.diagnostics, fromFile.diagnostics);
    assert.equal(at(fromFile.diagnostics[0]), '2:56-2:87 consecutive-user');
  });

  test('non-UTF-8 bytes are reported and the other samples still validated', async () => {
    const ok = '{"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}\n';
    const p = write('latin.jsonl', Buffer.concat([Buffer.from(ok), Buffer.from('{"conversations": "'), Buffer.from([0xff]), Buffer.from('"}\n'), Buffer.from(ok)]));
    const r = await validateDatasetFile(p);
    assert.equal(r.samples, 3);
    assert.deepEqual(r.diagnostics.map(at), ['2:20-2:21 not-utf8']);
  });

  test('a missing path is a clear error naming it; an empty JSONL has no samples and no problems', async () => {
    await assert.rejects(validateDatasetFile(join(dir, 'missing.jsonl')), /missing\.jsonl: no such file/);
    const r = await validateDatasetFile(write('empty.jsonl', '\n\n'));
    assert.equal(r.samples, 0);
    assert.deepEqual(r.diagnostics, []);
  });

  test('the editor variant returns UTF-16 ranges into the document', async () => {
    const text = '{"c": [{"from": "human", "value": "é"}, {"from": "bot", "value": "x"}]}\n';
    const ds = await validateText('chat.jsonl', text, { reader: { kind: 'chat', style: 'sharegpt', column: 'c', trainOnInput: false, newSystemPrompt: null } });
    assert.equal(ds.length, 1);
    assert.equal(text.slice(ds[0].range.start, ds[0].range.end), '"bot"');
    assert.equal(ds[0].message.split(' — ')[0], "KeyError: 'bot'");
  });
});

describe('with a config: the tokenizer decides', () => {
  const MAX = 512;
  const cfg = write(
    'glaive.yaml',
    `tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${sharedPath('assets/llama3/tokenizer.model')}
  max_seq_len: ${MAX}
dataset:
  _component_: torchtune.datasets.chat_dataset
  source: json
  data_files: ${sharedPath('corpus/chat/glaive_sharegpt.json')}
  conversation_column: dialogue
  conversation_style: sharegpt
`,
  );

  test('truncation that cuts trained tokens, with the counts torchtune would lose', async () => {
    const r = await validateDatasetFile(sharedPath('corpus/chat/glaive_sharegpt.json'), { configPath: cfg });
    assert.equal(r.style, "sharegpt (from config: chat_dataset, column 'dialogue')");
    const gold = readFileSync(sharedPath('golden/torchtune-tokenize/llama3_glaive.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { tokens: number[]; mask: boolean[] });
    const trained = (m: boolean[]): number => m.filter((x) => !x).length;
    const expected = gold
      .filter((g) => g.tokens.length > MAX && trained(g.mask) > trained([...g.mask.slice(0, MAX - 1), true]))
      .map((g) => `This sample is ${g.tokens.length} tokens; max_seq_len ${MAX} cuts it and drops ${trained(g.mask) - trained([...g.mask.slice(0, MAX - 1), true])} of its ${trained(g.mask)} trained tokens`);
    const got = r.diagnostics.filter((d) => d.code === 'truncated-trained');
    assert.equal(got.length, expected.length);
    assert.ok(expected.length > 0);
    got.forEach((d, k) => assert.ok(d.message.startsWith(expected[k]), `${d.message}\n${expected[k]}`));
  });

  test('special-token strings: Llama 3 keeps them as text (information, not a warning)', async () => {
    const edge = write('edge.yaml', readFileSync(cfg, 'utf8').replace(/data_files: .*/, `data_files: ${sharedPath('corpus/chat/edge_sharegpt.jsonl')}`).replace('dialogue', 'conversations'));
    const r = await validateDatasetFile(sharedPath('corpus/chat/edge_sharegpt.jsonl'), { configPath: edge });
    const special = r.diagnostics.filter((d) => d.code === 'special-token-text');
    assert.deepEqual(special.map(at), ['5:58-5:68 special-token-text', '5:134-5:153 special-token-text', '5:162-5:179 special-token-text']);
    assert.equal(special[0].severity, 'information');
    assert.match(special[0].message, /llama3_tokenizer encodes it as ordinary text .* not as the special token id 128009/);
  });

  test('a config whose tokenizer file is missing still validates the data, with a note', async () => {
    const broken = write('broken.yaml', readFileSync(cfg, 'utf8').replace(/path: .*/, `path: ${join(dir, 'none.model')}`));
    const r = await validateDatasetFile(sharedPath('corpus/chat/bad_sharegpt.jsonl'), { configPath: broken });
    assert.equal(r.failingSamples, 5);
    assert.ok(r.notes.some((n) => n.includes('broken.yaml: tokenizer:') && n.includes('none.model')), r.notes.join('\n'));
  });
});

describe('fuzz: mutated corpus files never crash and positions stay inside the file', () => {
  // Deterministic PRNG so a failure can be replayed.
  const rng = mulberry32;
  const PIECES = ['"', '\\', '{', '}', '[', ']', ',', ':', '\n', '\r', ' ', 'null', '"from"', '"gpt"', '\uFEFF', '😀'];
  for (const [name, seed] of [['chat/edge_sharegpt.jsonl', 1], ['chat/glaive_first4.json', 2], ['chat/mixed_openai.jsonl', 3]] as const) {
    test(name, async () => {
      const original = readFileSync(sharedPath('corpus', name));
      const rand = rng(seed);
      for (let round = 0; round < 40; round++) {
        let bytes = Buffer.from(original);
        for (let m = 0; m < 1 + Math.floor(rand() * 6); m++) {
          const at = Math.floor(rand() * bytes.length);
          const kind = rand();
          if (kind < 0.3) bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(rand() * 20))]);
          else if (kind < 0.8) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from(PIECES[Math.floor(rand() * PIECES.length)]), bytes.subarray(at)]);
          else if (kind < 0.9) bytes = Buffer.concat([bytes.subarray(0, at), Buffer.from([0x80 + Math.floor(rand() * 0x7f)]), bytes.subarray(at)]);
          else bytes = bytes.subarray(0, at); // truncated
        }
        const p = write(`fuzz-${seed}-${round}${name.slice(name.lastIndexOf('.'))}`, bytes);
        const r = await validateDatasetFile(p);
        const lines = bytes.toString('utf8').split(/\r\n|\r|\n/).length;
        for (const d of r.diagnostics) {
          assert.ok(d.line >= 1 && d.line <= lines && d.endLine <= lines, `${p}: ${at(d)} outside the file (${lines} lines)`);
          assert.notEqual(d.code, 'internal-error', `${p}: ${d.message}`);
        }
      }
    });
  }
});

describe('columns and roles', () => {
  test('a renamed conversation column: KeyError with the keys the sample has and a guess', async () => {
    const p = write('renamed.jsonl', '{"conversation": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}\n');
    const ds = validateText(p, readFileSync(p, 'utf8'), { reader: { kind: 'chat', style: 'sharegpt', column: 'conversations', trainOnInput: false, newSystemPrompt: null } });
    assert.equal(
      ds[0].message,
      "KeyError: 'conversations' — the sample has no such key (it has 'conversation'); set conversation_column to the right key. Did you mean 'conversation'?",
    );
    assert.deepEqual(ds[0].range, { start: 0, end: readFileSync(p, 'utf8').trimEnd().length });
  });

  test('an OpenAI role torchtune does not know is accepted silently: warned at the message', async () => {
    const line = '{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}, {"role": "function", "content": "{}"}]}';
    const r = await validateDatasetFile(write('roles.jsonl', line + '\n'));
    assert.equal(r.failingSamples, 0);
    const d = r.diagnostics.find((x) => x.code === 'unknown-role');
    assert.ok(d);
    assert.equal(d.column, line.indexOf('{"role": "function"') + 1);
    assert.match(d.message, /^Role 'function' \(message 2\) is not one torchtune knows/);
  });
});

test('analyzeSample with positioned: text parts carry document origins (for hover)', async () => {
  const { analyzeSample } = await import('../../../core/data/analyze');
  const text = '[\n  {"c": [{"from": "human", "value": "q\\u00e9"}, {"from": "gpt", "value": "answer"}]}\n]\n';
  const src = new DatasetText('doc.json', text);
  const o = analyzeSample(src, 0, { reader: { kind: 'chat', style: 'sharegpt', column: 'c', trainOnInput: false, newSystemPrompt: null }, positioned: true });
  const part = o.messages![1].content[0];
  const start = src.documentOffset(0, originOffset(part.origin!, 0));
  assert.equal(text.slice(start, start + 'answer'.length), 'answer');
  const user = o.messages![0].content[0];
  assert.equal(user.text, 'qé');
  // "é" comes from the 6-unit escape \u00e9
  assert.equal(text.slice(src.documentOffset(0, originOffset(user.origin!, 1)), src.documentOffset(0, originOffset(user.origin!, 2))), '\\u00e9');
});
