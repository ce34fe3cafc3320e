/**
 * The positioned parser against what torchtune's loader (PyYAML's SafeLoader as OmegaConf configures it) really
 * makes of merges, tags, anchors, odd characters and line endings: the same value, or an error diagnostic where
 * PyYAML raises. Expected values are recorded by scripts/reference/pyyaml_loader_cases.py.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseConfig, toPlain } from '../../../core/config';

interface LoaderCase {
  name: string;
  text: string;
  value?: unknown;
  error?: string;
}

const fixture = JSON.parse(readFileSync(join(__dirname, '..', '..', 'fixtures', 'pyyaml-loader', 'cases.json'), 'utf8')) as { pyyaml: string; cases: LoaderCase[] };

for (const c of fixture.cases) {
  test(`PyYAML ${fixture.pyyaml}: ${c.name}`, () => {
    const doc = parseConfig(c.text);
    const errors = doc.diagnostics.filter((d) => d.severity === 'error');
    if (c.error !== undefined) {
      assert.ok(errors.length > 0, `PyYAML raises ${c.error}; we gave ${JSON.stringify(doc.diagnostics)}`);
      for (const d of errors) assert.ok(d.range.start >= 0 && d.range.end <= c.text.length && d.message.length > 20, JSON.stringify(d));
      return;
    }
    assert.deepEqual(errors, []);
    // Key order too: it is the order torchtune iterates the config in.
    assert.equal(JSON.stringify(toPlain(doc.root)), JSON.stringify(c.value));
  });
}
