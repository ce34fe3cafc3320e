/**
 * Dataset authoring commands (Fine-tune: Convert / Split / Remove Duplicates / Filter or Fix / Add Conversation).
 * The transformations are core/authoring's, the same as `ftune convert|split|dedupe|filter`; this module only
 * asks, previews and writes. Every command writes a new file beside the dataset and opens it: the original is
 * never changed (except Add Conversation, an ordinary edit in the open editor, undoable).
 */
import { basename } from 'node:path';
import * as vscode from 'vscode';
import { conversationInsertion } from '../core/authoring/addConversation';
import { DATASET_STYLES, DEFAULT_COLUMN, type DatasetStyle } from '../core/authoring/conversation';
import { convertRecords } from '../core/authoring/convert';
import { dedupeRecords } from '../core/authoring/dedupe';
import { filterRecords } from '../core/authoring/filter';
import { detectLayout } from '../core/authoring/layout';
import { layoutOfReader, measurer } from '../core/authoring/measure';
import { type DatasetRecords, type UnreadableSample, datasetText, freeDerivedPath, recordsOfText, unreadableMessage, writeNewDataset } from '../core/authoring/records';
import { splitRecords } from '../core/authoring/split';
import { readerForFile } from '../core/data/setup';
import { DatasetText } from '../core/data/source';
import { plural } from '../core/text';

const STYLE_NAMES: Record<DatasetStyle, string> = { sharegpt: 'ShareGPT (from/value)', openai: 'OpenAI messages (role/content)', alpaca: 'Alpaca (instruction/input/output)' };

class Refusal extends Error {}

/** The dataset to work on: the command's argument (Explorer), else the active editor's, with its current text. */
async function target(arg: unknown): Promise<{ doc: vscode.TextDocument; input: DatasetRecords }> {
  const uri = arg instanceof vscode.Uri ? arg : vscode.window.activeTextEditor?.document.uri;
  if (!uri || uri.scheme !== 'file' || !/\.(jsonl?|ndjson)$/i.test(uri.fsPath)) throw new Refusal('Open a chat dataset (.json or .jsonl) first.');
  const doc = await vscode.workspace.openTextDocument(uri);
  const input = recordsOfText(uri.fsPath, doc.getText());
  if (input.fileProblems.length > 0) throw new Refusal(`${input.fileProblems[0]} — fix the file first.`);
  return { doc, input };
}

async function writeAndOpen(path: string, text: string): Promise<void> {
  writeNewDataset(path, text);
  await vscode.window.showTextDocument(vscode.Uri.file(path), { preview: false });
}

function report(out: vscode.OutputChannel, file: string, lines: readonly { line: number; message: string }[]): void {
  if (lines.length === 0) return;
  out.appendLine(`${file}:`);
  for (const l of lines) out.appendLine(`  line ${l.line}: ${l.message}`);
}

/** Unreadable samples, left out by every operation, listed in Output; the sentence that says so, or ''. */
function reportUnreadable(out: vscode.OutputChannel, file: string, left: readonly UnreadableSample[]): string {
  report(out, file, left.map((u) => ({ line: u.line, message: unreadableMessage(u) })));
  return left.length > 0 ? ` ${plural(left.length, 'unreadable sample')} left out (see Output).` : '';
}

async function convert(arg: unknown, out: vscode.OutputChannel): Promise<void> {
  const { doc, input } = await target(arg);
  const detected = detectLayout(input.records);
  if (!detected.ok) throw new Refusal(`${basename(doc.fileName)}: ${detected.problem}.`);
  const pick = await vscode.window.showQuickPick(
    DATASET_STYLES.filter((s) => s !== detected.layout.style).map((s) => ({ label: STYLE_NAMES[s], style: s })),
    { placeHolder: `Convert ${basename(doc.fileName)} (${detected.description}) to…` },
  );
  if (!pick) return;
  const to = pick.style === 'alpaca' ? { style: pick.style } : { style: pick.style, column: DEFAULT_COLUMN[pick.style] };
  const r = convertRecords(input.records, detected.layout, to, input.format);
  report(out, doc.fileName, r.skipped.map((s) => ({ line: s.line, message: `sample ${s.index + 1} left out: ${s.problem}` })));
  if (r.samples.length === 0) throw new Refusal(`No sample of ${basename(doc.fileName)} can be written as ${pick.label}${r.skipped[0] ? `: ${r.skipped[0].problem}` : ''}.`);
  // The preview: the first converted samples in an unsaved editor beside, then the choice to write the file.
  const preview = await vscode.workspace.openTextDocument({ language: input.format === 'jsonl' ? 'jsonl' : 'json', content: datasetText(input.format, r.samples.slice(0, 20)) });
  await vscode.window.showTextDocument(preview, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
  const path = freeDerivedPath(doc.fileName, pick.style);
  const left = r.skipped.length > 0 ? ` ${r.skipped.length} cannot be converted (see Output).` : '';
  const choice = await vscode.window.showInformationMessage(`Preview of the first samples beside. Write ${plural(r.samples.length, 'sample')} to ${basename(path)}?${left}`, 'Write', 'Show Output');
  if (choice === 'Show Output') out.show(true);
  if (choice === 'Write') await writeAndOpen(path, datasetText(input.format, r.samples));
}

async function split(arg: unknown, out: vscode.OutputChannel): Promise<void> {
  const { doc, input } = await target(arg);
  const readable = input.records.filter((r) => r.problem === undefined).length;
  const unreadable = input.records.length - readable;
  const size = await vscode.window.showInputBox({
    prompt: `Validation part of ${plural(readable, 'sample')}${unreadable ? ` (${unreadable} unreadable left out)` : ''}: a share (0.1 = 10%) or a count`,
    value: '0.1',
    validateInput: (v) => {
      try {
        splitRecords(input.records, { validation: Number(v), seed: 0 });
        return undefined;
      } catch (e) {
        return (e as Error).message;
      }
    },
  });
  if (size === undefined) return;
  const parts = splitRecords(input.records, { validation: Number(size), seed: 0 });
  const left = reportUnreadable(out, doc.fileName, parts.unreadable);
  const train = freeDerivedPath(doc.fileName, 'train');
  const validation = freeDerivedPath(doc.fileName, 'validation');
  writeNewDataset(validation, datasetText(input.format, parts.validation.map((r) => r.raw)));
  await writeAndOpen(train, datasetText(input.format, parts.train.map((r) => r.raw)));
  void vscode.window.showInformationMessage(`${basename(train)}: ${plural(parts.train.length, 'sample')}; ${basename(validation)}: ${plural(parts.validation.length, 'sample')} (seed 0).${left}`);
}

async function dedupe(arg: unknown, out: vscode.OutputChannel): Promise<void> {
  const { doc, input } = await target(arg);
  const layout = detectLayout(input.records);
  if (!layout.ok) throw new Refusal(`${basename(doc.fileName)}: ${layout.problem}.`);
  const r = dedupeRecords(input.records, layout.layout);
  const left = reportUnreadable(out, doc.fileName, r.unreadable);
  if (r.removed.length === 0) {
    void vscode.window.showInformationMessage(`${basename(doc.fileName)} has no duplicate conversations.${left}`);
    return;
  }
  report(out, doc.fileName, r.removed.map((d) => ({ line: d.line, message: `sample ${d.index + 1} removed: the same conversation as line ${d.firstLine}` })));
  const path = freeDerivedPath(doc.fileName, 'dedup');
  await writeAndOpen(path, datasetText(input.format, r.kept.map((k) => k.raw)));
  void vscode.window.showInformationMessage(`${basename(path)}: ${plural(r.kept.length, 'sample')}, ${plural(r.removed.length, 'duplicate')} removed (listed in Output).${left}`);
}

/** The config that reads this dataset: the one whose data_files name it, else the user's pick among configs. */
async function configFor(file: string): Promise<string | undefined> {
  const configs = await vscode.workspace.findFiles('**/*.{yaml,yml}', '**/node_modules/**', 200);
  const name = basename(file);
  const naming: string[] = [];
  const all: string[] = [];
  for (const c of configs) {
    const text = (await vscode.workspace.fs.readFile(c)).toString();
    if (!/_component_\s*:/.test(text)) continue;
    all.push(c.fsPath);
    if (text.includes(name)) naming.push(c.fsPath);
  }
  if (naming.length === 1) return naming[0];
  const pick = await vscode.window.showQuickPick(naming.length > 0 ? naming : all, { placeHolder: `Which recipe config's tokenizer and max_seq_len measure ${name}?` });
  return pick;
}

async function filter(arg: unknown, out: vscode.OutputChannel): Promise<void> {
  const { doc, input } = await target(arg);
  const mode = await vscode.window.showQuickPick(
    [
      { label: 'Remove', description: 'samples over max_seq_len, training nothing, or failing', mode: 'drop' as const },
      { label: 'Fix', description: 'shorten too-long conversations to the turns that fit; remove what cannot be fixed', mode: 'fix' as const },
    ],
    { placeHolder: `Filter ${basename(doc.fileName)}` },
  );
  if (!mode) return;
  const config = await configFor(doc.fileName);
  if (!config) return;
  const setup = await readerForFile(new DatasetText(doc.fileName, doc.getText()), config, []);
  const tokenizer = setup.options.tokenizer;
  if (!tokenizer) throw new Refusal(`${basename(config)} has no usable tokenizer: ${setup.notes.join(' ') || 'set tokenizer.path'}`);
  const maxSeqLen = setup.options.tokenizer?.maxSeqLen ?? null;
  const r = filterRecords(input.records, input.format, { maxSeqLen, mode: mode.mode, layout: layoutOfReader(setup.options.reader), measure: measurer(setup.options.reader, tokenizer) });
  report(out, doc.fileName, r.changes.map((c) => ({ line: c.line, message: `sample ${c.index + 1} ${c.verdict === 'fixed' ? 'shortened' : 'left out'} (${c.verdict}): ${c.detail}` })));
  if (r.changes.length === 0) {
    void vscode.window.showInformationMessage(`Every sample of ${basename(doc.fileName)} fits max_seq_len ${maxSeqLen ?? '(none)'} and trains something.`);
    return;
  }
  const path = freeDerivedPath(doc.fileName, mode.mode === 'fix' ? 'fixed' : 'filtered');
  await writeAndOpen(path, datasetText(input.format, r.samples));
  const fixed = r.changes.filter((c) => c.verdict === 'fixed').length;
  void vscode.window.showInformationMessage(`${basename(path)}: ${r.samples.length} samples; ${r.changes.length - fixed} left out${fixed ? `, ${fixed} shortened` : ''} (listed in Output).`);
}

async function addConversation(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || !/\.(jsonl?|ndjson)$/i.test(editor.document.fileName)) throw new Refusal('Open a chat dataset (.json or .jsonl) to add a conversation to.');
  const text = editor.document.getText();
  const input = recordsOfText(editor.document.fileName, text);
  const detected = detectLayout(input.records);
  // An empty file: ShareGPT, the format torchtune's chat_dataset defaults to.
  const layout = detected.ok ? detected.layout : { style: 'sharegpt' as const, column: DEFAULT_COLUMN.sharegpt };
  const ins = conversationInsertion(text, input.format, layout);
  await editor.insertSnippet(new vscode.SnippetString(ins.snippet), editor.document.positionAt(ins.offset));
}

export function register(context: vscode.ExtensionContext): void {
  const out = vscode.window.createOutputChannel('Fine-Tune Studio: Datasets');
  const guarded = (f: (arg: unknown) => Promise<void>) => async (arg: unknown) => {
    try {
      await f(arg);
    } catch (e) {
      void vscode.window.showErrorMessage(e instanceof Error ? e.message : String(e));
    }
  };
  context.subscriptions.push(
    out,
    vscode.commands.registerCommand('finetune.convertDataset', guarded((a) => convert(a, out))),
    vscode.commands.registerCommand('finetune.splitDataset', guarded((a) => split(a, out))),
    vscode.commands.registerCommand('finetune.dedupeDataset', guarded((a) => dedupe(a, out))),
    vscode.commands.registerCommand('finetune.filterDataset', guarded((a) => filter(a, out))),
    vscode.commands.registerCommand('finetune.addConversation', guarded(addConversation)),
  );
}
