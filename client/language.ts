import type * as vscode from 'vscode';

export async function register(_context: vscode.ExtensionContext): Promise<void> {}

export async function dispose(): Promise<void> {}
