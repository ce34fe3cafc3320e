export interface GpuInfo {
    nvidia: boolean;
    /** GPU names, as the driver reports them. */
    names: string[];
    driver?: string;
    source: 'nvidia-smi' | 'proc' | 'none';
}
export interface GpuProbe {
    /** `nvidia-smi` command (tests point it elsewhere). */
    nvidiaSmi?: string;
    /** Root of the proc filesystem. */
    procRoot?: string;
}
/** nvidia-smi first (names and driver), then the driver's /proc entries (present without nvidia-smi in containers). */
export declare function detectNvidiaGpu(probe?: GpuProbe): GpuInfo;
export declare function ortBinFolder(ortRoot: string): string;
/** Path of the CUDA provider library onnxruntime-node loads from beside its binding. */
export declare function cudaProviderPath(ortRoot: string): string;
export declare function hasCudaProvider(ortRoot: string): boolean;
export interface InstallResult {
    ok: boolean;
    /** For the user: what happened and, on failure, what to do. */
    message: string;
    /** Everything the script printed. */
    output: string;
}
export interface InstallOptions {
    ortRoot: string;
    /** Node binary to run the script with (the editor's, with ELECTRON_RUN_AS_NODE). */
    nodePath?: string;
    env?: NodeJS.ProcessEnv;
    /** Called with each step the script announces (`Downloading …`, `Extracting …`). */
    onProgress?: (step: string) => void;
    timeoutMs?: number;
}
/** Explains the script's failure: network, proxy, platform, or its own message. */
export declare function explainInstallFailure(output: string): string;
/** Runs `node <ortRoot>/script/install --onnxruntime-node-install=cuda12`, then checks the library is there. */
export declare function installCudaProvider(opts: InstallOptions): Promise<InstallResult>;
