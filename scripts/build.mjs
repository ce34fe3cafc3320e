// Bundles the four entry points with esbuild. Native and large runtime packages stay external:
// onnxruntime-node loads a .node binary; vscode is provided by the editor.
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
  // Webview front-end (training monitor): a browser bundle with its CSS (uPlot's included) beside it.
  build({ bundle: true, platform: 'browser', target: 'es2022', format: 'iife', sourcemap: true, logLevel: 'warning', entryPoints: { monitor: 'media/monitor/main.ts' }, outdir: 'dist/media' }),
]);
