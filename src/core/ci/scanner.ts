import type { Cause } from './causes.js';
import { parseLogLine, type LogFormat } from './log-line.js';

/** One line a cause matched. */
export interface CauseMatch {
  cause: Cause;
  text: string;
  /** The step the line belongs to; null in plain logs. */
  step: string | null;
  /** For `firstError: next-line` causes: the line after the match, once read. */
  followingText?: string;
  file?: string;
  test?: string;
}

export interface StepScript {
  name: string;
  /** The commands of a `run:` step, as the log's `##[group]Run` block echoes them. */
  script: string[];
}

export interface LogFacts {
  format: LogFormat;
  matches: CauseMatch[];
  passedTests: string[];
  /** `##[error]` lines in order, with their step. */
  errorMarkers: { step: string | null; text: string }[];
  failedStep: string | null;
  exitCode: number | null;
  steps: StepScript[];
  /** The last output line before the first `Process completed with exit code`, for failures no cause explains. */
  lastLineBeforeFailure: string | null;
  lines: number;
}

/** Enough to explain a failure; a log with more matches than this is read on but not remembered. */
const MAX_MATCHES = 2000;
const MAX_PASSED = 20_000;
/** A line longer than this (a minified bundle, a base64 blob) is cut before it is matched. */
const MAX_LINE = 64 * 1024;
const FORMAT_PROBE_LINES = 20;
const HEADER_LOOKBACK_LINES = 200;

/**
 * Reads a log in chunks with memory that does not grow with the log: a chunk is searched for the
 * causes' keywords at once, and only lines holding one (plus the few GitHub markers) are decoded
 * and matched. Lines are complete across chunk boundaries.
 */
export class LogScanner {
  private readonly prefilter: RegExp;
  private readonly everyLine: boolean;
  private carry: Buffer = Buffer.alloc(0);
  private probed = 0;
  private format: LogFormat | null = null;
  private step: string | null = null;
  private script: StepScript | null = null;
  private scriptDone = false;
  private pendingNext: CauseMatch | null = null;
  private readonly facts: LogFacts = {
    format: 'plain', matches: [], passedTests: [], errorMarkers: [], failedStep: null, exitCode: null, steps: [], lastLineBeforeFailure: null, lines: 0,
  };

  constructor(private readonly causes: Cause[]) {
    this.everyLine = causes.some((c) => c.keywords.length === 0);
    // The prefilter runs over latin1 text (one char per byte): a keyword is searched as its UTF-8 bytes.
    const words = new Set(['##[', ...causes.flatMap((c) => c.keywords)].map((k) => Buffer.from(k, 'utf8').toString('latin1')));
    this.prefilter = new RegExp([...words].map(escapeRegExp).join('|'), 'g');
  }

  push(chunk: Buffer): void {
    const buf = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const lastNewline = buf.lastIndexOf(10);
    if (lastNewline < 0) {
      this.carry = buf.length > MAX_LINE ? (this.scan(buf, buf.length), Buffer.alloc(0)) : Buffer.from(buf);
      return;
    }
    this.scan(buf, lastNewline + 1);
    this.carry = Buffer.from(buf.subarray(lastNewline + 1));
  }

  end(): LogFacts {
    if (this.carry.length) this.scan(Buffer.concat([this.carry, Buffer.from('\n')]), this.carry.length + 1);
    this.carry = Buffer.alloc(0);
    this.facts.format = this.format ?? 'plain';
    return this.facts;
  }

  /** Scans buf[0, end), which ends at a line boundary. */
  private scan(buf: Buffer, end: number): void {
    // latin1 maps each byte to one character, so string offsets are byte offsets into buf.
    const s = buf.toString('latin1', 0, end);
    let pos = 0;
    while (pos < s.length) {
      if (this.readsEveryLine()) {
        const nl = s.indexOf('\n', pos);
        const lineEnd = nl < 0 ? s.length : nl;
        this.facts.lines++;
        this.onLine(buf, s, pos, lineEnd);
        pos = lineEnd + 1;
        continue;
      }
      this.prefilter.lastIndex = pos;
      const hit = this.prefilter.exec(s);
      if (!hit) break;
      const lineStart = s.lastIndexOf('\n', hit.index) + 1;
      const nl = s.indexOf('\n', hit.index);
      const lineEnd = nl < 0 ? s.length : nl;
      this.onLine(buf, s, lineStart, lineEnd);
      pos = lineEnd + 1;
    }
  }

  private readsEveryLine(): boolean {
    return this.everyLine || this.probed < FORMAT_PROBE_LINES || this.script !== null || this.pendingNext !== null;
  }

  private decode(buf: Buffer, start: number, end: number): string {
    return buf.toString('utf8', start, Math.min(end, start + MAX_LINE));
  }

  private onLine(buf: Buffer, s: string, start: number, end: number): void {
    const line = parseLogLine(this.decode(buf, start, end));
    if (this.probed < FORMAT_PROBE_LINES && line.text.trim() !== '') {
      this.probed++;
      if (this.format === null && line.format !== 'plain') this.format = line.format;
      if (this.probed === FORMAT_PROBE_LINES) this.format ??= 'plain';
    }
    if (line.step !== null) this.step = line.step;
    const text = line.text;

    if (text.startsWith('##[')) return this.onMarker(buf, s, start, text, line.step);
    if (this.script) {
      if (this.scriptDone || text.trim() === '') return;
      if (/^shell: /.test(text)) this.scriptDone = true;
      else this.script.script.push(text.trimEnd());
      return;
    }
    if (this.pendingNext && text.trim() !== '') {
      this.pendingNext.followingText = text.trim();
      this.pendingNext = null;
    }
    this.matchCauses(buf, s, start, text);
  }

  private onMarker(buf: Buffer, s: string, start: number, text: string, lineStep: string | null): void {
    const group = /^##\[group\](.*)$/.exec(text);
    if (group) {
      if (group[1]!.startsWith('Run ')) {
        this.step = lineStep ?? group[1]!;
        this.script = { name: this.step, script: [] };
        this.scriptDone = false;
        if (!this.facts.steps.some((st) => st.name === this.step)) this.facts.steps.push(this.script);
      }
      return;
    }
    if (text.startsWith('##[endgroup]')) {
      this.script = null;
      return;
    }
    const error = /^##\[error\](.*)$/.exec(text);
    if (!error) return;
    const message = error[1]!;
    this.facts.errorMarkers.push({ step: this.step, text: message });
    this.facts.failedStep ??= this.step;
    const completed = /Process completed with exit code (\d+)/.exec(message);
    if (completed && this.facts.exitCode === null) {
      this.facts.exitCode = Number(completed[1]);
      this.facts.failedStep = this.step;
      this.facts.lastLineBeforeFailure = this.previousOutputLine(buf, s, start);
    }
    this.matchCauses(buf, s, start, message);
  }

  private matchCauses(buf: Buffer, s: string, start: number, untrimmed: string): void {
    const text = untrimmed.trim();
    for (const cause of this.causes) {
      if (cause.keywords.length && !cause.keywords.some((k) => text.includes(k))) continue;
      const m = cause.regex.exec(text);
      if (!m) continue;
      this.record(cause, m, text, buf, s, start);
      return;
    }
  }

  private record(cause: Cause, m: RegExpExecArray, text: string, buf: Buffer, s: string, start: number): void {
    const g = m.groups ?? {};
    if (cause.role === 'pass') {
      if (g.test && this.facts.passedTests.length < MAX_PASSED) this.facts.passedTests.push(g.test.trim());
      return;
    }
    if (cause.dropsLastTest) {
      for (let i = this.facts.matches.length - 1; i >= 0; i--) {
        const earlier = this.facts.matches[i]!;
        if (earlier.test !== undefined) {
          delete earlier.test;
          break;
        }
      }
      return;
    }
    if (this.facts.matches.length >= MAX_MATCHES) return;
    let file = g.file?.trim();
    if (!file && cause.fileFrom) file = this.headerAbove(buf, s, start, cause.fileFrom);
    const match: CauseMatch = { cause, text, step: this.step };
    if (file) match.file = g.line ? `${file}:${g.line}` : file;
    if (g.test) match.test = g.test.trim();
    this.facts.matches.push(match);
    if (cause.firstError === 'next-line') this.pendingNext = match;
  }

  /** The nearest line above `start` (in this chunk) that `header` matches, for its `file` group. */
  private headerAbove(buf: Buffer, s: string, start: number, header: RegExp): string | undefined {
    let end = start - 1;
    for (let n = 0; n < HEADER_LOOKBACK_LINES && end > 0; n++) {
      const begin = s.lastIndexOf('\n', end - 1) + 1;
      const text = parseLogLine(this.decode(buf, begin, end)).text.trim();
      const m = header.exec(text);
      if (m) return (m.groups?.file ?? m[0]).trim();
      end = begin - 1;
    }
    return undefined;
  }

  private previousOutputLine(buf: Buffer, s: string, start: number): string | null {
    let end = start - 1;
    for (let n = 0; n < 50 && end > 0; n++) {
      const begin = s.lastIndexOf('\n', end - 1) + 1;
      const text = parseLogLine(this.decode(buf, begin, end)).text.trim();
      if (text !== '' && !text.startsWith('##[')) return text;
      end = begin - 1;
    }
    return null;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
