#!/usr/bin/env node
// The `ftune` command. In a source checkout (cli/main.ts and tsx present) it runs the TypeScript sources, so it is
// never a stale bundle; installed without sources it runs the esbuild bundle dist/cli.js.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const root = join(__dirname, '..');
const source = join(root, 'cli', 'main.ts');
let cli;
if (existsSync(source) && existsSync(join(root, 'node_modules', 'tsx'))) {
  require('tsx/cjs');
  cli = require(source);
} else {
  cli = require(join(root, 'dist', 'cli.js'));
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
