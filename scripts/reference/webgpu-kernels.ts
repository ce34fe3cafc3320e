/**
 * Generates trainer/runtime/webgpuKernels.json, the WebGPU execution provider's kernel registrations, from the
 * function table of RegisterKernels() in onnxruntime's onnxruntime/core/providers/webgpu/webgpu_execution_provider.cc
 * (commented-out entries are not registered and are skipped).
 * Run: npx tsx scripts/reference/webgpu-kernels.ts <webgpu_execution_provider.cc> <onnxruntime commit> [note]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

interface Registration {
  op: string;
  domain: string;
  since: number;
  /** null = open-ended ("N+"). */
  until: number | null;
  /** Typed registrations (e.g. Range for float and int32 only); absent = the kernel's own type constraints. */
  types?: string[];
}

const DOMAINS: Record<string, string> = { kOnnxDomain: '', kMSInternalNHWCDomain: 'com.ms.internal.nhwc' };
const TYPES: Record<string, string> = { float: 'float32', MLFloat16: 'float16', int32_t: 'int32', int64_t: 'int64', uint8_t: 'uint8', int8_t: 'int8' };

function parse(source: string): Registration[] {
  const start = source.indexOf('function_table[] = {');
  const table = start >= 0 ? source.slice(start, source.indexOf('};', start)) : source;
  const out: Registration[] = [];
  for (const raw of table.split('\n')) {
    const line = raw.trim();
    if (line.startsWith('//')) continue;
    let m = /^KERNEL_CREATE_INFO_VERSIONED\((\d+),\s*(\d+),\s*(\w+)\)/.exec(line);
    if (m) {
      out.push({ op: m[3]!, domain: '', since: Number(m[1]), until: Number(m[2]) });
      continue;
    }
    m = /^KERNEL_CREATE_INFO\((\d+),\s*(\w+)\)/.exec(line);
    if (m) {
      out.push({ op: m[2]!, domain: '', since: Number(m[1]), until: null });
      continue;
    }
    m = /ONNX_OPERATOR_(VERSIONED_)?(TYPED_)?KERNEL_CLASS_NAME\(kWebGpuExecutionProvider,\s*(\w+),\s*([^)]*)\)/.exec(line);
    if (!m) continue;
    const domain = DOMAINS[m[3]!];
    if (domain === undefined) continue;
    const args = m[4]!.split(',').map((s) => s.trim());
    const op = args.pop()!;
    const type = m[2] ? args.pop()! : null;
    const since = Number(args[0]);
    const until = m[1] ? Number(args[1]) : null;
    out.push({ op, domain, since, until, ...(type ? { types: [TYPES[type] ?? type] } : {}) });
  }
  // One entry per (op, domain, range); typed registrations of the same range merge their types.
  const merged = new Map<string, Registration>();
  for (const r of out) {
    const key = `${r.domain}:${r.op}:${r.since}:${r.until}`;
    const prev = merged.get(key);
    if (prev?.types && r.types) prev.types.push(...r.types);
    else merged.set(key, { ...r, ...(r.types ? { types: [...r.types] } : {}) });
  }
  return [...merged.values()].sort((a, b) => a.op.localeCompare(b.op) || a.domain.localeCompare(b.domain) || a.since - b.since);
}

function main(): void {
  const [file, commit, note] = process.argv.slice(2);
  if (!file || !commit) throw new Error('usage: webgpu-kernels.ts <webgpu_execution_provider.cc> <onnxruntime commit> [note]');
  const kernels = parse(readFileSync(file, 'utf8'));
  if (kernels.length === 0) throw new Error(`${file}: no kernel registrations found`);
  const out = resolve(__dirname, '..', '..', 'trainer', 'runtime', 'webgpuKernels.json');
  const data = {
    source: { repository: 'microsoft/onnxruntime', path: 'onnxruntime/core/providers/webgpu/webgpu_execution_provider.cc', commit, ...(note ? { note } : {}) },
    kernels,
  };
  // One registration per line: diffs against a regenerated table stay readable.
  const body = kernels.map((k) => `  ${JSON.stringify(k)}`).join(',\n');
  writeFileSync(out, `{\n "source": ${JSON.stringify(data.source)},\n "kernels": [\n${body}\n ]\n}\n`);
  console.log(`${kernels.length} registrations → ${out}`);
}

main();
