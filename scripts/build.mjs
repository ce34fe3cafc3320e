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
};

await Promise.all([
  build({ ...common, entryPoints: ['client/extension.ts'], outfile: 'dist/extension.js' }),
  build({ ...common, entryPoints: ['server/main.ts'], outfile: 'dist/server.js' }),
  build({ ...common, entryPoints: ['cli/main.ts'], outfile: 'dist/cli.js' }),
  build({ ...common, entryPoints: ['trainer/worker.ts'], outfile: 'dist/trainer.js' }),
]);
