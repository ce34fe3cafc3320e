/**
 * Every user string in the server's Markdown is escaped (the VS Code client renders hovers with supportHtml and
 * theme icons): hostile roles, contents, keys, file names and component names are rendered with markdown-it
 * (HTML and link detection on, as permissive as VS Code) and must come out as text, never as elements or links.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CompletionItem, Hover, MarkupContent } from 'vscode-languageserver-protocol';
import { mdCode, mdText } from '../../server/markdown';
import { sharedPath } from '../shared';
import { LspTestClient, fileUri, positionOf } from './lspClient';

interface MarkdownIt {
  render(src: string): string;
}
// markdown-it is installed with the dev tools (@vscode/vsce); CommonMark + HTML + autolinks.
const markdownIt = require('markdown-it') as (opts: Record<string, unknown>) => MarkdownIt;
const md = markdownIt({ html: true, linkify: true });

/** The tags the server itself writes: token colouring, emphasis, lists, rules. */
const OUR_TAGS = new Set(['p', 'span', 'i', 'code', 'strong', 'em', 'hr', 'ul', 'li', 'br']);

const HOSTILE = [
  '<img src=x onerror=alert(1)>',
  '[click](command:workbench.action.quit)',
  '<a href="command:evil">x</a>',
  '$(zap) **bold** _it_ `tick` ~~del~~',
  '# heading',
  '- item',
  '1. one',
  '<script>alert(1)</script>',
  '![i](https://example.com/x.png)',
  'a | b\n--- | ---',
  '&amp; &#60;',
  'see www.example.com or mail a@example.com',
];

function decode(s: string): string {
  return s
    .replace(/&#(\d+);/g, (_, n: string) => String.fromCodePoint(Number(n)))
    .replace(/&#x([0-9a-f]+);/gi, (_, n: string) => String.fromCodePoint(parseInt(n, 16)))
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** Renders like a Markdown hover and checks that only the server's own markup became elements. */
function assertInert(markdown: string, ...mustShow: string[]): void {
  const html = md.render(markdown);
  for (const m of html.matchAll(/<\/?([a-zA-Z][a-zA-Z0-9]*)\b[^>]*>/g)) {
    assert.ok(OUR_TAGS.has(m[1].toLowerCase()), `element <${m[1]}> from user text in:\n${markdown}\n→ ${html}`);
    assert.doesNotMatch(m[0], /href|src|on\w+=/i, m[0]);
  }
  assert.doesNotMatch(markdown, /\$\(zap\)/, 'a theme icon from user text');
  const text = decode(html.replace(/<[^>]*>/g, ''));
  for (const s of mustShow) assert.ok(text.includes(s), `"${s}" is shown as text in:\n${text}`);
}

function hoverText(h: Hover | null): string {
  assert.ok(h, 'expected a hover');
  return (h.contents as MarkupContent).value;
}

describe('Markdown escaping', () => {
  it('turns every hostile string into text, shown exactly as written', () => {
    for (const s of HOSTILE) {
      const one = s.replace(/\n/g, ' ');
      assertInert(mdText(s), one);
      assertInert(`Role (${mdText(s)}) · ${mdCode(s)}`, one);
      assertInert(`<span style="background-color:#2ea04366;">${mdText(s)}</span>`, one);
    }
  });

  it('keeps snake_case and ordinary punctuation readable in the Markdown itself', () => {
    assert.equal(mdText('train_on_input: false (column: messages).'), 'train_on_input: false (column: messages).');
  });
});

describe('language server: no user string renders as Markdown or HTML', () => {
  let client: LspTestClient;
  let ws: string;
  const role = '<img src=x onerror=alert(1)>';
  const column = '<b>col</b>[c](command:x)';
  const content = '[click](command:workbench.action.quit) $(zap) <script>alert(1)</script>';
  const dataName = '<i>d[n](command:f).jsonl';
  const configName = 'cfg<b>[k](command:c).yaml';

  before(async () => {
    ws = mkdtempSync(join(tmpdir(), 'ftune-lsp-md-'));
    const sample = { [column]: [{ role: 'user', content }, { role: 'assistant', content: 'ok' }, { role, content: 'reply' }] };
    writeFileSync(join(ws, dataName), `${JSON.stringify(sample)}\n`);
    writeFileSync(
      join(ws, configName),
      `tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
  path: ${sharedPath('assets', 'llama3', 'tokenizer.model')}
  max_seq_len: 512
dataset:
  _component_: torchtune.datasets.chat_dataset
  source: json
  data_files: ${JSON.stringify(dataName)}
  conversation_column: ${JSON.stringify(column)}
  conversation_style: openai
  "<img src=k>[key](command:k)": 1
model:
  _component_: "<img src=q>[z](command:w)"
`,
    );
    ({ client } = await LspTestClient.start({ rootPath: ws }));
  });
  after(async () => {
    await client?.stop();
    rmSync(ws, { recursive: true, force: true });
  });

  it('escapes roles, contents, column names and file names in the dataset hover', async () => {
    const uri = fileUri(join(ws, dataName));
    const text = `${JSON.stringify({ [column]: [{ role: 'user', content }, { role: 'assistant', content: 'ok' }, { role, content: 'reply' }] })}\n`;
    await client.open(uri, text, 'jsonl');
    const onRole = hoverText(await client.hover(uri, positionOf(text, '"reply"', 2)));
    assert.match(onRole, /Message 3/);
    assertInert(onRole, role, column, configName);
    const onContent = hoverText(await client.hover(uri, positionOf(text, 'click', 1)));
    assert.match(onContent, /tokens/);
    assertInert(onContent, 'command:workbench');
    await client.close(uri);
  });

  it('escapes keys and component names in config hovers and completion documentation', async () => {
    const uri = fileUri(join(ws, configName));
    const text = `tokenizer:
  _component_: torchtune.models.llama3.llama3_tokenizer
dataset:
  _component_: torchtune.datasets.chat_dataset
  "<img src=k>[key](command:k)": 1
model:
  _component_: "<img src=q>[z](command:w)"
`;
    await client.open(uri, text);
    const key = hoverText(await client.hover(uri, positionOf(text, 'src=k', 1)));
    assertInert(key, '<img src=k>[key](command:k)');
    const comp = hoverText(await client.hover(uri, positionOf(text, 'src=q', 1)));
    assertInert(comp, '<img src=q>[z](command:w)');
    const items = await client.completion(uri, positionOf(text, 'torchtune.datasets.chat_dataset', 5));
    for (const i of items as CompletionItem[]) {
      const doc = i.documentation;
      if (doc && typeof doc !== 'string') assertInert(doc.value);
    }
    await client.close(uri);
  });
});
