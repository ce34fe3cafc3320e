/**
 * Training monitor webview: renders the model built from the event stream (model.ts) with uPlot charts.
 * Talks to the host only through protocol.ts messages; keeps its events in the webview state so a hidden and
 * re-shown panel draws at once, then the host's replay (`reset` + history) brings it up to date.
 */
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './monitor.css';
import type { TrainingEvent } from '../../trainer/events';
import { applyEvent, checkpointRows, emptyModel, formatDuration, progressView, type MonitorModel, type StepPoint } from './model';
import type { HostMessage, WebviewMessage } from './protocol';

interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): unknown;
  setState(state: unknown): void;
}
declare function acquireVsCodeApi(): VsCodeApi;

interface SavedState {
  title: string;
  events: TrainingEvent[];
}

const vscode = acquireVsCodeApi();
const app = document.getElementById('app')!;
let model: MonitorModel = emptyModel(app.dataset.title ?? 'Training');
/** Events kept for the webview state (logs trimmed), replayed on reload. */
let saved: TrainingEvent[] = [];

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- layout ---------------------------------------------------------------------------------------------------

const header = el('header');
const titleEl = el('h1', { id: 'title' });
const statusEl = el('span', { id: 'status', class: 'badge' });
const stopButton = el('button', { id: 'stop', type: 'button' }, 'Stop');
header.append(titleEl, statusEl, stopButton);

const progressBox = el('section', { id: 'progress' });
const progressText = el('div', { id: 'progress-text' });
const progressBar = el('div', { class: 'bar' });
const progressFill = el('div', { class: 'fill' });
progressBar.append(progressFill);
progressBox.append(progressText, progressBar);

const stats = el('section', { id: 'stats' });
const statCells = new Map<string, HTMLElement>();
for (const [key, label] of [
  ['loss', 'Loss'],
  ['ema', 'Smoothed loss'],
  ['lr', 'Learning rate'],
  ['gradNorm', 'Grad norm'],
  ['tps', 'Tokens/s'],
  ['memory', 'Peak memory'],
] as const) {
  const cell = el('div', { class: 'stat' });
  const value = el('div', { class: 'value', id: `stat-${key}` }, '–');
  cell.append(el('div', { class: 'label' }, label), value);
  stats.append(cell);
  statCells.set(key, value);
}

const errorsBox = el('section', { id: 'errors', hidden: '' });
const chartsBox = el('section', { id: 'charts' });
const spikesBox = el('section', { id: 'spikes', hidden: '' });
const checkpointsBox = el('section', { id: 'checkpoints' });
const configBox = el('details', { id: 'config' });
const configPre = el('pre');
configBox.append(el('summary', {}, 'Resolved config'), configPre);
const logBox = el('section', { id: 'log' });
const logPre = el('pre', { id: 'log-tail' });
logBox.append(el('h2', {}, 'Log'), logPre);

app.append(header, progressBox, stats, errorsBox, chartsBox, spikesBox, checkpointsBox, configBox, logBox);

stopButton.addEventListener('click', () => vscode.postMessage({ type: 'stop' }));

// ---- charts ---------------------------------------------------------------------------------------------------

function cssColor(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

interface Chart {
  id: string;
  title: string;
  series: { label: string; value: (p: StepPoint) => number | null; color: string; width?: number; dash?: number[] }[];
  plot?: uPlot;
  box: HTMLElement;
}

const fg = cssColor('--vscode-foreground', '#ccc');
const grid = cssColor('--vscode-editorWidget-border', 'rgba(128,128,128,0.25)');
const finite = (v: number | null) => (v === null || !Number.isFinite(v) ? null : v);

const charts: Chart[] = [
  {
    id: 'loss',
    title: 'Loss',
    series: [
      { label: 'loss', value: (p) => finite(p.loss), color: cssColor('--vscode-charts-blue', '#3794ff'), width: 1 },
      { label: 'smoothed', value: (p) => finite(p.ema), color: cssColor('--vscode-charts-orange', '#d18616'), width: 2 },
    ],
    box: el('div'),
  },
  { id: 'lr', title: 'Learning rate', series: [{ label: 'lr', value: (p) => finite(p.lr), color: cssColor('--vscode-charts-green', '#89d185') }], box: el('div') },
  { id: 'gradNorm', title: 'Grad norm', series: [{ label: 'grad norm', value: (p) => finite(p.gradNorm), color: cssColor('--vscode-charts-purple', '#b180d7') }], box: el('div') },
  { id: 'tps', title: 'Tokens/s', series: [{ label: 'tokens/s', value: (p) => finite(p.tokensPerSecond), color: cssColor('--vscode-charts-yellow', '#cca700') }], box: el('div') },
  { id: 'memory', title: 'Peak memory (GiB)', series: [{ label: 'GiB', value: (p) => finite(p.memoryGiB), color: cssColor('--vscode-charts-red', '#f14c4c') }], box: el('div') },
];

for (const c of charts) {
  c.box.className = 'chart';
  c.box.id = `chart-${c.id}`;
  c.box.append(el('h2', {}, c.title));
  chartsBox.append(c.box);
}

function chartWidth(): number {
  return Math.max(240, Math.floor((chartsBox.clientWidth || 800) / (chartsBox.clientWidth > 900 ? 2 : 1)) - 24);
}

/** Marks loss spikes on the loss chart; clicking near one opens the batch's samples. */
function spikePoints(u: uPlot): void {
  const ctx = u.ctx;
  const xs = u.data[0];
  const ys = u.data[1];
  ctx.save();
  ctx.fillStyle = cssColor('--vscode-charts-red', '#f14c4c');
  for (let i = 0; i < xs.length; i++) {
    const p = model.steps[i];
    const y = ys[i];
    if (!p?.spike || y === null || y === undefined) continue;
    const cx = u.valToPos(xs[i], 'x', true);
    const cy = u.valToPos(y, 'y', true);
    ctx.beginPath();
    ctx.arc(cx, cy, 4 * devicePixelRatio, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
}

/** Tick labels that stay readable for learning rates (1e-5) as for token rates (20,000). */
function axisLabel(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a < 1e-2 || a >= 1e6) return v.toExponential(1);
  return a >= 100 ? Math.round(v).toLocaleString('en-US') : String(Number(v.toPrecision(4)));
}

function makePlot(c: Chart): uPlot {
  const opts: uPlot.Options = {
    width: chartWidth(),
    height: 180,
    legend: { show: c.series.length > 1 },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: false } },
    axes: [
      { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, label: 'step', incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 50000, 100000] },
      { stroke: fg, grid: { stroke: grid }, ticks: { stroke: grid }, size: 70, space: 24, values: (_u, splits) => splits.map(axisLabel) },
    ],
    series: [{ label: 'step' }, ...c.series.map((s) => ({ label: s.label, stroke: s.color, width: s.width ?? 1.5, points: { show: false } }))],
    hooks: c.id === 'loss' ? { draw: [spikePoints] } : {},
  };
  const plot = new uPlot(opts, chartData(c), c.box);
  if (c.id === 'loss') {
    plot.over.addEventListener('click', () => {
      const idx = plot.cursor.idx;
      if (idx === null || idx === undefined) return;
      openSamplesNear(idx);
    });
  }
  return plot;
}

/** The clicked step, or a spike within two points of it, if the trainer recorded its batch. */
function openSamplesNear(idx: number): void {
  for (const d of [0, -1, 1, -2, 2]) {
    const p = model.steps[idx + d];
    if (p && (d === 0 || p.spike) && p.sampleIndices && p.sampleIndices.length > 0) {
      vscode.postMessage({ type: 'openSamples', step: p.step });
      return;
    }
  }
}

function chartData(c: Chart): uPlot.AlignedData {
  return [model.steps.map((p) => p.step), ...c.series.map((s) => model.steps.map((p) => s.value(p)))];
}

function renderCharts(): void {
  for (const c of charts) {
    const hasData = model.steps.some((p) => c.series.some((s) => s.value(p) !== null));
    c.box.hidden = !hasData;
    if (!hasData) continue;
    if (!c.plot) c.plot = makePlot(c);
    else c.plot.setData(chartData(c));
  }
}

window.addEventListener('resize', () => {
  for (const c of charts) c.plot?.setSize({ width: chartWidth(), height: 180 });
});

// ---- the rest of the view -------------------------------------------------------------------------------------

const fmt = (v: number | null | undefined, digits = 4) =>
  v === null || v === undefined ? '–' : Number.isNaN(v) ? 'NaN' : Math.abs(v) !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e5) ? v.toExponential(2) : v.toFixed(digits);

function renderHeader(): void {
  titleEl.textContent = model.title;
  const end = model.end;
  const label = end ? end.status : model.state;
  statusEl.textContent = label;
  statusEl.className = `badge ${label}`;
  stopButton.disabled = model.state === 'ended' || end !== null;
  stopButton.textContent = model.state === 'stopping' ? 'Kill' : 'Stop';
  stopButton.title = model.state === 'stopping' ? 'The trainer is saving a checkpoint; stop it now without saving' : 'Save a checkpoint and stop';
}

function renderProgress(): void {
  const v = progressView(model);
  const parts = [`Step ${v.step}${v.totalSteps ? ` / ${v.totalSteps}` : ''}`];
  if (v.epoch) parts.push(`Epoch ${v.epoch}${v.epochs ? ` / ${v.epochs}` : ''}`);
  if (v.etaSeconds !== null && !model.end) parts.push(`ETA ${formatDuration(v.etaSeconds)}`);
  progressText.textContent = parts.join(' · ');
  progressFill.style.width = `${(v.fraction * 100).toFixed(1)}%`;
}

function renderStats(): void {
  const p = model.steps[model.steps.length - 1];
  statCells.get('loss')!.textContent = fmt(p?.loss);
  statCells.get('ema')!.textContent = fmt(p?.ema);
  statCells.get('lr')!.textContent = fmt(p?.lr);
  statCells.get('gradNorm')!.textContent = fmt(p?.gradNorm);
  statCells.get('tps')!.textContent = p?.tokensPerSecond ? Math.round(p.tokensPerSecond).toLocaleString('en-US') : '–';
  statCells.get('memory')!.textContent = p?.memoryGiB ? `${p.memoryGiB.toFixed(2)} GiB` : '–';
}

function renderErrors(): void {
  errorsBox.hidden = model.errors.length === 0;
  errorsBox.replaceChildren(el('h2', {}, 'Errors'));
  for (const e of model.errors) {
    const item = el('div', { class: 'error' });
    item.append(el('div', { class: 'message' }, `${e.step !== undefined ? `Step ${e.step}: ` : ''}${e.message}`));
    // Numbered from 1, as the editor and the CLI number samples.
    if (e.sampleIndices?.length) item.append(el('div', { class: 'samples' }, `Batch samples: ${e.sampleIndices.map((i) => i + 1).join(', ')}`));
    if (e.detail) {
      const d = el('details');
      d.append(el('summary', {}, 'Details'), el('pre', {}, e.detail));
      item.append(d);
    }
    errorsBox.append(item);
  }
}

function renderSpikes(): void {
  const spikes = model.steps.filter((p) => p.spike);
  spikesBox.hidden = spikes.length === 0;
  spikesBox.replaceChildren(el('h2', {}, 'Loss spikes'));
  for (const p of spikes.slice(-20)) {
    const row = el('div', { class: 'spike' });
    row.append(el('span', {}, `Step ${p.step}: loss ${fmt(p.loss)} (smoothed ${fmt(p.ema)})`));
    if (p.sampleIndices?.length) {
      const b = el('button', { type: 'button', 'data-step': String(p.step) }, 'Open samples');
      b.addEventListener('click', () => vscode.postMessage({ type: 'openSamples', step: p.step }));
      row.append(b);
    }
    spikesBox.append(row);
  }
}

/** A table: folders as on disk (epoch_0 is the first epoch's), step and reason in aligned columns, one row per saved step. */
function renderCheckpoints(): void {
  checkpointsBox.replaceChildren(el('h2', {}, 'Checkpoints'));
  const rows = checkpointRows(model);
  if (rows.length === 0) {
    checkpointsBox.append(el('div', { class: 'muted' }, 'None written yet'));
    return;
  }
  const table = el('table', { class: 'checkpoints' });
  const head = el('tr');
  for (const h of ['Folder', 'Step', 'Saved', '']) head.append(el('th', {}, h));
  table.append(head);
  for (const r of rows) {
    for (const [k, f] of r.folders.entries()) {
      const tr = el('tr', { class: 'checkpoint' });
      const name = el('td', { class: 'folder' });
      name.append(el('code', { 'data-folder': f.name }, f.path));
      const b = el('button', { type: 'button', title: f.path }, 'Open folder');
      b.addEventListener('click', () => vscode.postMessage({ type: 'openFolder', path: f.path }));
      const open = el('td');
      open.append(b);
      tr.append(name, el('td', { class: 'num' }, k === 0 ? String(r.step) : ''), el('td', {}, k === 0 ? r.reason : ''), open);
      table.append(tr);
    }
  }
  checkpointsBox.append(table);
}

function renderConfig(): void {
  const start = model.start;
  configBox.hidden = start === null;
  if (!start) return;
  const head = `backend: ${start.backend} · device: ${start.device} · output: ${start.outputDir}\n\n`;
  configPre.textContent = head + JSON.stringify(start.config, null, 2);
}

function renderLog(): void {
  const atBottom = logPre.scrollTop + logPre.clientHeight >= logPre.scrollHeight - 4;
  logPre.replaceChildren(
    ...model.logs.slice(-200).map((l) => el('div', { class: `log-${l.level}` }, l.message)),
  );
  if (atBottom) logPre.scrollTop = logPre.scrollHeight;
}

let scheduled = false;
function render(): void {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    renderHeader();
    renderProgress();
    renderStats();
    renderErrors();
    renderCharts();
    renderSpikes();
    renderCheckpoints();
    renderConfig();
    renderLog();
    document.body.dataset.steps = String(model.steps.length);
  });
}

// ---- state and messages ---------------------------------------------------------------------------------------

function reset(title: string): void {
  model = emptyModel(title);
  saved = [];
  for (const c of charts) {
    c.plot?.destroy();
    c.plot = undefined;
  }
}

function ingest(events: TrainingEvent[]): void {
  for (const e of events) {
    applyEvent(model, e);
    saved.push(e);
  }
  // The state survives hide/show and reloads; logs beyond the tail are not worth keeping there.
  let logs = saved.filter((e) => e.type === 'log').length;
  if (logs > 400) saved = saved.filter((e) => e.type !== 'log' || logs-- <= 200);
  vscode.setState({ title: model.title, events: saved } satisfies SavedState);
  render();
}

window.addEventListener('message', (event: MessageEvent<HostMessage>) => {
  const m = event.data;
  if (!m || typeof m !== 'object') return;
  switch (m.type) {
    case 'reset':
      reset(m.title);
      render();
      break;
    case 'events':
      if (Array.isArray(m.events)) ingest(m.events);
      break;
    case 'state':
      model.state = m.state;
      render();
      break;
  }
});

const previous = vscode.getState() as SavedState | undefined;
if (previous && Array.isArray(previous.events)) {
  reset(previous.title);
  ingest(previous.events);
} else {
  render();
}
vscode.postMessage({ type: 'ready' });
