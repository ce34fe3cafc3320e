/**
 * What every Python trainer prints besides its metrics, read the same way for torchtune and for the Hugging Face
 * Trainer frameworks: logging lines in the formats those projects configure, `warnings` lines, torchrun's rank
 * prefixes, and tracebacks (many lines that end in one exception line).
 *
 * Formats, from the sources that set them:
 * - Python's default `logging.basicConfig`: `INFO:name:message` (torchtune's `get_logger`).
 * - transformers' explicit format (utils/logging.py `enable_explicit_format`, transformers 5.17.0, which
 *   LLaMA-Factory turns on): `[INFO|trainer.py:2409] 2026-01-01 12:00:00,123 >> message`.
 * - LLaMA-Factory (src/llamafactory/extras/logging.py @ff6d4d12): `[INFO|2026-01-01 12:00:00] name:12 >> message`.
 * - Axolotl (src/axolotl/logging_config.py @067b021c): `[2026-01-01 12:00:00,123] [INFO] [name] message`, the
 *   long form adding `[name.func:12] [PID:123]` and, off rank 0, `[RANK:1]`.
 * - PyTorch's C++ (c10) log lines: `[W1201 18:13:28.037049055 reducer.cpp:1529] Warning: …` (recorded in
 *   test/fixtures/recordings/trl-sft-2proc); their E lines are logged as warnings, the Python error follows them.
 */
export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** torchrun prefixes each worker's line with its rank when it tees output. */
export const RANK_PREFIX = /^\[(?:rank|default)\d+\]:\s?/;
/** `path.py:42: UserWarning: text`, as `warnings.showwarning` prints it. */
export const PY_WARNING = /^\S.*:\d+: \w*Warning: /;
export const OUT_OF_MEMORY = /OutOfMemoryError|CUDA out of memory/;

const LEVELS: Record<string, LogLevel> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warning', WARN: 'warning', ERROR: 'error', CRITICAL: 'error' };

const FORMATS: RegExp[] = [
  /^(DEBUG|INFO|WARNING|ERROR|CRITICAL):([\w.]+):(.*)$/,
  /^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\|([^\]|]+)\] [\d-]+ [\d:,]+ >> (.*)$/,
  /^\[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\|[\d-]+ [\d:,]+\] (\S+) >> (.*)$/,
  /^\[[\d-]+ [\d:,.]+\] \[(DEBUG|INFO|WARNING|WARN|ERROR|CRITICAL)\] \[([^\]]+)\](?: \[PID:\d+\])?(?: \[RANK:\d+\])? (.*)$/,
];

const C10 = /^\[([WIEF])\d{4} [\d:.]+ ([^\]\s]+)\] (.*)$/;
const C10_LEVELS: Record<string, LogLevel> = { I: 'info', W: 'warning', E: 'warning', F: 'warning' };

export interface LoggingLine {
  level: LogLevel;
  logger: string;
  message: string;
}

/** A logging line in one of the formats above, or null. */
export function parseLoggingLine(line: string): LoggingLine | null {
  for (const f of FORMATS) {
    const m = f.exec(line);
    if (m) return { level: LEVELS[m[1]], logger: m[2], message: m[3] };
  }
  const c = C10.exec(line);
  return c ? { level: C10_LEVELS[c[1]], logger: c[2], message: c[3] } : null;
}

/** Lines that continue a traceback rather than end it. */
function continuesTraceback(line: string): boolean {
  return (
    /^\s/.test(line) ||
    line.startsWith('Traceback (most recent call last):') ||
    line.startsWith('During handling of the above exception') ||
    line.startsWith('The above exception was the direct cause') ||
    // Python 3.11+ underlines the failing expression (`    ~~~^^^`), indented; a bare caret line is one too.
    /^[\s~^]+$/.test(line)
  );
}

/**
 * Collects a traceback from its `Traceback (most recent call last):` line to its exception line. `push` answers
 * the finished traceback (all its lines) when the line ends it, else null.
 */
export class TracebackCollector {
  private lines: string[] | null = null;

  get open(): boolean {
    return this.lines !== null;
  }

  /** True when `line` starts a traceback (it is then collected). */
  start(line: string): boolean {
    if (!line.startsWith('Traceback (most recent call last):')) return false;
    this.lines = [line];
    return true;
  }

  push(line: string): string[] | null {
    const tb = this.lines!;
    tb.push(line);
    if (continuesTraceback(line)) return null;
    this.lines = null;
    return tb;
  }

  /** A traceback the stream ended inside of, if any. */
  flush(): string[] | null {
    const tb = this.lines;
    this.lines = null;
    return tb;
  }
}
