/**
 * Terminal presentation shared by every command: colour only on a terminal (NO_COLOR turns it off, FORCE_COLOR
 * on), and one way to print a finding so the severity is said once.
 */
export function colorWanted(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

const SGR = { red: '31', yellow: '33', green: '32', cyan: '36', grey: '90', bold: '1' } as const;
export type Tone = keyof typeof SGR;

export interface Painter {
  (tone: Tone, text: string): string;
  readonly enabled: boolean;
}

export function painter(stream: NodeJS.WriteStream = process.stdout): Painter {
  const enabled = colorWanted(stream);
  const paint = (tone: Tone, text: string): string => (enabled && text !== '' ? `\u001b[${SGR[tone]}m${text}\u001b[0m` : text);
  return Object.assign(paint, { enabled });
}

const SEVERITY_TONE: Record<string, Tone> = { error: 'red', warning: 'yellow', info: 'cyan', information: 'cyan', hint: 'grey', note: 'cyan' };

/**
 * `where: severity: message`, with the severity coloured. A message that already starts with its severity
 * (`warning: …`, as some log lines do) is not given a second one.
 */
export function finding(paint: Painter, where: string, severity: string, message: string): string {
  const again = new RegExp(`^${severity}\\s*:\\s*`, 'i');
  const text = message.replace(again, '');
  return `${where ? `${where}: ` : ''}${paint(SEVERITY_TONE[severity] ?? 'bold', severity)}: ${text}`;
}

/** A line already worded `where: severity: message` (core's file problems, notes), with its severity coloured. */
export function paintFindingLine(paint: Painter, line: string): string {
  const m = /^(.*?): (error|warning|note|information): ([\s\S]*)$/.exec(line);
  return m ? finding(paint, m[1], m[2], m[3]) : line;
}
