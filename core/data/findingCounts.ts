/**
 * A framework's silent failures over a whole dataset: how many samples each finding code hits, and where the first
 * one is ("312 of 5,000 samples train nothing — first at train.jsonl:17 (sample 9): …"). Shared by `ftune stats`,
 * `ftune validate` and the language server's dataset summary.
 */
import type { FindingCode } from '../frameworks/trained';
import { FINDING_SEVERITY } from './frameworkSample';
import type { Severity } from '../diagnostics';

export interface FindingCount {
  code: FindingCode;
  /** Samples with at least one finding of this code. */
  count: number;
  /** The first such sample: its index in the dataset (0-based), file and 1-based line. */
  firstIndex: number;
  firstFile?: string;
  firstLine: number;
  /** The first sample's finding text. */
  example: string;
  severity: Severity;
}

/** What "N of M samples …" says of each code. */
const PHRASE: Record<FindingCode, string> = {
  'no-generation-block': 'have no {% generation %} block to take the mask from',
  'nothing-trained': 'train nothing',
  'eos-not-trained': 'do not train the end-of-turn token',
  'assistant-truncated': 'lose trained tokens to truncation',
  'dropped-too-long': 'are dropped as too long',
  'dropped-too-short': 'are dropped as too short',
  'role-not-trained': 'have turns of roles that are not trained',
  'default-system-prompt': 'get a system prompt from the template',
  'date-inserted': "get today's date from the template",
  'special-token-in-content': 'have special-token text typed in content',
  'template-error': 'fail in the chat template',
};

export function isFindingCode(code: string): code is FindingCode {
  return Object.prototype.hasOwnProperty.call(PHRASE, code);
}

export class FindingTally {
  private readonly byCode = new Map<FindingCode, FindingCount>();

  /** One sample's diagnostics (line 0-based, as SampleOutcome's): each finding code counts once per sample. */
  add(index: number, diagnostics: readonly { code: string; message: string; start: { line: number } }[], file?: string): void {
    const seen = new Set<string>();
    for (const d of diagnostics) {
      if (!isFindingCode(d.code) || seen.has(d.code)) continue;
      seen.add(d.code);
      const hit = this.byCode.get(d.code);
      if (hit) hit.count++;
      else this.byCode.set(d.code, { code: d.code, count: 1, firstIndex: index, ...(file ? { firstFile: file } : {}), firstLine: d.start.line + 1, example: d.message, severity: FINDING_SEVERITY[d.code] });
    }
  }

  get size(): number {
    return this.byCode.size;
  }

  result(): FindingCount[] {
    return [...this.byCode.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  }
}

const n = (x: number): string => x.toLocaleString('en-US');

/** "312 of 5,000 samples train nothing — first at line 17 (sample 9): …" (the file named when `withFile`). */
export function findingCountLine(c: FindingCount, samples: number, withFile = true): string {
  const where = withFile && c.firstFile ? `${c.firstFile}:${c.firstLine}` : `line ${c.firstLine}`;
  return `${n(c.count)} of ${n(samples)} samples ${PHRASE[c.code]} [${c.code}] — first at ${where} (sample ${c.firstIndex + 1}): ${c.example}`;
}
