/**
 * Token preview front end (bundled to dist/media/tokenPreview.js). Renders what the language server computed; never
 * builds HTML from strings (all text goes through textContent), and sends back only three message shapes, which the
 * host validates: ready, options, reveal.
 */
import { showWhitespace } from '../../core/text';
import type { TokenPreviewResult } from '../../server/protocol';

declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}


function controls(r: TokenPreviewResult): HTMLElement {
  const bar = el('div', 'controls');
  const tpl = el('select');
  tpl.id = 'template';
  for (const t of r.templates) {
    const o = el('option', undefined, t);
    o.value = t;
    if (t === r.template) o.selected = true;
    tpl.appendChild(o);
  }
  const toi = el('input');
  toi.type = 'checkbox';
  toi.id = 'trainOnInput';
  toi.checked = r.trainOnInput;
  const msl = el('input');
  msl.type = 'number';
  msl.min = '1';
  msl.id = 'maxSeqLen';
  msl.placeholder = 'none';
  msl.value = r.maxSeqLen === null ? '' : String(r.maxSeqLen);
  const send = (): void => {
    const v = msl.value.trim();
    vscode.postMessage({ type: 'options', options: { template: tpl.value, trainOnInput: toi.checked, maxSeqLen: v === '' ? null : Number(v) } });
  };
  tpl.addEventListener('change', send);
  toi.addEventListener('change', send);
  msl.addEventListener('change', send);
  const l1 = el('label', undefined, 'template ');
  l1.appendChild(tpl);
  const l2 = el('label');
  l2.append(toi, document.createTextNode(' train_on_input'));
  const l3 = el('label', undefined, 'max_seq_len ');
  l3.appendChild(msl);
  bar.append(l1, l2, l3);
  return bar;
}

function render(r: TokenPreviewResult | null): void {
  app.textContent = '';
  if (!r) {
    app.appendChild(el('p', 'hint', 'No sample under the cursor. Place the cursor in a sample of a chat dataset.'));
    return;
  }
  app.append(el('h2', undefined, r.title), el('p', 'source', r.source), controls(r));
  if (r.error) app.appendChild(el('p', 'error', r.error));
  const cut = r.truncatedAt !== null ? ` · truncated at token ${r.truncatedAt}` : '';
  app.appendChild(el('p', 'stats', `${r.total} tokens · ${r.trained} trained · ${r.total - r.trained} masked${cut}`));
  const legend = el('p', 'legend');
  legend.append(el('span', 'tok trained', 'trained'), document.createTextNode(' '), el('span', 'tok masked', 'masked'), document.createTextNode(' '), el('span', 'tok special', 'special'));
  app.appendChild(legend);
  const box = el('div', 'tokens');
  r.tokens.forEach((t, i) => {
    if (i === r.truncatedAt) box.appendChild(el('span', 'cut', '\u2702 truncated'));
    const s = el('span', `tok ${t.masked ? 'masked' : 'trained'}${t.range ? '' : ' special'}`, showWhitespace(t.text));
    s.title = `#${i} id ${t.id}${t.masked ? ' (masked)' : ' (trained)'}`;
    s.dataset.index = String(i);
    const range = t.range;
    if (range) {
      s.classList.add('link');
      s.addEventListener('click', () => vscode.postMessage({ type: 'reveal', range }));
    }
    box.appendChild(s);
  });
  app.appendChild(box);
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  const m = ev.data as { type?: unknown; result?: TokenPreviewResult | null; message?: unknown } | null;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'preview') render(m.result ?? null);
  else if (m.type === 'error' && typeof m.message === 'string') {
    app.textContent = '';
    app.appendChild(el('p', 'error', m.message));
  }
});
vscode.postMessage({ type: 'ready' });
