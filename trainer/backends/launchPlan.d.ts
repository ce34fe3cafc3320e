import { type PositionedDiagnostic } from '../../core/diagnostics';
import type { SessionSpec } from './session';
import { type BackendName } from './torchtune';
export interface LaunchSettings {
    /** `finetune.backend`. */
    backend?: string;
    /** `finetune.pythonPath`. */
    pythonPath?: string;
    /** `finetune.torchtune.*`. */
    nnodes?: number;
    nprocPerNode?: number;
    rdzvEndpoint?: string;
    overrides?: string[];
}
export interface LaunchHost {
    /** Folder holding dist/trainer.js. */
    extensionRoot: string;
    /** Node binary for our trainer (the editor's own, run as node). */
    nodePath: string;
    env?: NodeJS.ProcessEnv;
}
export type LaunchPlan = {
    ok: true;
    backend: BackendName;
    spec: SessionSpec; /** The command line, for the output channel. */
    commandLine: string;
} | {
    ok: false;
    reason: string;
    diagnostics: PositionedDiagnostic[];
};
export declare function planLaunch(configPath: string, text: string, settings: LaunchSettings, host: LaunchHost): LaunchPlan;
