/**
 * `ftune lsp --stdio` through the real bin/ftune.js (what the README and `npm link` run): a whole LSP session over
 * its stdin/stdout — initialize, a diagnostic for a misspelled config key, shutdown and exit with status 0.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { sharedPath } from '../shared';
import { LspTestClient, fileUri } from '../server/lspClient';

const dir = mkdtempSync(join(tmpdir(), 'ftune-lsp-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('ftune lsp --stdio: initialize, a "did you mean" diagnostic on a config typo, shutdown, exit 0', async () => {
  const good = readFileSync(sharedPath('corpus', 'torchtune-configs', 'llama3_2', '1B_lora_single_device.yaml'), 'utf8');
  const text = good.replace('lora_rank: 64', 'lora_rnak: 64');
  assert.notEqual(text, good, 'the corpus config has lora_rank: 64');
  const path = join(dir, '1B_lora_single_device.yaml');
  writeFileSync(path, text);

  const { client, init } = await LspTestClient.start({ via: 'cli', rootPath: dir });
  try {
    assert.equal(init.serverInfo?.name, 'fine-tune-studio');
    assert.ok(init.capabilities.hoverProvider, 'the server announces hover');
    const uri = fileUri(path);
    await client.open(uri, text);
    const ds = await client.waitDiagnostics(uri, (d) => d.some((x) => x.severity === 1));
    const typo = ds.find((d) => /lora_rnak/.test(d.message));
    assert.ok(typo, JSON.stringify(ds));
    assert.match(typo.message, /lora_rank/, 'suggests the right key');
    const line = text.split('\n').findIndex((l) => l.includes('lora_rnak'));
    assert.equal(typo.range.start.line, line);
    assert.equal(text.split('\n')[line]!.slice(typo.range.start.character, typo.range.end.character), 'lora_rnak');

    assert.equal(await client.request('shutdown', null), null);
    const exited = once(client.proc, 'exit');
    await client.conn.sendNotification('exit');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, `exit status; stderr: ${client.stderr}`);
  } finally {
    await client.stop();
  }
});
