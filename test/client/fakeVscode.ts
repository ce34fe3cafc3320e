/**
 * Just enough of the `vscode` API for client modules to run in node:test: webview panels that record what the
 * extension sets and posts, registrations captured so a test can call them as VS Code would. Installed as the
 * `vscode` module by `installFakeVscode` (the real one exists only inside the editor).
 */
import Module from 'node:module';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Listener<T> = (e: T) => unknown;

export class EventEmitter<T> {
  private listeners: Listener<T>[] = [];
  event = (l: Listener<T>) => {
    this.listeners.push(l);
    return { dispose: () => (this.listeners = this.listeners.filter((x) => x !== l)) };
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

export class Uri {
  private constructor(readonly fsPath: string, readonly scheme = 'file') {}
  static file(p: string): Uri {
    return new Uri(p);
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(join(base.fsPath, ...parts));
  }
  toString(): string {
    return `file://${this.fsPath}`;
  }
}

export class FakeWebviewPanel {
  title = '';
  disposed = false;
  readonly posted: unknown[] = [];
  private readonly received = new EventEmitter<unknown>();
  private readonly disposedEvent = new EventEmitter<void>();
  readonly webview = {
    html: '',
    options: {} as Record<string, unknown>,
    cspSource: 'https://webview.test',
    asWebviewUri: (u: Uri) => `https://webview.test${u.fsPath}`,
    postMessage: async (m: unknown) => (this.posted.push(m), true),
    onDidReceiveMessage: this.received.event,
  };
  onDidDispose = this.disposedEvent.event;
  constructor(readonly viewType: string) {}
  reveal(): void {}
  dispose(): void {
    this.disposed = true;
    this.disposedEvent.fire();
  }
  /** The webview sends a message to the extension. */
  fromWebview(m: unknown): void {
    this.received.fire(m);
  }
}

/** A text document over a file's text (positions by UTF-16 offset, as VS Code's). */
export class FakeDocument {
  constructor(
    readonly uri: Uri,
    public text: string,
  ) {}
  get fileName(): string {
    return this.uri.fsPath;
  }
  getText(): string {
    return this.text;
  }
  positionAt(offset: number): { offset: number } {
    return { offset };
  }
}

export interface FakeVscode {
  module: Record<string, unknown>;
  /** What the next quick pick / input box / notification button returns (a function of the items offered). */
  answers: { pick?: (items: { label: string }[]) => unknown; input?: string; button?: string };
  documents: Map<string, FakeDocument>;
  activeEditor?: { document: FakeDocument; snippets: { snippet: string; at: { offset: number } }[]; insertSnippet(s: { value: string }, at: { offset: number }): Promise<boolean> };
  opened: string[];
  commands: Map<string, (...args: unknown[]) => unknown>;
  serializers: Map<string, { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }>;
  panels: FakeWebviewPanel[];
  workspaceFiles: string[];
  messages: string[];
}

export function installFakeVscode(): FakeVscode {
  const fake: FakeVscode = { module: {}, serializers: new Map(), panels: [], workspaceFiles: [], messages: [], answers: {}, documents: new Map(), opened: [], commands: new Map() };
  const docOf = (u: Uri): FakeDocument => {
    let d = fake.documents.get(u.fsPath);
    if (!d) fake.documents.set(u.fsPath, (d = new FakeDocument(u, readFileSync(u.fsPath, 'utf8'))));
    return d;
  };
  const disposable = { dispose() {} };
  const state = new Map<string, unknown>();
  fake.module = {
    EventEmitter,
    Uri,
    ViewColumn: { One: 1, Beside: -2 },
    StatusBarAlignment: { Left: 1 },
    TreeItemCollapsibleState: { None: 0, Collapsed: 1 },
    TreeItem: class {
      constructor(readonly label: string, readonly collapsibleState: number) {}
    },
    ThemeIcon: class {
      constructor(readonly id: string) {}
    },
    MarkdownString: class {
      value = '';
      appendText(t: string) {
        this.value += t;
        return this;
      }
    },
    window: {
      createWebviewPanel: (viewType: string, title: string) => {
        const p = new FakeWebviewPanel(viewType);
        p.title = title;
        fake.panels.push(p);
        return p;
      },
      registerWebviewPanelSerializer: (viewType: string, s: { deserializeWebviewPanel(panel: unknown, state: unknown): Promise<void> }) => {
        fake.serializers.set(viewType, s);
        return disposable;
      },
      registerTreeDataProvider: () => disposable,
      showInformationMessage: async (m: string) => (fake.messages.push(m), fake.answers.button),
      showQuickPick: async (items: { label: string }[]) => fake.answers.pick?.(items),
      showInputBox: async () => fake.answers.input,
      showTextDocument: async (d: FakeDocument | Uri) => void fake.opened.push(d instanceof Uri ? d.fsPath : d.fileName),
      createOutputChannel: () => ({ appendLine() {}, show() {}, dispose() {} }),
      get activeTextEditor() {
        return fake.activeEditor;
      },
      showWarningMessage: async (m: string) => void fake.messages.push(m),
      showErrorMessage: async (m: string) => void fake.messages.push(m),
    },
    workspace: {
      createFileSystemWatcher: () => ({ onDidCreate: () => disposable, onDidChange: () => disposable, onDidDelete: () => disposable, dispose() {} }),
      findFiles: async () => fake.workspaceFiles.map((f) => Uri.file(f)),
      asRelativePath: (p: string) => p,
      openTextDocument: async (arg: Uri | { content: string }) => (arg instanceof Uri ? docOf(arg) : new FakeDocument(Uri.file('/untitled'), arg.content)),
      getWorkspaceFolder: () => undefined,
    },
    commands: {
      executeCommand: async () => undefined,
      registerCommand: (id: string, f: (...args: unknown[]) => unknown) => (fake.commands.set(id, f), disposable),
    },
    SnippetString: class {
      constructor(readonly value: string) {}
    },
  };
  const load = (Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown })._load;
  (Module as unknown as { _load: (request: string, ...rest: unknown[]) => unknown })._load = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fake.module : load.call(this, request, ...rest);
  };
  (fake as FakeVscode & { extensionState: Map<string, unknown> }).extensionState = state;
  return fake;
}

/** An ExtensionContext with workspaceState in memory. */
/** Makes `document` the active editor; inserted snippets are recorded. */
export function activate(fake: FakeVscode, document: FakeDocument): NonNullable<FakeVscode['activeEditor']> {
  const editor = {
    document,
    snippets: [] as { snippet: string; at: { offset: number } }[],
    insertSnippet: async (s: { value: string }, at: { offset: number }) => (editor.snippets.push({ snippet: s.value, at }), true),
  };
  fake.activeEditor = editor;
  return editor;
}

export function fakeContext(root: string): Record<string, unknown> {
  const state = new Map<string, unknown>();
  return {
    extensionUri: Uri.file(root),
    extensionPath: root,
    subscriptions: [],
    workspaceState: { get: (k: string) => state.get(k), update: async (k: string, v: unknown) => void state.set(k, v) },
  };
}
