import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEvent, emptyModel, progressView } from '../../media/monitor/model';
import { monitorCsp, renderMonitorHtml } from '../../media/monitor/page';
import { parseWebviewMessage } from '../../media/monitor/protocol';

test('the host accepts only the webview messages it knows, exactly shaped', () => {
  assert.deepEqual(parseWebviewMessage({ type: 'ready' }), { type: 'ready' });
  assert.deepEqual(parseWebviewMessage({ type: 'stop' }), { type: 'stop' });
  assert.deepEqual(parseWebviewMessage({ type: 'openFolder', path: '/out/epoch_0' }), { type: 'openFolder', path: '/out/epoch_0' });
  assert.deepEqual(parseWebviewMessage({ type: 'openSamples', step: 30 }), { type: 'openSamples', step: 30 });
  for (const bad of [
    null, 'stop', [], { type: 'exec', command: 'rm -rf /' }, { type: 'stop', extra: 1 }, { type: 'openFolder' },
    { type: 'openFolder', path: 42 }, { type: 'openFolder', path: '' }, { type: 'openFolder', path: 'a\0b' },
    { type: 'openFolder', path: 'x'.repeat(5000) }, { type: 'openSamples', step: -1 }, { type: 'openSamples', step: 1.5 },
    { type: 'openSamples', step: '3' }, { type: 'openSamples', step: 3, sampleIndices: [1] },
  ]) {
    assert.equal(parseWebviewMessage(bad), null, JSON.stringify(bad));
  }
});

test('the page: strict CSP with the nonce, only the extension media as sources, values escaped', () => {
  assert.equal(
    monitorCsp('vscode-resource:', 'N0nce'),
    "default-src 'none'; img-src vscode-resource: data:; style-src vscode-resource:; font-src vscode-resource:; script-src 'nonce-N0nce'",
  );
  const html = renderMonitorHtml({ cspSource: 'https://x', nonce: 'N0nce', scriptUri: 'https://x/m.js', styleUri: 'https://x/m.css', title: 'Training: <b>"a".yaml' });
  assert.match(html, /<script nonce="N0nce" src="https:\/\/x\/m\.js"><\/script>/);
  assert.ok(!html.includes('<b>'));
  assert.match(html, /Training: &lt;b&gt;&quot;a&quot;\.yaml/);
  assert.equal((html.match(/<script/g) ?? []).length, 1);
});

test('the model: smoothed loss, a spike only where the loss jumps, ETA from step times', () => {
  const m = emptyModel();
  applyEvent(m, { type: 'start', time: 0, config: {}, totalSteps: 20, stepsPerEpoch: 10, epochs: 2, backend: 'onnxruntime', device: 'cpu', outputDir: '/o' });
  const losses = [2, 1.9, 1.8, 1.75, 1.7, 1.65, 4, 1.6, 1.55, 1.5];
  losses.forEach((loss, i) => applyEvent(m, { type: 'step', time: 10 + 2 * i, step: i + 1, epoch: 0, loss, lr: 1e-4 }));
  assert.deepEqual(m.steps.map((p) => p.spike), losses.map((l) => l === 4));
  assert.equal(m.steps[0].ema, 2); // debiased: the first point is the loss itself
  assert.ok(m.steps[6].ema > 1.65 && m.steps[6].ema < 4);
  const v = progressView(m);
  assert.deepEqual([v.step, v.totalSteps, v.epoch, v.epochs], [10, 20, 1, 2]); // events count epochs from 0, the view from 1
  assert.equal(v.etaSeconds, 20); // 10 steps left at 2 s each
  // The last epoch of the run shows as `epochs / epochs`, not one short.
  const last = emptyModel();
  applyEvent(last, { type: 'start', time: 0, config: {}, totalSteps: 20, stepsPerEpoch: 10, epochs: 2, backend: 'onnxruntime', device: 'cpu', outputDir: '/o' });
  applyEvent(last, { type: 'step', time: 1, step: 20, epoch: 1, loss: 1, lr: 1e-4 });
  assert.deepEqual([progressView(last).epoch, progressView(last).epochs], [2, 2]);
  applyEvent(m, { type: 'end', time: 40, status: 'stopped', step: 10 });
  assert.equal(progressView(m).etaSeconds, 0);
  assert.equal(m.state, 'ended');
});
