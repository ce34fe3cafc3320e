/**
 * Renders training events for a person at a terminal: a cli-progress bar (epoch, steps, loss, lr, tokens/s, ETA)
 * on a TTY, torchtune-style `Step N | loss:… lr:…` lines otherwise. Logs and errors go to stderr above the bar.
 */
import { SingleBar } from 'cli-progress';
import type { TrainingEvent } from '../events';

type Ev<T extends TrainingEvent['type']> = Extract<TrainingEvent, { type: T }>;

/** How log lines, errors and the outcome are worded; the CLI supplies its own (colours, compiler-style findings). */
export interface TerminalLines {
  log(e: Ev<'log'>): string;
  error(e: Ev<'error'>): string;
  end(e: Ev<'end'>): string;
}

const PLAIN_LINES: TerminalLines = {
  log: (e) => `${e.level}: ${e.message}`,
  error: (e) => `error: ${e.message}`,
  // A failure with no completed step happened while preparing (config, data, checkpoint), not "at step 0".
  end: (e) => (e.status === 'failed' && e.step === 0 ? 'training failed before the first step' : e.status === 'failed' ? `training failed after step ${e.step}` : `training ${e.status} at step ${e.step}`),
};

export function terminalRenderer(stream: NodeJS.WriteStream = process.stderr, lines: Partial<TerminalLines> = {}): (e: TrainingEvent) => void {
  const fmt: TerminalLines = { ...PLAIN_LINES, ...lines };
  const tty = stream.isTTY === true;
  let bar: SingleBar | null = null;
  let epochs = 1;
  const say = (line: string) => {
    if (bar && tty) {
      stream.write('\r\x1b[2K' + line + '\n');
      bar.render();
    } else stream.write(line + '\n');
  };
  return (e) => {
    switch (e.type) {
      case 'start':
        epochs = e.epochs;
        // A framework's run (TRL, Axolotl, LLaMA-Factory) says its step count only once its bar is drawn.
        say(e.stepsPerEpoch > 0 ? `training ${e.totalSteps} steps (${e.stepsPerEpoch} per epoch × ${e.epochs}) on ${e.device}; output in ${e.outputDir}` : `training with ${e.backend}; output in ${e.outputDir}`);
        if (tty) {
          bar = new SingleBar({
            stream,
            format: 'epoch {ep}/{epochs} |{bar}| {value}/{total} steps | loss {loss} | lr {lr} | {tps} tok/s | ETA {eta_formatted}',
            hideCursor: true,
            etaBuffer: 20,
          });
          bar.start(e.totalSteps, 0, { ep: 1, epochs, loss: '-', lr: '-', tps: '-' });
        }
        break;
      case 'step':
        if (bar) bar.update(e.step, { ep: e.epoch + 1, epochs, loss: e.loss.toFixed(4), lr: e.lr.toExponential(2), tps: e.tokensPerSecond?.toFixed(0) ?? '-' });
        else say(`Step ${e.step} | epoch:${e.epoch + 1} loss:${e.loss} lr:${e.lr} tokens_per_second:${e.tokensPerSecond?.toFixed(1) ?? '-'}${e.gradNorm !== undefined ? ` grad_norm:${e.gradNorm}` : ''}`);
        break;
      case 'progress':
        if (bar && e.totalSteps > bar.getTotal()) bar.setTotal(e.totalSteps);
        if (bar) bar.update(e.step, { ep: e.epoch + 1 });
        break;
      case 'checkpoint':
        say(`checkpoint (${e.kind}) saved to ${e.path}`);
        break;
      case 'log':
        say(fmt.log(e));
        break;
      case 'error':
        say(fmt.error(e));
        break;
      case 'end':
        bar?.stop();
        bar = null;
        // An outcome the error above already told (nothing trained) may be left unsaid.
        if (fmt.end(e) !== '') stream.write(`${fmt.end(e)}\n`);
        break;
    }
  };
}
