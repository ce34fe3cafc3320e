/**
 * `torchtune.training.FullModelHFCheckpointer` for our engine: reads an HF checkpoint folder (tensor locations
 * only, no data), checks it against the model, and writes checkpoints in torchtune 0.7.0's layout:
 *
 *   {output_dir}/epoch_{E}/            (or step_{N}/ for save_every_n_steps and stop checkpoints)
 *     adapter_model.safetensors        PEFT names (LoRA only)
 *     adapter_config.json              PEFT config (LoRA only)
 *     model.safetensors | model-0000i-of-0000N.safetensors + model.safetensors.index.json
 *                                      merged W + alpha/r·B·A in the checkpoint's dtype (unless adapter only)
 *     config.json, tokenizer files...  copied from checkpoint_dir (as torchtune's copy_files)
 *     recipe_state.safetensors         resumable state (intermediate checkpoints only), written last
 *
 * torchtune also writes `adapter_model.pt` (a torch pickle of the adapter in its own key names); we do not.
 */
import { constants, copyFileSync, existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { DecoderSpec, LoraSpec } from '../models/spec';
import { writeFileAtomic } from './atomic';
import { decodeToF32, type SafetensorsDtype } from './dtypes';
import { outputDirProblem, readCheckpointerSettings } from '../../core/config/trainerSettings';
import { expandIndexFiles, readCheckpointTensors, SafetensorsError } from '../../core/safetensors';
import { CheckpointError } from './errors';
import { checkCheckpointShapes } from './hfLayout';
import { adapterConfigFor, loraPairs, mergeLoraInto, pythonJson } from './peft';
import { checkpointFolders, ensureRealDir, newCheckpointFolder, refuseLink, replaceCheckpointFolder } from './outputDir';
import { readRecipeState, RECIPE_STATE_FILE, resumableCheckpoints, writeRecipeState, type ResumeCandidate, type StoredState } from './recipeState';
import { readSafetensorsF32, readSafetensorsHeader, readTensorBytes, writeSafetensors, type TensorInfo, type TensorToWrite } from './safetensors';

/** core's CheckpointerSettings with absolute paths. */
export interface CheckpointerOptions {
  checkpointDir: string;
  /** File names relative to checkpointDir, as listed (or built from filename_format/max_filename). */
  checkpointFiles: string[];
  modelType: string;
  outputDir: string;
  /** A PEFT adapter to start from (adapter_model.safetensors or its folder); relative to checkpointDir. */
  adapterCheckpoint: string | null;
  resumeFromCheckpoint: boolean;
  /** Where to resume from: a step_N/epoch_N folder, else the most recent one in outputDir. */
  recipeCheckpoint: string | null;
  /** Keep only the newest N checkpoint folders of each kind (epoch_*, step_*); null keeps all. */
  keepLastNCheckpoints: number | null;
}

/** Shard size of huggingface_hub's save_torch_state_dict as torchtune calls it ("5GB"). */
export const MAX_SHARD_BYTES = 5_000_000_000;

/** Files not copied from checkpoint_dir into each checkpoint (torchtune's SUFFIXES_TO_NOT_COPY). */
const SUFFIXES_TO_NOT_COPY = ['.pt', '.pth', '.bin', '.safetensors', 'model.safetensors.index.json', 'pytorch_model.bin.index.json', 'adapter_config', 'adapter_model'];
const MAX_COPY_BYTES = 100 * 1024 * 1024;

/** Reads the `checkpointer:` section (already interpolated) into options; `baseDir` resolves relative paths. */
export function checkpointerOptionsFrom(section: Record<string, unknown>, baseDir: string): CheckpointerOptions {
  const { settings: s, problems } = readCheckpointerSettings({ checkpointer: section });
  if (problems.length) throw new CheckpointError(problems[0].message);
  return { ...s, checkpointDir: resolve(baseDir, s.checkpointDir), outputDir: resolve(baseDir, s.outputDir) };
}

export interface BaseCheckpoint {
  dir: string;
  /** config.json of the checkpoint. */
  config: Record<string, unknown>;
  /** Every tensor by HF name, in file order. */
  tensors: Map<string, TensorInfo>;
}

export interface SaveRequest {
  /** `epoch_{epoch}` or `step_{step}`. */
  dirName: string;
  /** Trainable parameters by name (PEFT names for LoRA, HF names for full fine-tuning). */
  params: Map<string, { shape: number[]; data: Float32Array }>;
  lora: LoraSpec | null;
  adapterOnly: boolean;
  /** Written when the run is not finished (torchtune's intermediate_checkpoint). */
  state: StoredState | null;
  /** The adapter's saved dtype (torchtune saves in the training dtype). */
  adapterDtype: SafetensorsDtype;
}

export class FullModelHFCheckpointer {
  readonly options: CheckpointerOptions;
  private base: BaseCheckpoint | null = null;
  /** Checkpoint folders this run wrote, oldest first: keep_last_n_checkpoints never prunes the newest of them. */
  private readonly savedThisRun: string[] = [];
  private copyList: { files: CopyEntry[]; warnings: string[] } | null = null;

  constructor(options: CheckpointerOptions) {
    this.options = options;
    const problem = outputDirProblem(options.checkpointDir, options.outputDir);
    if (problem) throw new CheckpointError(problem);
  }

  /** Locates every tensor of the base checkpoint; errors name the missing or broken file. */
  loadBase(): BaseCheckpoint {
    if (this.base) return this.base;
    const { checkpointDir, checkpointFiles } = this.options;
    if (!existsSync(checkpointDir) || !statSync(checkpointDir).isDirectory()) {
      throw new CheckpointError(`checkpointer.checkpoint_dir ${checkpointDir} does not exist (download the model, e.g. tune download, or fix the path)`);
    }
    const configPath = join(checkpointDir, 'config.json');
    if (!existsSync(configPath)) throw new CheckpointError(`${configPath} is missing: an HF checkpoint folder has a config.json next to its weights`);
    let config: Record<string, unknown>;
    try {
      config = JSON.parse(readFileSync(configPath, 'utf8')) as Record<string, unknown>;
    } catch {
      throw new CheckpointError(`${configPath} is not valid JSON`);
    }
    let tensors: Map<string, TensorInfo>;
    try {
      tensors = readCheckpointTensors(checkpointDir, checkpointFiles);
    } catch (e) {
      throw e instanceof SafetensorsError ? new CheckpointError(e.message) : e;
    }
    this.base = { dir: checkpointDir, config, tensors };
    return this.base;
  }

  /** Checks the base checkpoint against the model dims; names the first mismatching tensor. */
  validate(spec: DecoderSpec): void {
    checkCheckpointShapes(spec, this.loadBase().tensors, this.options.checkpointDir);
  }

  /**
   * The checkpoint folders to resume from, best first: recipe_checkpoint when set, else every epoch_N/step_N folder
   * with a readable recipe state, newest progress first; `unreadable` lists the states that could not be read
   * (with the reason), so the caller can say which it skipped. Throws when there is nothing to resume from.
   */
  resumeCandidates(): { candidates: string[]; unreadable: ResumeCandidate[] } {
    const { recipeCheckpoint, outputDir } = this.options;
    if (recipeCheckpoint) {
      const p = isAbsolute(recipeCheckpoint) ? recipeCheckpoint : join(outputDir, recipeCheckpoint);
      const dir = p.endsWith('.safetensors') || p.endsWith('.pt') ? resolve(p, '..') : p;
      if (!existsSync(join(dir, RECIPE_STATE_FILE))) throw new CheckpointError(`cannot resume: ${dir} has no ${RECIPE_STATE_FILE}`);
      return { candidates: [dir], unreadable: [] };
    }
    const found = resumableCheckpoints(outputDir);
    const candidates = found.filter((c) => c.problem === null).map((c) => c.dir);
    const unreadable = found.filter((c) => c.problem !== null);
    if (candidates.length === 0) {
      const why = unreadable.map((c) => `${join(c.dir, RECIPE_STATE_FILE)}: ${c.problem}`).join('; ');
      throw new CheckpointError(`cannot resume: no checkpoint with a readable recipe state in ${outputDir}${why ? ` (${why})` : ''} (set resume_from_checkpoint: false to start over)`);
    }
    return { candidates, unreadable };
  }

  loadState(dir: string): StoredState {
    return readRecipeState(join(dir, RECIPE_STATE_FILE));
  }

  /** A PEFT adapter to start from (adapter_checkpoint), as float32 tensors by PEFT name; null if none configured. */
  loadInitialAdapter(): Map<string, { shape: number[]; data: Float32Array }> | null {
    const a = this.options.adapterCheckpoint;
    if (!a) return null;
    let p = isAbsolute(a) ? a : join(this.options.checkpointDir, a);
    if (existsSync(p) && statSync(p).isDirectory()) p = join(p, 'adapter_model.safetensors');
    if (!existsSync(p)) throw new CheckpointError(`checkpointer.adapter_checkpoint ${p} does not exist`);
    if (!p.endsWith('.safetensors')) throw new CheckpointError(`checkpointer.adapter_checkpoint ${p}: only PEFT adapter_model.safetensors files are supported`);
    const out = new Map<string, { shape: number[]; data: Float32Array }>();
    for (const [k, v] of readSafetensorsF32(p).tensors) out.set(k, { shape: v.shape, data: v.data });
    return out;
  }

  /**
   * What each checkpoint copies from checkpoint_dir (tokenizer, config, …), listed once before training so that a
   * problem shows before the first step; `warnings` names the links it skips.
   */
  filesToCopy(): { files: CopyEntry[]; warnings: string[] } {
    this.copyList ??= copyList(this.loadBase().dir);
    return this.copyList;
  }

  /**
   * Writes one checkpoint; returns its folder. It is built in a new folder and then replaces any folder of the same
   * name whole (an earlier run's files never mix with this run's); nothing is written through a symbolic link
   * (outputDir.ts).
   */
  save(req: SaveRequest): string {
    const base = this.loadBase();
    const root = this.options.outputDir;
    const copies = this.filesToCopy().files;
    const built = newCheckpointFolder(root, req.dirName);
    try {
      this.writeCheckpoint(built, base, req, copies);
    } catch (e) {
      rmSync(built, { recursive: true, force: true });
      throw e;
    }
    const dir = replaceCheckpointFolder(root, req.dirName, built);
    const i = this.savedThisRun.indexOf(req.dirName);
    if (i >= 0) this.savedThisRun.splice(i, 1);
    this.savedThisRun.push(req.dirName);
    if (this.options.keepLastNCheckpoints !== null) pruneCheckpoints(root, req.dirName, this.options.keepLastNCheckpoints, this.savedThisRun);
    return dir;
  }

  private writeCheckpoint(dir: string, base: BaseCheckpoint, req: SaveRequest, copies: readonly CopyEntry[]): void {
    const root = this.options.outputDir;
    if (req.lora) {
      const names = [...req.params.keys()].sort();
      writeSafetensors(
        this.fileIn(dir, 'adapter_model.safetensors'),
        names.map((n) => ({ name: n, dtype: req.adapterDtype, shape: req.params.get(n)!.shape, data: req.params.get(n)!.data })),
        { format: 'pt' },
      );
      const repoId = readRepoId(base.dir);
      writeFileAtomic(this.fileIn(dir, 'adapter_config.json'), pythonJson(adapterConfigFor(req.lora, repoId)));
    }
    if (!req.adapterOnly) this.writeFullWeights(dir, req);
    copyFiles(base.dir, copies, dir, root);
    if (req.state) {
      this.fileIn(dir, RECIPE_STATE_FILE);
      writeRecipeState(dir, req.state);
    }
  }

  /** `dir/name`, refused when a symbolic link sits there. */
  private fileIn(dir: string, name: string): string {
    const p = join(dir, name);
    refuseLink(p, this.options.outputDir);
    return p;
  }

  /** Merged (LoRA) or updated (full fine-tuning) weights in the checkpoint's dtype, sharded as HF's 5GB rule. */
  private writeFullWeights(dir: string, req: SaveRequest): void {
    const base = this.loadBase();
    const merges = new Map<string, { a: Float32Array; b: Float32Array; rank: number }>();
    if (req.lora) {
      for (const pair of loraPairs(req.params.keys())) {
        const a = req.params.get(pair.a)!;
        const b = req.params.get(pair.b)!;
        merges.set(`${pair.module}.weight`, { a: a.data, b: b.data, rank: a.shape[0] });
      }
      for (const k of merges.keys()) if (!base.tensors.has(k)) throw new CheckpointError(`cannot merge the adapter: base weight ${k} is not in the checkpoint`);
    }
    const scale = req.lora ? req.lora.alpha / req.lora.rank : 0;
    const tensors: TensorToWrite[] = [...base.tensors.values()].map((info) => ({
      name: info.name,
      dtype: info.dtype,
      shape: info.shape,
      data: () => {
        const merge = merges.get(info.name);
        const full = req.lora ? undefined : req.params.get(info.name);
        if (full) return full.data;
        if (!merge) return readTensorBytes(info);
        const w = decodeToF32(readTensorBytes(info), info.dtype);
        mergeLoraInto(w, merge.b, merge.a, info.shape[0], info.shape[1], merge.rank, scale);
        return w;
      },
    }));
    const shards = shardTensors(tensors, MAX_SHARD_BYTES);
    if (shards.length === 1) {
      writeSafetensors(this.fileIn(dir, 'model.safetensors'), shards[0], { format: 'pt' });
      return;
    }
    const weightMap: Record<string, string> = {};
    let total = 0;
    shards.forEach((shard, i) => {
      const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
      writeSafetensors(this.fileIn(dir, name), shard, { format: 'pt' });
      for (const t of shard) {
        weightMap[t.name] = name;
        total += bytesOfShape(t);
      }
    });
    const sortedMap: Record<string, string> = {};
    for (const k of Object.keys(weightMap).sort()) sortedMap[k] = weightMap[k];
    writeFileAtomic(this.fileIn(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: total }, weight_map: sortedMap }, null, 2) + '\n');
  }
}

function bytesOfShape(t: TensorToWrite): number {
  return t.shape.reduce((a, b) => a * b, 1) * (t.dtype === 'F32' ? 4 : 2);
}

/** huggingface_hub's split_state_dict_into_shards: greedy in order; a tensor larger than the limit gets its own shard. */
export function shardTensors(tensors: TensorToWrite[], maxBytes: number): TensorToWrite[][] {
  const shards: TensorToWrite[][] = [];
  let cur: TensorToWrite[] = [];
  let curSize = 0;
  for (const t of tensors) {
    const size = bytesOfShape(t);
    if (size > maxBytes) {
      shards.push([t]);
      continue;
    }
    if (curSize + size > maxBytes) {
      shards.push(cur);
      cur = [];
      curSize = 0;
    }
    cur.push(t);
    curSize += size;
  }
  if (cur.length) shards.push(cur);
  return shards.length ? shards : [[]];
}

/**
 * torchtune's prune_surplus_checkpoints: of the folders named like `justSaved` (epoch_N or step_N), keep the newest
 * `keep`. torchtune ranks by N alone, so in an output_dir reused from a longer run it deletes the folders this run
 * just wrote and keeps the old run's higher numbers; here this run's folders count as newer than any earlier run's
 * (in the order it saved them), so the newest `keep` of this run always survive. (A base checkpoint inside a
 * checkpoint folder is refused by the constructor, so pruning never deletes the weights the run reads.)
 */
function pruneCheckpoints(outputDir: string, justSaved: string, keep: number, savedThisRun: readonly string[]): void {
  const kind = justSaved.replace(/_\d+$/, '');
  const mine = savedThisRun.filter((n) => n.startsWith(`${kind}_`));
  const earlier = checkpointFolders(outputDir)
    .filter((f) => f.kind === kind && !mine.includes(f.name))
    .map((f) => f.name);
  const newestLast = [...earlier, ...mine];
  for (const name of newestLast.slice(0, Math.max(0, newestLast.length - keep))) rmSync(join(outputDir, name), { recursive: true, force: true });
}

/** Files of an HF folder's shards: model.safetensors.index.json's weight_map, else model.safetensors. */
export function defaultCheckpointFiles(dir: string): string[] {
  if (existsSync(join(dir, 'model.safetensors.index.json'))) return expandIndexFiles(dir, ['model.safetensors.index.json']);
  return ['model.safetensors'];
}

/** `original_repo_id.json` written by `tune download`: the adapter config's base_model_name_or_path. */
function readRepoId(dir: string): string | null {
  const p = join(dir, 'original_repo_id.json');
  if (!existsSync(p)) return null;
  try {
    const v = (JSON.parse(readFileSync(p, 'utf8')) as { repo_id?: unknown }).repo_id;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/** An entry of checkpoint_dir copied into each checkpoint: a folder to create, or a file; `rel` is below checkpoint_dir. */
export interface CopyEntry {
  rel: string;
  folder: boolean;
}

/**
 * torchtune's copy_files (os.walk, which does not enter linked folders): everything but weights, adapters,
 * dotfiles and files over 100 MiB. A link to a file is copied as its content (shutil.copy2 follows it); a linked
 * folder is not entered (a `loop -> .` would nest folders until ELOOP); a dangling link is skipped with a warning.
 */
function copyList(src: string): { files: CopyEntry[]; warnings: string[] } {
  const files: CopyEntry[] = [];
  const warnings: string[] = [];
  const visit = (rel: string): void => {
    for (const name of readdirSync(join(src, rel)).sort()) {
      if (name.startsWith('.')) continue;
      const r = rel ? join(rel, name) : name;
      const from = join(src, r);
      let st = lstatSync(from);
      if (st.isSymbolicLink()) {
        const target = statSync(from, { throwIfNoEntry: false });
        if (!target) {
          warnings.push(`${from} is a link to nothing (${readlinkSync(from)}): not copied into the checkpoints`);
          continue;
        }
        if (target.isDirectory()) continue;
        st = target;
      }
      if (st.isDirectory()) {
        files.push({ rel: r, folder: true });
        visit(r);
        continue;
      }
      if (!st.isFile() || SUFFIXES_TO_NOT_COPY.some((s) => name.endsWith(s)) || st.size > MAX_COPY_BYTES) continue;
      files.push({ rel: r, folder: false });
    }
  };
  visit('');
  return { files, warnings };
}

/** Copies the listed entries of `src` into `dest`; a file already written there (the weights' own) is kept. */
function copyFiles(src: string, entries: readonly CopyEntry[], dest: string, outputDir: string): void {
  for (const e of entries) {
    const to = join(dest, e.rel);
    if (e.folder) {
      ensureRealDir(outputDir, to);
      continue;
    }
    refuseLink(to, outputDir);
    if (existsSync(to)) continue;
    // COPYFILE_EXCL: never through anything that appeared at `to` in the meantime.
    copyFileSync(join(src, e.rel), to, constants.COPYFILE_EXCL);
  }
}
