/**
 * core/frameworks/trl gives exactly the input_ids and labels TRL 1.13's SFTTrainer gives (its __init__,
 * _prepare_dataset and DataCollatorForLanguageModeling, recorded by scripts/reference/trl_sft_ref.py into
 * test/fixtures/trl/expected.json), and reports what TRL refuses, raises and warns about as findings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadHfModelFolder, type HfModelFolder } from '../../../core/hf/folder';
import { FrameworkOptionsError, type FrameworkSample, type PreparedMasker } from '../../../core/frameworks/trained';
import { createTrlMasker, trlMasker } from '../../../core/frameworks/trl';
import { NO_ASSISTANT_TOKENS, NOT_TRAINING_COMPATIBLE, STOP_TOKEN_WARNING } from '../../../core/frameworks/trl/templates';

const ROOT = resolve(__dirname, '..', '..', '..');
const FIX = join(ROOT, 'test', 'fixtures', 'trl');

interface Corpus {
  folders: Record<string, string>;
  templates: Record<string, { folder: string; chat_template_path?: string }>;
  rows: Record<string, Record<string, Record<string, unknown>>>;
}
interface Sample {
  input_ids?: number[];
  labels?: number[];
  dropped?: boolean;
  error?: { type: string; message: string };
  warnings: string[];
}
interface Group {
  kind: string;
  template: string;
  folder: string;
  options: string;
  config: Record<string, unknown>;
  initError?: { type: string; message: string };
  initWarnings: string[];
  trainingTemplate?: boolean;
  samples?: Record<string, Sample>;
}

const corpus = JSON.parse(readFileSync(join(FIX, 'corpus.json'), 'utf8')) as Corpus;
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8')) as { now: string; versions: Record<string, string>; groups: Group[] };
const folders = new Map<string, HfModelFolder>();
const folderOf = (name: string): HfModelFolder => {
  let f = folders.get(name);
  if (!f) folders.set(name, (f = loadHfModelFolder(join(ROOT, corpus.folders[name]))));
  return f;
};
const masker = createTrlMasker({ baseDir: FIX, now: new Date(expected.now) });

function configOf(g: Group): Record<string, unknown> {
  const t = corpus.templates[g.template];
  const config: Record<string, unknown> = { ...g.config };
  if (t.chat_template_path) config.chat_template_path = t.chat_template_path.replace(/^trl\//, '');
  return config;
}

const totals = { samples: 0, matched: 0, dropped: 0, raised: 0, refusedGroups: 0 };

test('the fixtures come from TRL 1.13 and transformers 5.17', () => {
  assert.equal(expected.versions.trl, '1.13.0');
  assert.match(expected.versions.transformers, /^5\.17\./);
  assert.ok(expected.groups.length >= 50);
});

for (const g of expected.groups) {
  test(`${g.kind} · ${g.template} · ${g.options}`, () => {
    const rows = corpus.rows[g.kind];
    const folder = folderOf(g.folder);
    const config = configOf(g);
    if (g.initError) {
      totals.refusedGroups++;
      if (g.initError.message === NOT_TRAINING_COMPATIBLE) {
        // TRL refuses to start; the preview still shows the tokens, none trained, and says why once.
        const prepared = masker.prepare(folder, config);
        const f = prepared.findings.find((x) => x.code === 'no-generation-block');
        assert.ok(f, JSON.stringify(prepared.findings));
        assert.ok(f.message.includes(NOT_TRAINING_COMPATIBLE));
        for (const row of Object.values(rows)) {
          const s = prepared.sampleFromRow(row);
          assert.ok(!('error' in s));
          const t = prepared.tokenize(s as FrameworkSample);
          assert.ok(t.trained.every((x) => !x));
        }
      } else if (/is not conversational/.test(g.initError.message)) {
        const prepared = masker.prepare(folder, config);
        for (const row of Object.values(rows)) assert.deepEqual(prepared.sampleFromRow(row), { error: g.initError.message });
      } else {
        assert.throws(() => masker.prepare(folder, config), (e: unknown) => e instanceof FrameworkOptionsError && e.message.startsWith(g.initError!.message.slice(0, 40)));
      }
      return;
    }
    const prepared: PreparedMasker = masker.prepare(folder, config);
    const warned = g.initWarnings.some((w) => w.replace(/^\[RANK \d+\] /, "") === STOP_TOKEN_WARNING);
    assert.equal(prepared.findings.some((f) => f.code === 'eos-not-trained'), warned, `stop-token warning ${warned}: ${JSON.stringify(prepared.findings)}`);
    assert.ok(!prepared.findings.some((f) => f.code === 'no-generation-block'));
    for (const [name, expect] of Object.entries(g.samples!)) {
      totals.samples++;
      const s = prepared.sampleFromRow(rows[name]);
      if (expect.error?.type === 'KeyError') {
        // tokenize_fn reads example[dataset_text_field]: a row without that column stops the preparation.
        totals.raised++;
        assert.ok('error' in s && s.error.includes(`"${g.config.dataset_text_field ?? 'text'}"`), `${name}: ${JSON.stringify(s)}`);
        continue;
      }
      assert.ok(!('error' in s), `${name}: ${JSON.stringify(s)}`);
      const t = prepared.tokenize(s as FrameworkSample);
      assert.equal(t.ids.length, t.trained.length);
      assert.equal(t.starts.length, t.ids.length);
      if (expect.error) {
        totals.raised++;
        if (expect.error.type === 'RuntimeError') {
          assert.equal(expect.error.message, NO_ASSISTANT_TOKENS);
          assert.ok(t.findings.some((f) => f.code === 'nothing-trained' && f.message.includes(NO_ASSISTANT_TOKENS)), `${name}: ${JSON.stringify(t.findings)}`);
        } else {
          assert.ok(t.findings.some((f) => f.code === 'template-error'), `${name} (${expect.error.type}: ${expect.error.message}): ${JSON.stringify(t.findings)}`);
        }
        continue;
      }
      if (expect.dropped) {
        totals.dropped++;
        assert.equal(t.dropped, true, name);
        assert.ok(t.findings.some((f) => f.code === 'nothing-trained'));
        continue;
      }
      assert.deepEqual(t.ids, expect.input_ids, `${name}: input_ids`);
      assert.deepEqual(t.trained, expect.labels!.map((l) => l !== -100), `${name}: trained`);
      assert.ok(!t.dropped);
      assert.equal(t.findings.some((f) => f.code === 'assistant-truncated'), (t.lost?.trained ?? 0) > 0);
      totals.matched++;
    }
  });
}

test('every recorded sample was compared', () => {
  const recorded = expected.groups.reduce((n, g) => n + Object.keys(g.samples ?? {}).length, 0);
  assert.equal(totals.samples, recorded);
  assert.equal(totals.matched + totals.dropped + totals.raised, recorded);
  assert.ok(totals.matched > 100 && totals.dropped > 0 && totals.raised > 0 && totals.refusedGroups > 0, JSON.stringify(totals));
  console.log(`TRL fixtures: ${JSON.stringify(totals)}`);
});

test('trlMasker is the framework entry point for "trl"', () => {
  assert.equal(trlMasker.framework, 'trl');
});

test('TRL passes the whole message dict to the template (tool_call_id, name), every key on every message as Arrow unifies them', () => {
  // sft_trainer.py (v1.13.0) _tokenize(processing_class, example["messages"], ...): the messages as the dataset has them.
  const dir = mkdtempSync(join(tmpdir(), 'ftune-trl-fields-'));
  writeFileSync(join(dir, 'named.jinja'), "{% for m in messages %}{{ m.role }}{% if m.name is not none %}({{ m.name }}){% endif %}:{{ m.content }}\n{% endfor %}");
  const folder = folderOf(Object.keys(corpus.folders)[0]);
  const m = createTrlMasker({ baseDir: dir }).prepare(folder, { chat_template_path: 'named.jinja' });
  const s = m.sampleFromRow({ messages: [{ role: 'user', content: 'Weather?' }, { role: 'tool', content: '22C', name: 'get_weather' }] });
  assert.ok(!('error' in s));
  assert.match(m.tokenize(s).text, /^user:Weather\?\ntool\(get_weather\):22C\n/);
  rmSync(dir, { recursive: true, force: true });
});

test('a JSON-string tools column is read as Python json.loads reads it: 0.0 stays a float in the render', () => {
  // sft_trainer.py (v1.13.0) json.loads a string "tools"; the template's tojson then prints Python's 0.0.
  const dir = mkdtempSync(join(tmpdir(), 'ftune-trl-tools-'));
  writeFileSync(join(dir, 'tools.jinja'), '{% for t in tools %}{{ t | tojson }}\n{% endfor %}{% for m in messages %}{{ m.content }}{% endfor %}');
  const m = createTrlMasker({ baseDir: dir }).prepare(folderOf(Object.keys(corpus.folders)[0]), { chat_template_path: 'tools.jinja' });
  const s = m.sampleFromRow({ tools: '[{"type": "function", "function": {"name": "f", "parameters": {"minimum": 0.0}}}]', messages: [{ role: 'user', content: 'hi' }] });
  assert.ok(!('error' in s), 'error' in s ? s.error : '');
  assert.match(m.tokenize(s).text, /"minimum": 0\.0/);
  rmSync(dir, { recursive: true, force: true });
});
