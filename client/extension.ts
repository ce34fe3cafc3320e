/**
 * Extension entry: each feature registers itself from its own module.
 * language.ts — the language client (diagnostics, completion, hover, previews).
 * training.ts — Launch/Stop, the training monitor, GPU setup.
 * authoring.ts — dataset commands: convert, split, remove duplicates, filter/fix, add a conversation.
 */
import type * as vscode from 'vscode';
import * as language from './language';
import * as training from './training';
import * as authoring from './authoring';

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  await language.register(context);
  training.register(context);
  authoring.register(context);
}

export async function deactivate(): Promise<void> {
  await language.dispose();
}
