/**
 * `ftune tokenize`, `stats` and `validate` on Axolotl, TRL and LLaMA-Factory configs (their own examples pointed at
 * local data and the real Qwen3 tokenizer folder): the config in force and the framework's options are printed,
 * every sample carries its mask way and findings, and the whole dataset's findings are counted per code with the
 * first sample's place. A Hub model id is read from a Hugging Face cache, or named with its download command.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, describe, test } from 'node:test';
import type { DatasetStats } from '../../core/data/stats';
import { makeFrameworkWorkspace } from '../frameworkWorkspace';
import { ftune } from './tokenizeHelpers';

const ws = makeFrameworkWorkspace();
after(() => rmSync(ws.dir, { recursive: true, force: true }));

interface TokenizeLine {
  index: number;
  tokens?: number[];
  mask?: boolean[];
  labels?: number[];
  mask_way?: string;
  findings?: string[];
  error?: string;
}

const lines = (out: string): TokenizeLine[] => out.trim().split('\n').map((l) => JSON.parse(l) as TokenizeLine);

describe('ftune on framework configs', () => {
  test('tokenize (TRL, assistant_only_loss without {% generation %}): every label is -100, each line says why', () => {
    const r = ftune(['tokenize', ws.trl]);
    assert.equal(r.code, 0, r.stderr);
    const out = lines(r.stdout);
    assert.equal(out.length, 4);
    for (const s of out) {
      assert.ok(s.tokens && s.labels && s.mask);
      assert.equal(s.labels.length, s.tokens.length);
      assert.ok(s.labels.every((l) => l === -100));
      assert.equal(s.mask_way, 'generation');
      assert.ok(s.findings?.includes('nothing-trained'), JSON.stringify(s.findings));
    }
    const text = ftune(['tokenize', ws.trl, '--format', 'text', '--limit', '1']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^config in force: .*trl\.yaml \(TRL\), model .*qwen3\n/);
    assert.match(text.stdout, /\noptions: assistant_only_loss · max_length 1024/);
    assert.match(text.stdout, /\nconfig: assistant_only_loss is on but the chat template has no \{% generation %\} block.*\[no-generation-block\]/);
    assert.match(text.stdout, /\nsample 1 \(.*chat\.jsonl sample 1\): \d+ tokens, 0 trained, mask generation\n {2}warning: Nothing is trained/);
  });

  test('tokenize (Axolotl): the trained tokens are the assistant answer, labels shifted as the trainer shifts them', () => {
    const r = ftune(['tokenize', ws.axolotl, '--limit', '1']);
    assert.equal(r.code, 0, r.stderr);
    const [s] = lines(r.stdout);
    const trained = s.tokens!.filter((_, k) => !s.mask![k]);
    assert.ok(trained.length > 0);
    // labels[k] is the next token when that one is trained, else -100.
    s.labels!.forEach((l, k) => assert.equal(l, k + 1 < s.tokens!.length && !s.mask![k + 1] ? s.tokens![k + 1] : -100));
    assert.match(s.mask_way ?? '', /^(generation|turns|turn-diff)$/);
  });

  test('stats (Axolotl): findings counted per code with the first sample, the mask ways, the options', () => {
    const r = ftune(['stats', ws.axolotl, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const s = JSON.parse(r.stdout) as DatasetStats & { config: string[] };
    assert.equal(s.samples, 4);
    const byCode = new Map((s.findings ?? []).map((f) => [f.code, f]));
    const special = byCode.get('special-token-in-content');
    assert.ok(special, JSON.stringify(s.findings));
    assert.equal(special.count, 1);
    assert.equal(special.firstIndex, 1);
    assert.equal(special.firstLine, 2);
    assert.equal(special.firstFile, ws.sharegpt);
    const none = byCode.get('nothing-trained');
    assert.ok(none);
    assert.equal(none.count, 1);
    assert.equal(none.firstLine, 4);
    assert.equal(s.nothingTrained, 1);
    assert.equal(s.maskWays?.reduce((n, w) => n + w.count, 0), 4);
    assert.match(s.config[0], /axolotl\.yml \(Axolotl\)/);

    const text = ftune(['stats', ws.axolotl]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^config in force: .*axolotl\.yml \(Axolotl\), model .*qwen3\noptions: .*sequence_len 64/);
    assert.match(text.stdout, /\ndataset: .*slimorca\.jsonl \(Axolotl datasets\[0\] type chat_template\)\n/);
    assert.match(text.stdout, /\nmask way: [\w-]+ 4(\n|; dropped by the framework: \d+\n)/);
    assert.match(text.stdout, /\n {2}1 of 4 samples have special-token text typed in content \[special-token-in-content\] — first at .*slimorca\.jsonl:2 \(sample 2\): /);
    assert.match(text.stdout, /\n {2}1 of 4 samples train nothing \[nothing-trained\] — first at .*slimorca\.jsonl:4 \(sample 4\): /);
  });

  test('validate (TRL): the dataset comes along, with its findings at their lines and the counts as notes', () => {
    const r = ftune(['validate', ws.trl]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /chat\.jsonl:1:1: warning: Nothing is trained in this sample \(assistant_only_loss, template has no \{% generation %\} block\) \[nothing-trained\]/);
    assert.match(r.stdout, /chat\.jsonl: note: 4 of 4 samples train nothing \[nothing-trained\] — first at line 1 \(sample 1\)/);
    assert.match(r.stdout, /chat\.jsonl: note: config: assistant_only_loss is on .*\[no-generation-block\]/);
    assert.match(r.stdout, /OK: 0 errors, \d+ warnings in 2 files \(TRL config \(recognized by its keys\); model .*qwen3\)/);
  });

  test('validate (LLaMA-Factory example, Hub id): read from the Hugging Face cache, or named with the command that downloads it', () => {
    const hit = ftune(['validate', ws.llamafactory], { HF_HUB_CACHE: ws.hubCache });
    assert.equal(hit.code, 0, hit.stdout + hit.stderr);
    assert.match(hit.stdout, /model .*models--Qwen--Qwen3-4B-Instruct-2507\/snapshots\/cdbee75f17c01a7cc42f958dc650907174af0554 \(Hugging Face cache\)/);
    assert.match(hit.stdout, /alpaca_en_demo\.jsonl:2:\d+: warning: .*<\|im_start\|>.*\[special-token-in-content\]/);
    assert.match(hit.stdout, /dataset identity is not a local file/);

    const miss = ftune(['validate', ws.llamafactory], { HF_HUB_CACHE: ws.emptyCache });
    assert.equal(miss.code, 0, miss.stdout + miss.stderr);
    const line = readFileSync(ws.llamafactory, 'utf8').split('\n').findIndex((l) => l.startsWith('model_name_or_path:')) + 1;
    assert.match(miss.stdout, new RegExp(`llamafactory\\.yaml:${line}:21: warning: \`model_name_or_path: Qwen/Qwen3-4B-Instruct-2507\` is a Hub id not in the Hugging Face cache .*huggingface-cli download Qwen/Qwen3-4B-Instruct-2507 .*set \`model_name_or_path\` to a local model folder .*\\[model-unavailable\\]`));

    const stats = ftune(['stats', ws.llamafactory], { HF_HUB_CACHE: ws.emptyCache });
    assert.equal(stats.code, 1);
    assert.match(stats.stderr, new RegExp(`llamafactory\\.yaml:${line}: \`model_name_or_path: Qwen/Qwen3-4B-Instruct-2507\` is a Hub id not in the Hugging Face cache`));
    assert.doesNotMatch(stats.stderr, /\n\s+at /); // a message, not a stack trace
  });

  test('a local model folder that is not there: the key, the line, and what to set', () => {
    const r = ftune(['stats', ws.axolotl, 'base_model=./no-such-model']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /axolotl\.yml(:\d+)?: `base_model: \.\/no-such-model` is not a folder \(looked at .*no-such-model\): set it to the folder that holds tokenizer\.json/);
  });
});
