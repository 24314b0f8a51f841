import type { Cause } from './causes.js';
import { KeywordSearch } from './keyword-search.js';
import { parseLogLine, type LogFormat } from './log-line.js';
import { LogTail } from './log-tail.js';

/** One line a cause matched. */
export interface CauseMatch {
  cause: Cause;
  text: string;
  /** The step the line belongs to; null in plain logs. */
  step: string | null;
  /** For `firstError: next-line` causes: the line after the match, once read. */
  followingText?: string;
  /** For `firstError: previous-line` causes: the output line before the match. */
  precedingText?: string;
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
/** Passed tests kept from one log; past this, pass lines are no longer looked for (JUnit reports have no such limit). */
const MAX_PASSED = 5_000;
/** A line longer than this (a minified bundle, a base64 blob) is cut before it is matched. */
const MAX_LINE = 64 * 1024;
const FORMAT_PROBE_LINES = 20;
const HEADER_LOOKBACK_LINES = 200;
/** The tail of the log already scanned that is kept for looking back across a chunk boundary (a file header above, the line before). */
const CONTEXT_BYTES = 64 * 1024;

/**
 * Reads a log in chunks with memory that does not grow with the log: a chunk is searched for the
 * causes' keywords at once, and only lines holding one (plus the few GitHub markers) are decoded
 * and matched. Lines are complete across chunk boundaries.
 */
export class LogScanner {
  private prefilter: KeywordSearch;
  /** Per keyword of the prefilter (past the two markers), the index of the cause it belongs to. */
  private keywordCause: Int32Array = new Int32Array(0);
  /** Per keyword of the prefilter, whether the current line holds it; per cause, whether it may match (both reused for every line). */
  private keywordMarks: Uint8Array = new Uint8Array(0);
  private candidateMarks: Uint8Array = new Uint8Array(0);
  private lineStart = 0;
  private lineEnd = 0;
  private lineBuf: Buffer = Buffer.alloc(0);
  private readonly everyLine: boolean;
  private carry: Buffer = Buffer.alloc(0);
  private readonly tail = new LogTail(CONTEXT_BYTES);
  private probed = 0;
  private format: LogFormat | null = null;
  private step: string | null = null;
  private script: StepScript | null = null;
  private scriptDone = false;
  private pendingNext: CauseMatch | null = null;
  private readonly facts: LogFacts = {
    format: 'plain', matches: [], passedTests: [], errorMarkers: [], failedStep: null, exitCode: null, steps: [], lastLineBeforeFailure: null, lines: 0,
  };

  constructor(private causes: Cause[]) {
    this.everyLine = causes.some((c) => c.keywords.length === 0);
    this.prefilter = this.buildPrefilter();
  }

  /**
   * '##[' (index 0), ESC (index 1: a coloured line's keywords may be split by colour codes, so it
   * is matched again without them) and every cause's keywords; remembers which causes each keyword stands for.
   */
  private buildPrefilter(): KeywordSearch {
    const words: string[] = ['##[', '\x1b'];
    const owners: number[] = [-1, -1];
    this.causes.forEach((cause, i) => {
      for (const k of cause.keywords) {
        words.push(k);
        owners.push(i);
      }
    });
    this.keywordCause = Int32Array.from(owners);
    this.keywordMarks = new Uint8Array(words.length);
    this.candidateMarks = new Uint8Array(this.causes.length);
    return new KeywordSearch(words);
  }

  push(chunk: Buffer): void {
    let from = 0;
    if (this.carry.length) {
      // Only the line cut by the previous chunk is copied; the rest of the chunk is read in place.
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        const joined = Buffer.concat([this.carry, chunk]);
        this.carry = joined.length > MAX_LINE ? (this.scan(joined, joined.length), Buffer.alloc(0)) : joined;
        return;
      }
      const joined = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
      this.carry = Buffer.alloc(0);
      this.scan(joined, joined.length);
      from = nl + 1;
    }
    const last = chunk.lastIndexOf(10);
    if (last < from) {
      this.carry = Buffer.from(chunk.subarray(from));
      return;
    }
    this.scan(chunk.subarray(from), last + 1 - from);
    this.carry = Buffer.from(chunk.subarray(last + 1));
  }

  end(): LogFacts {
    if (this.carry.length) this.scan(Buffer.concat([this.carry, Buffer.from('\n')]), this.carry.length + 1);
    this.carry = Buffer.alloc(0);
    this.facts.format = this.format ?? 'plain';
    return this.facts;
  }

  /** Scans buf[0, end), which ends at a line boundary. */
  private scan(buf: Buffer, end: number): void {
    this.scanLines(buf, end);
    this.tail.keep(buf, end);
  }

  private scanLines(buf: Buffer, end: number): void {
    let pos = 0;
    while (pos < end) {
      if (this.readsEveryLine()) {
        const nl = buf.indexOf(10, pos);
        const lineEnd = nl < 0 || nl >= end ? end : nl;
        this.facts.lines++;
        this.onLine(buf, pos, lineEnd);
        pos = lineEnd + 1;
        continue;
      }
      const hit = this.prefilter.find(buf, pos, end);
      if (hit < 0) break;
      const lineStart = hit === 0 ? 0 : buf.lastIndexOf(10, hit) + 1;
      const nl = buf.indexOf(10, hit);
      const lineEnd = nl < 0 || nl >= end ? end : nl;
      this.onLine(buf, Math.max(lineStart, pos), lineEnd);
      pos = lineEnd + 1;
    }
  }

  private readsEveryLine(): boolean {
    return this.everyLine || this.probed < FORMAT_PROBE_LINES || this.script !== null || this.pendingNext !== null;
  }

  private decode(buf: Buffer, start: number, end: number): string {
    return buf.toString('utf8', start, Math.min(end, start + MAX_LINE));
  }

  private onLine(buf: Buffer, start: number, end: number): void {
    this.lineBuf = buf;
    this.lineStart = start;
    this.lineEnd = end;
    const line = parseLogLine(this.decode(buf, start, end));
    if (this.probed < FORMAT_PROBE_LINES && line.text.trim() !== '') {
      this.probed++;
      if (this.format === null && line.format !== 'plain') this.format = line.format;
      if (this.probed === FORMAT_PROBE_LINES) this.format ??= 'plain';
    }
    if (line.step !== null) this.step = line.step;
    const text = line.text;

    if (text.startsWith('##[')) return this.onMarker(buf, start, text, line.step);
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
    this.matchCauses(buf, start, text);
  }

  private onMarker(buf: Buffer, start: number, text: string, lineStep: string | null): void {
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
      this.facts.lastLineBeforeFailure = this.previousOutputLine(buf, start);
    }
    this.matchCauses(buf, start, message);
  }

  private matchCauses(buf: Buffer, start: number, untrimmed: string): void {
    const text = untrimmed.trim();
    const marks = this.keywordMarks;
    const candidates = this.candidateMarks;
    marks.fill(0);
    candidates.fill(0);
    for (const k of this.prefilter.markIn(this.lineBuf, this.lineStart, Math.min(this.lineEnd, this.lineStart + MAX_LINE), marks)) if (k >= 2) candidates[this.keywordCause[k]!] = 1;
    if (marks[1] === 1) this.causes.forEach((cause, i) => cause.keywords.some((k) => text.includes(k)) && (candidates[i] = 1));
    for (let i = 0; i < this.causes.length; i++) {
      const cause = this.causes[i]!;
      if (cause.keywords.length && candidates[i] === 0) continue;
      const m = cause.regex.exec(text);
      if (!m) continue;
      let above: string | null = null;
      if (cause.previousLine || cause.firstError === 'previous-line') {
        above = this.previousOutputLine(buf, start);
        if (cause.previousLine && (above === null || !cause.previousLine.test(above))) continue;
      }
      this.record(cause, m, text, buf, start, above);
      return;
    }
  }

  private record(cause: Cause, m: RegExpExecArray, text: string, buf: Buffer, start: number, above: string | null): void {
    const g = m.groups ?? {};
    if (cause.role === 'pass') {
      if (g.test && this.facts.passedTests.length < MAX_PASSED) this.facts.passedTests.push(g.test.trim());
      if (this.facts.passedTests.length === MAX_PASSED && this.causes.some((c) => c.role === 'pass')) {
        this.causes = this.causes.filter((c) => c.role !== 'pass');
        this.prefilter = this.buildPrefilter();
      }
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
    if (!file && cause.fileFrom) file = this.headerAbove(buf, start, cause.fileFrom);
    const match: CauseMatch = { cause, text, step: this.step };
    if (file) match.file = g.line ? `${file}:${g.line}` : file;
    if (g.test) match.test = g.test.trim();
    this.facts.matches.push(match);
    if (cause.firstError === 'next-line') this.pendingNext = match;
    if (cause.firstError === 'previous-line' && above !== null) match.precedingText = above;
  }

  /** The nearest line above `start` that `header` matches, for its `file` group. */
  private headerAbove(buf: Buffer, start: number, header: RegExp): string | undefined {
    let n = 0;
    for (const text of this.linesAbove(buf, start)) {
      if (n++ >= HEADER_LOOKBACK_LINES) break;
      const m = header.exec(text);
      if (m) return (m.groups?.file ?? m[0]).trim();
    }
    return undefined;
  }

  private previousOutputLine(buf: Buffer, start: number): string | null {
    let n = 0;
    for (const text of this.linesAbove(buf, start)) {
      if (n++ >= 50) break;
      if (text !== '' && !text.startsWith('##[')) return text;
    }
    return null;
  }

  /** The lines above buf[start] nearest first (timestamps and colours removed, trimmed): in this buffer, then in the kept tail before it. */
  private *linesAbove(buf: Buffer, start: number): Generator<string> {
    for (const raw of this.tail.linesAbove(buf, start)) yield parseLogLine(this.decode(raw, 0, raw.length)).text.trim();
  }

}

