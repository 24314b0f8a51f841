/**
 * The three shapes a CI log comes in, told apart line by line:
 * - github: the raw job log, `2024-05-01T10:00:00.1234567Z text` (the first line may start with a BOM);
 * - gh-log-failed: `gh run view --log-failed`, `job<TAB>step<TAB>2024-...Z text`;
 * - plain: terminal output without timestamps.
 */
export type LogFormat = 'github' | 'gh-log-failed' | 'plain';

export interface LogLine {
  format: LogFormat;
  /** The step named by the line itself (gh-log-failed only). */
  step: string | null;
  /** The line as the tool printed it: no timestamp, no colours, no trailing CR. */
  text: string;
}

const TIMESTAMP = /^\uFEFF?\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/;
const GH_FAILED = /^([^\t]*)\t([^\t]*)\t\uFEFF?(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) ?/;
// CSI sequences (colours, cursor moves) and the bare `[36;1m` GitHub leaves when ESC was dropped.
const ANSI = /\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\[\d{1,3}(?:;\d{1,3})*m/g;

export function stripAnsi(text: string): string {
  return text.includes('[') ? text.replace(ANSI, '') : text;
}

export function parseLogLine(raw: string): LogLine {
  const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.includes('\t')) {
    const m = GH_FAILED.exec(line);
    if (m) return { format: 'gh-log-failed', step: m[2]!, text: stripAnsi(line.slice(m[0].length)) };
  }
  const t = TIMESTAMP.exec(line);
  if (t) return { format: 'github', step: null, text: stripAnsi(line.slice(t[0].length)) };
  return { format: 'plain', step: null, text: stripAnsi(line.replace(/^\uFEFF/, '')) };
}
