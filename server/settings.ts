/** The `finetune.*` settings the server uses, from initializationOptions and workspace/didChangeConfiguration. */
export interface ServerSettings {
  /** Extra globs (workspace-relative or absolute) of YAML files to treat as recipe configs. */
  configGlobs: string[];
  /** Tokenizer used for datasets no config references: a tokenizer.model/tokenizer.json path or a `_component_`. */
  defaultTokenizer: string;
  /** Per-file cap on published diagnostics (a broken 200 MB file must not flood the editor). */
  maxDiagnosticsPerFile: number;
  /**
   * The editor checks JSON syntax of open .json documents itself (VS Code's JSON language service, `json.validate.enable`):
   * the server then leaves JSON syntax errors of those documents to it, so each problem is reported once.
   */
  editorValidatesJson: boolean;
  /**
   * `finetune.backend`: which trainer Launch starts, so configs are checked for it (the built-in trainer's limits
   * are errors for onnxruntime). Undefined when the client does not say (the checks then warn).
   */
  backend?: 'onnxruntime' | 'torchtune';
}

export const DEFAULT_SETTINGS: ServerSettings = { configGlobs: [], defaultTokenizer: '', maxDiagnosticsPerFile: 1000, editorValidatesJson: false };

/** Accepts anything (settings are user input) and keeps only well-typed fields. */
export function readSettings(raw: unknown, base: ServerSettings = DEFAULT_SETTINGS): ServerSettings {
  const o = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const globs = Array.isArray(o.configGlobs) ? o.configGlobs.filter((g): g is string => typeof g === 'string' && g.length > 0) : base.configGlobs;
  const tok = typeof o.defaultTokenizer === 'string' ? o.defaultTokenizer : base.defaultTokenizer;
  const max = typeof o.maxDiagnosticsPerFile === 'number' && o.maxDiagnosticsPerFile > 0 ? Math.floor(o.maxDiagnosticsPerFile) : base.maxDiagnosticsPerFile;
  const json = typeof o.editorValidatesJson === 'boolean' ? o.editorValidatesJson : base.editorValidatesJson;
  const backend = o.backend === 'onnxruntime' || o.backend === 'torchtune' ? o.backend : base.backend;
  return { configGlobs: globs, defaultTokenizer: tok, maxDiagnosticsPerFile: max, editorValidatesJson: json, ...(backend ? { backend } : {}) };
}
