import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { parseTree } from 'jsonc-parser';
import { SampleIndexer, formatOfPath, sampleAtOffset } from '../../../core/data/sampleIndex';
import { DatasetFile, DatasetText } from '../../../core/data/source';
import { LineIndex } from '../../../core/text';
import { sharedPath } from '../../shared';

const dir = mkdtempSync(join(tmpdir(), 'ftune-index-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, content: string | Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

/** The naive reference: UTF-16 [start, end) and 0-based line of every sample, from a whole-file parse. */
function naive(text: string, format: 'json' | 'jsonl'): { start: number; end: number; line: number }[] {
  const lines = new LineIndex(text);
  if (format === 'json') {
    const root = parseTree(text)!;
    return root.children!.map((c) => ({ start: c.offset, end: c.offset + c.length, line: lines.position(c.offset).line }));
  }
  const out: { start: number; end: number; line: number }[] = [];
  let at = 0;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    const lead = line.length - line.trimStart().length;
    if (line.trim() !== '') out.push({ start: at + lead, end: at + line.trimEnd().length, line: lines.position(at).line });
    at += raw.length + 1;
  }
  return out;
}

const byteOffset = (text: string, utf16: number): number => Buffer.byteLength(text.slice(0, utf16), 'utf8');

function corpusFiles(): string[] {
  return ['chat', 'llamafactory'].flatMap((d) => readdirSync(sharedPath('corpus', d)).map((f) => sharedPath('corpus', d, f)));
}

describe('sample index equals a naive parse', () => {
  for (const path of corpusFiles()) {
    test(path.split('/').slice(-2).join('/'), () => {
      const text = readFileSync(path, 'utf8');
      const expected = naive(text, formatOfPath(path));
      const file = DatasetFile.open(path);
      try {
        assert.equal(file.index.count, expected.length);
        assert.deepEqual(file.index.problems, []);
        for (let i = 0; i < expected.length; i++) {
          assert.equal(file.index.starts[i], byteOffset(text, expected[i].start), `start of sample ${i}`);
          assert.equal(file.index.ends[i], byteOffset(text, expected[i].end), `end of sample ${i}`);
          assert.equal(file.index.lines[i], expected[i].line, `line of sample ${i}`);
        }
        // The sample text read back is exactly the sample, and parses alone.
        const last = expected.length - 1;
        assert.equal((file.sampleText(last) as { text: string }).text, text.slice(expected[last].start, expected[last].end));
      } finally {
        file.close();
      }
      const mem = new DatasetText(path, text);
      assert.deepEqual(
        Array.from(mem.index.starts, (s, i) => ({ start: s, end: mem.index.ends[i], line: mem.index.lines[i] })),
        expected,
      );
    });
  }
});

describe('structure, line endings, BOM and unicode', () => {
  test('CRLF JSONL: lines and positions count CRLF as one break; blank lines are skipped', () => {
    const text = '{"a": 1}\r\n\r\n   \r\n{"b": "x"}\r\n';
    const f = DatasetFile.open(write('crlf.jsonl', text));
    assert.equal(f.index.count, 2);
    assert.deepEqual(Array.from(f.index.lines), [0, 3]);
    assert.equal((f.sampleText(1) as { text: string }).text, '{"b": "x"}');
    assert.deepEqual(f.position(1, 6), { line: 3, character: 6 });
    f.close();
  });

  test('CRLF pretty JSON array', () => {
    const text = '[\r\n  {"a": 1},\r\n  {\r\n    "b": 2\r\n  }\r\n]\r\n';
    const f = DatasetFile.open(write('crlf.json', text));
    assert.deepEqual(Array.from(f.index.lines), [1, 2]);
    assert.deepEqual(f.position(1, (f.sampleText(1) as { text: string }).text.indexOf('"b"')), { line: 3, character: 4 });
    f.close();
  });

  test('a BOM is a warning at 1:1 and is not part of the first sample', () => {
    for (const [name, text] of [
      ['bom.jsonl', '\uFEFF{"a": 1}\n{"a": 2}\n'],
      ['bom.json', '\uFEFF[{"a": 1}, {"a": 2}]'],
    ]) {
      const f = DatasetFile.open(write(name, text));
      assert.equal(f.index.bom, true);
      assert.equal(f.index.count, 2);
      assert.equal(f.index.problems[0].code, 'bom');
      const first = (f.sampleText(0) as { text: string }).text;
      assert.equal(first, '{"a": 1}');
      // Columns count from after the BOM, as the editor shows the line.
      assert.deepEqual(f.position(0, 0), { line: 0, character: name.endsWith('.json') ? 1 : 0 });
      f.close();
      const mem = new DatasetText(name, text);
      assert.equal(mem.index.bom, true);
      assert.equal(mem.index.count, 2);
    }
  });

  test('UTF-16 columns after astral and CJK characters on the same line', () => {
    const text = '[{"q": "😀 日本"}, {"q": "x"}]';
    const f = DatasetFile.open(write('uni.json', text));
    const t1 = (f.sampleText(1) as { text: string }).text;
    assert.equal(t1, '{"q": "x"}');
    // Sample 1 starts at UTF-16 column 18 (the emoji counts 2), whatever its byte offset.
    assert.deepEqual(f.position(1, 0), { line: 0, character: text.indexOf('{"q": "x"}') });
    assert.equal(f.index.starts[1], Buffer.byteLength(text.slice(0, text.indexOf('{"q": "x"}'))));
    f.close();
  });

  test('strings with brackets, escaped quotes and backslashes do not confuse the scanner', () => {
    const text = '[{"a": "]\\"[{,"}, {"b": "\\\\"}, {"c": "}"}]';
    const f = DatasetFile.open(write('esc.json', text));
    assert.equal(f.index.count, 3);
    assert.deepEqual(f.index.problems, []);
    assert.deepEqual(JSON.parse((f.sampleText(1) as { text: string }).text), { b: '\\' });
    f.close();
  });

  test('byte-at-a-time feeding gives the same index as one chunk', () => {
    const text = '\uFEFF[\r\n {"a": "é\\"}"},\r{"b": [1, 2]}, 3, "s"\n]';
    const bytes = new TextEncoder().encode(text);
    const whole = new SampleIndexer('json', 'utf8');
    whole.feed(bytes);
    const one = new SampleIndexer('json', 'utf8');
    one.feed(bytes.subarray(0, 3));
    for (let i = 3; i < bytes.length; i++) one.feed(bytes.subarray(i, i + 1));
    const a = whole.finish();
    const b = one.finish();
    assert.deepEqual(Array.from(b.starts), Array.from(a.starts));
    assert.deepEqual(Array.from(b.ends), Array.from(a.ends));
    assert.deepEqual(Array.from(b.lines), Array.from(a.lines));
    assert.equal(a.count, 4);
    assert.deepEqual(Array.from(a.lines), [1, 2, 2, 2]);
  });

  test('trailing comma, missing comma, trailing content: positioned problems, samples still indexed', () => {
    const f = DatasetFile.open(write('commas.json', '[\n {"a": 1},\n {"a": 2} {"a": 3},\n]\nx'));
    assert.equal(f.index.count, 3);
    const got = f.index.problems.map((p) => ({ code: p.code, ...f.problemRange(p).start }));
    assert.deepEqual(got, [
      { code: 'json-syntax', line: 2, character: 10 },
      { code: 'trailing-comma', line: 2, character: 18 },
      { code: 'trailing-content', line: 4, character: 0 },
    ]);
    f.close();
  });

  test('a .json file that is not an array, an empty file, a truncated array', () => {
    const obj = DatasetFile.open(write('obj.json', '{\n  "conversations": []\n}\n'));
    assert.equal(obj.index.problems[0].code, 'not-array');
    assert.match(obj.index.problems[0].message, /top-level array/);
    obj.close();
    const empty = DatasetFile.open(write('empty.json', ''));
    assert.equal(empty.index.problems[0].code, 'empty-file');
    empty.close();
    const cut = DatasetFile.open(write('cut.json', '[{"a": 1},\n {"a": [2, '));
    assert.equal(cut.index.count, 2);
    assert.equal(cut.index.problems[0].code, 'truncated');
    assert.deepEqual(cut.problemRange(cut.index.problems[0]).start, { line: 1, character: 11 });
    assert.equal((cut.sampleText(1) as { text: string }).text, '{"a": [2, ');
    cut.close();
  });

  test('non-UTF-8 bytes: the sample reports the exact byte position instead of throwing', () => {
    const bytes = Buffer.concat([Buffer.from('{"a": "ok"}\n{"a": "caf'), Buffer.from([0xe9]), Buffer.from('"}\n')]);
    const f = DatasetFile.open(write('latin1.jsonl', bytes));
    assert.equal(f.index.count, 2);
    const st = f.sampleText(1);
    assert.equal(st.ok, false);
    if (!st.ok) {
      assert.equal(st.problem.code, 'not-utf8');
      assert.match(st.problem.message, /0xe9 is not valid UTF-8/);
      assert.deepEqual(f.problemRange(st.problem).start, { line: 1, character: 10 });
    }
    f.close();
  });

  test('JSONL samples keep going after a broken line; the last line without newline is indexed', () => {
    const f = DatasetFile.open(write('broken.jsonl', '{"a": 1}\n{"a": \n{"a": 3}\n{"a": [4'));
    assert.equal(f.index.count, 4);
    assert.deepEqual(Array.from(f.index.lines), [0, 1, 2, 3]);
    f.close();
  });
});

test('sample texts are exact in any read order: random reads (hovers) interleaved with a sequential pass', () => {
  // 6 MB: more than one 4 MiB read-ahead window and many of the small windows random reads use.
  const lines: string[] = [];
  for (let i = 0; i < 60000; i++) lines.push(JSON.stringify({ messages: [{ role: 'user', content: `sample ${i} ${'é'.repeat(i % 40)} ${'x'.repeat(i % 97)}` }] }));
  const f = DatasetFile.open(write('order.jsonl', lines.join('\n') + '\n'));
  try {
    assert.equal(f.index.count, lines.length);
    const text = (i: number): string | undefined => {
      const t = f.sampleText(i);
      return t.ok ? t.text : undefined;
    };
    let r = 7;
    const random = (): number => (r = (Math.imul(r, 1103515245) + 12345) >>> 0) % lines.length;
    for (let i = 0; i < lines.length; i++) {
      assert.equal(text(i), lines[i], `sample ${i} in the sequential pass`);
      if (i % 500 === 0) for (let k = 0; k < 3; k++) {
        const j = random();
        assert.equal(text(j), lines[j], `sample ${j} read at random`);
      }
    }
    // A second pass from the start, and backwards.
    for (let i = 0; i < lines.length; i += 7) assert.equal(text(i), lines[i], `sample ${i} in the second pass`);
    for (let i = lines.length - 1; i >= 0; i -= 13) assert.equal(text(i), lines[i], `sample ${i} read backwards`);
  } finally {
    f.close();
  }
});

test('sampleAtOffset finds the sample under a cursor', () => {
  const text = '[\n {"a": 1},\n {"b": 2}\n]';
  const idx = new DatasetText('x.json', text).index;
  assert.equal(sampleAtOffset(idx, text.indexOf('"a"')), 0);
  assert.equal(sampleAtOffset(idx, text.indexOf('"b"')), 1);
  assert.equal(sampleAtOffset(idx, 0), -1);
});
