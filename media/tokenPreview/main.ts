/**
 * Token preview front end (bundled to dist/media/tokenPreview.js). Renders what the language server computed; never
 * builds HTML from strings (all text goes through textContent), and sends back only the message shapes the host
 * validates: ready, options, reveal, step.
 *
 * Each token is an atomic box (tokenText.ts): lines wrap between tokens only, whitespace is visible, and a token
 * holding newlines is followed by one line break. Colours cycle per token as in tiktokenizer; masked tokens are
 * the same hue faded, trained ones underlined. Ids are shown on demand.
 */
import type { TokenPreviewResult } from '../../server/protocol';
import { PALETTE_SIZE, drawToken } from './tokenText';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const app = document.getElementById('app') as HTMLElement;
let showIds = (vscode.getState() as { showIds?: boolean } | undefined)?.showIds === true;
let last: TokenPreviewResult | null = null;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function checkbox(id: string, label: string, checked: boolean, onChange: (v: boolean) => void): HTMLLabelElement {
  const box = el('input');
  box.type = 'checkbox';
  box.id = id;
  box.checked = checked;
  box.addEventListener('change', () => onChange(box.checked));
  const l = el('label');
  l.append(box, document.createTextNode(` ${label}`));
  return l;
}

function controls(r: TokenPreviewResult): HTMLElement {
  const bar = el('div', 'controls');
  // A framework config decides its own template, masking and length (its options are shown above instead).
  if (r.framework) {
    bar.append(checkbox('showIds', 'token ids', showIds, (v) => {
      showIds = v;
      vscode.setState({ showIds });
      render(last);
    }));
    return bar;
  }
  const tpl = el('select');
  tpl.id = 'template';
  for (const t of r.templates) {
    const o = el('option', undefined, t);
    o.value = t;
    if (t === r.template) o.selected = true;
    tpl.appendChild(o);
  }
  const msl = el('input');
  msl.type = 'number';
  msl.min = '1';
  msl.id = 'maxSeqLen';
  msl.placeholder = 'none';
  msl.value = r.maxSeqLen === null ? '' : String(r.maxSeqLen);
  let trainOnInput = r.trainOnInput;
  const send = (): void => {
    const v = msl.value.trim();
    vscode.postMessage({ type: 'options', options: { template: tpl.value, trainOnInput, maxSeqLen: v === '' ? null : Number(v) } });
  };
  tpl.addEventListener('change', send);
  msl.addEventListener('change', send);
  const l1 = el('label', undefined, 'template ');
  l1.appendChild(tpl);
  const l3 = el('label', undefined, 'max_seq_len ');
  l3.appendChild(msl);
  const toi = checkbox('trainOnInput', 'train_on_input', r.trainOnInput, (v) => {
    trainOnInput = v;
    send();
  });
  const ids = checkbox('showIds', 'token ids', showIds, (v) => {
    showIds = v;
    vscode.setState({ showIds });
    render(last);
  });
  bar.append(l1, toi, l3, ids);
  return bar;
}

function nav(r: TokenPreviewResult): HTMLElement {
  const box = el('div', 'nav');
  const prev = el('button', undefined, '\u2039 Previous');
  prev.id = 'previous';
  prev.title = 'Previous sample ([)';
  prev.addEventListener('click', () => vscode.postMessage({ type: 'step', delta: -1 }));
  const next = el('button', undefined, 'Next \u203a');
  next.id = 'next';
  next.title = 'Next sample (])';
  next.addEventListener('click', () => vscode.postMessage({ type: 'step', delta: 1 }));
  box.append(prev, el('h2', undefined, r.title), next);
  return box;
}

function legend(): HTMLElement {
  const p = el('p', 'legend');
  p.append(el('span', 'tok c0 trained', 'trained'), el('span', 'tok c0 masked', 'masked'), el('span', 'tok c0 masked special', 'template / special'));
  return p;
}

/** Hovering a token or its id lights up both. */
function pair(a: HTMLElement, b: HTMLElement): void {
  const on = (): void => (a.classList.add('hot'), b.classList.add('hot'), undefined);
  const off = (): void => (a.classList.remove('hot'), b.classList.remove('hot'), undefined);
  for (const e of [a, b]) {
    e.addEventListener('mouseenter', on);
    e.addEventListener('mouseleave', off);
  }
}

function tokensView(r: TokenPreviewResult): HTMLElement[] {
  const box = el('div', 'tokens');
  const ids = el('div', 'ids');
  r.tokens.forEach((t, i) => {
    if (i === r.truncatedAt) box.appendChild(el('span', 'cut', '\u2702 truncated'));
    const drawn = drawToken(t.text);
    const colour = `c${i % PALETTE_SIZE}`;
    const mask = t.masked ? 'masked' : 'trained';
    const s = el('span', `tok ${colour} ${mask}${t.range ? '' : ' special'}`, drawn.label);
    s.title = `token ${i + 1} · id ${t.id} · ${t.masked ? 'masked (not trained)' : 'trained'}${t.label ? ` · its label is ${t.label.text} (id ${t.label.id}), not this token` : ''}`;
    s.dataset.index = String(i);
    const range = t.range;
    if (range) {
      s.classList.add('link');
      s.addEventListener('click', () => vscode.postMessage({ type: 'reveal', range }));
    }
    box.appendChild(s);
    if (drawn.breakAfter) box.appendChild(el('br'));
    if (showIds) {
      const id = el('span', `id ${colour} ${mask}`, String(t.id));
      id.dataset.index = String(i);
      ids.appendChild(id);
      pair(s, id);
    }
  });
  return showIds ? [box, ids] : [box];
}

function render(r: TokenPreviewResult | null): void {
  last = r;
  app.textContent = '';
  if (!r) {
    app.appendChild(el('p', 'hint', 'No sample under the cursor. Place the cursor in a sample of a chat dataset.'));
    return;
  }
  app.append(nav(r), el('p', 'source', r.source));
  if (r.framework) app.appendChild(el('p', 'framework', `${r.framework}${r.options ? ` · ${r.options}` : ''}`));
  app.appendChild(controls(r));
  if (r.error) app.appendChild(el('p', 'error', r.error));
  const cut = r.truncatedAt !== null ? ` · truncated at token ${r.truncatedAt + 1}` : '';
  const way = r.maskWay ? ` · mask: ${r.maskWay}` : '';
  app.appendChild(el('p', 'stats', `${r.total} tokens · ${r.trained} trained · ${r.total - r.trained} masked${cut}${way}`));
  if (r.findings?.length) {
    const list = el('ul', 'findings');
    for (const f of r.findings) list.appendChild(el('li', undefined, f));
    app.appendChild(list);
  }
  app.append(legend(), ...tokensView(r));
}

/** No preview, with the reason the host found (a JSON error and its line, no dataset open). */
function notice(text: string, isError: boolean): void {
  last = null;
  app.textContent = '';
  app.appendChild(el('p', isError ? 'error' : 'hint', text));
}

window.addEventListener('message', (ev: MessageEvent<unknown>) => {
  const m = ev.data as { type?: unknown; result?: TokenPreviewResult | null; message?: unknown } | null;
  if (!m || typeof m !== 'object') return;
  if (m.type === 'preview') render(m.result ?? null);
  else if ((m.type === 'error' || m.type === 'notice') && typeof m.message === 'string') notice(m.message, m.type === 'error');
});
window.addEventListener('keydown', (e) => {
  const target = e.target as HTMLElement | null;
  if (target && (target.tagName === 'INPUT' || target.tagName === 'SELECT')) return;
  if (e.key === '[' || e.key === ']') vscode.postMessage({ type: 'step', delta: e.key === '[' ? -1 : 1 });
});
vscode.postMessage({ type: 'ready' });
