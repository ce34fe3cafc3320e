#!/usr/bin/env node
// The `ftune` command: the bundled CLI when built, otherwise the TypeScript sources through tsx.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const bundled = join(__dirname, '..', 'dist', 'cli.js');
let cli;
if (existsSync(bundled)) {
  cli = require(bundled);
} else {
  require('tsx/cjs');
  cli = require(join(__dirname, '..', 'cli', 'main.ts'));
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
