export { TorchtuneOutputParser, parseMetricLine, parseTqdmSegment } from './torchtuneOutput';
export type BackendName = 'onnxruntime' | 'torchtune';
/** `# backend: torchtune` in the config wins over the `finetune.backend` setting (the file knows best). */
export declare function chooseBackend(configText: string, setting: string | undefined): BackendName;
export interface Topology {
    /** Machines taking part (torchrun `--nnodes`). */
    nnodes?: number;
    /** Processes (GPUs) per machine (torchrun `--nproc_per_node`). */
    nprocPerNode?: number;
    /** `host:port` of the rendezvous, needed with several machines. */
    rdzvEndpoint?: string;
    rdzvId?: string;
    rdzvBackend?: string;
}
export interface TuneRun extends Topology {
    recipe: string;
    configPath: string;
    /** OmegaConf overrides: `key=value` or `~key`. */
    overrides?: string[];
}
export declare function isDistributed(t: Topology): boolean;
/**
 * The recipe for a config: a `# recipe: NAME` comment, else LoRA/QLoRA models take the LoRA recipe and the rest
 * the full fine-tune; with several processes the `_single_device` recipe becomes its `_distributed` sibling.
 */
export declare function resolveRecipe(configText: string, topology?: Topology): string;
/** Arguments after `tune`: `run [torchrun flags] <recipe> --config <file> [overrides]`. */
export declare function buildTuneArgs(run: TuneRun): string[];
export interface TuneCommand {
    command: string;
    /** Arguments before `run …` (`-m torchtune._cli.tune` when only the interpreter was found). */
    prefix: string[];
}
export declare class TuneNotFoundError extends Error {
}
/**
 * Finds torchtune's `tune` command: beside the configured Python (`finetune.pythonPath`, a venv's bin/ folder),
 * through that Python's module, or on PATH. Throws TuneNotFoundError saying what to do.
 */
export declare function findTune(pythonPath: string | undefined, env?: NodeJS.ProcessEnv): TuneCommand;
