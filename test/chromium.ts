/**
 * The Chromium that the browser tests (test/monitor) and the end-to-end harness (test/e2e) drive through
 * playwright-core: by default the one that the npm package @sparticuz/chromium ships inside itself (brotli-packed
 * headless shell, fonts and the NSS/expat libraries it links against), so `npm ci` is all a machine needs. Set
 * FTUNE_CHROMIUM to another Chromium's executable (e.g. Debian's /usr/bin/chromium) to run the tests on that one.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type LaunchOptions } from 'playwright-core';

const REPO = resolve(__dirname, '..');

/** Flags for a quiet, sandbox-less headless run (as root in CI; loopback pages only). */
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface ChromiumInstall {
  executablePath: string;
  /** Extra environment for the browser process (library and font paths of the npm build). */
  env: Record<string, string>;
  /** Where it comes from, for messages. */
  source: string;
}

/**
 * Unpacks @sparticuz/chromium once per version into node_modules/.cache (a staging folder renamed into place, so
 * parallel test files never see a half-written binary) and returns how to run it.
 */
function npmChromium(): ChromiumInstall {
  const pkgDir = resolve(REPO, 'node_modules', '@sparticuz', 'chromium');
  const pkgJson = join(pkgDir, 'package.json');
  if (!existsSync(pkgJson)) throw new Error(`@sparticuz/chromium is not installed (${pkgJson} is missing): run \`npm ci\``);
  const version = (JSON.parse(readFileSync(pkgJson, 'utf8')) as { version: string }).version;
  const cacheRoot = resolve(REPO, 'node_modules', '.cache', 'ftune-chromium');
  const dir = join(cacheRoot, version);
  const install: ChromiumInstall = {
    executablePath: join(dir, 'chromium'),
    env: {
      // The package's own NSS/expat build (al2023.tar.br), so that no system libnss3 is needed.
      LD_LIBRARY_PATH: [join(dir, 'al2023', 'lib'), process.env.LD_LIBRARY_PATH].filter(Boolean).join(':'),
      FONTCONFIG_FILE: join(dir, 'fonts.conf'),
    },
    source: `@sparticuz/chromium ${version} (npm)`,
  };
  if (!existsSync(join(dir, '.complete'))) unpack(pkgDir, version, cacheRoot, dir);
  writeFontsConf(dir);
  return install;
}

/**
 * Fonts: the machine's own when it has any (as a user's browser would show them: CJK, symbols), then the package's
 * Open Sans, so a machine without a single font still renders text. (The package's fonts.conf names Lambda's folders.)
 */
function writeFontsConf(dir: string): void {
  const conf =
    `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
    `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n  <dir>${join(dir, 'fonts')}</dir>\n  <cachedir>${join(dir, 'fonts-cache')}</cachedir>\n</fontconfig>\n`;
  const path = join(dir, 'fonts.conf');
  if (existsSync(path) && readFileSync(path, 'utf8') === conf) return;
  const tmp = `${path}.${process.pid}`;
  writeFileSync(tmp, conf);
  renameSync(tmp, path);
}

function unpack(pkgDir: string, version: string, cacheRoot: string, dir: string): void {
  mkdirSync(cacheRoot, { recursive: true });
  const stage = mkdtempSync(join(cacheRoot, '.stage-'));
  try {
    // The package inflates into os.tmpdir(), and its NSS/expat libraries only where it believes it runs on Amazon
    // Linux 2023 (a Lambda runtime variable): a child process with both set unpacks everything into `stage`.
    const r = spawnSync(process.execPath, ['-e', 'require(process.argv[1]).executablePath().then((p) => console.log(p))', pkgDir], {
      env: { ...process.env, TMPDIR: stage, AWS_LAMBDA_JS_RUNTIME: 'nodejs22.x' },
      encoding: 'utf8',
      timeout: 120_000,
    });
    if (r.status !== 0 || !existsSync(join(stage, 'chromium')) || !existsSync(join(stage, 'al2023', 'lib', 'libnss3.so'))) {
      throw new Error(`unpacking @sparticuz/chromium into ${stage} failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
    }
    writeFileSync(join(stage, '.complete'), `${version}\n`);
    try {
      renameSync(stage, dir);
    } catch (e) {
      // Another test process won the race: its copy is complete (it renames only then).
      if (!existsSync(join(dir, '.complete'))) throw e;
    }
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** FTUNE_CHROMIUM when set (it must exist: no silent fallback), else the npm build. */
export function findChromium(): ChromiumInstall {
  const chosen = process.env.FTUNE_CHROMIUM;
  if (chosen) {
    if (!existsSync(chosen)) throw new Error(`FTUNE_CHROMIUM=${chosen} does not exist: unset it to use the Chromium of @sparticuz/chromium`);
    return { executablePath: chosen, env: {}, source: `FTUNE_CHROMIUM=${chosen}` };
  }
  return npmChromium();
}

/** A headless Chromium for tests. */
export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const c = findChromium();
  try {
    // One locale everywhere: under LANG=C.UTF-8 (Docker's default) the headless shell's ICU default locale becomes
    // "en-US@posix", which Intl rejects (uPlot's date formatting throws "Invalid language tag").
    const env = { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8', ...c.env, ...options.env };
    return await chromium.launch({ ...options, executablePath: c.executablePath, env, args: [...ARGS, ...(options.args ?? [])] });
  } catch (e) {
    throw new Error(`starting Chromium (${c.source}, ${c.executablePath}) failed: ${e instanceof Error ? e.message : String(e)}`);
  }
}
