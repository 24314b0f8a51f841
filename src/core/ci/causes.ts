/**
 * The knowledge base of CI failure causes (as Jenkins' Build Failure Analyzer keeps one): each
 * cause is a pattern over one log line with the category, tool and fix it stands for. The causes
 * are data (data/ci-causes.yml plus the project's `ci.causes`); this file only compiles them.
 */
export const FAILURE_CATEGORIES = [
  'type-error', 'lint', 'format', 'test-failure', 'import-error', 'test-timeout', 'job-timeout', 'coverage-drop',
  'dependency-install', 'network-flake', 'out-of-memory', 'disk-full', 'build-error', 'runner-lost',
] as const;
export type FailureCategory = (typeof FAILURE_CATEGORIES)[number];
/** `unknown`: a step failed and no cause explains it; never reported as `none`. */
export type Category = FailureCategory | 'flaky' | 'none' | 'unknown';

/**
 * error: the line names a failure and may be the first error a person reads.
 * evidence: names a failure (sets the category, tests, files) but is a summary, read only when no error line exists.
 * detail: adds files or tests only when its category is otherwise present (an eslint warning, a stack frame).
 * pass: a test that passed (for flaky detection).
 */
export type CauseRole = 'error' | 'evidence' | 'detail' | 'pass';

export interface CauseSpec {
  id: string;
  /** A JavaScript regular expression over one log line (timestamps and colours removed). Named groups: file, line, test, code. */
  pattern: string;
  flags?: string | undefined;
  category: FailureCategory;
  tool?: string | undefined;
  hint?: string | undefined;
  role?: CauseRole | undefined;
  /**
   * Literal strings one of which every matching line contains; they let triage skip the other lines unread. Derived from the
   * pattern when absent. A keyword ending in `\d` stands for the ten keywords ending in a digit (`.py:\d`: a location, not a pytest id `.py::`).
   */
  keywords?: string[] | undefined;
  /** next-line: the line a person should read is the one after the match (vitest's `FAIL` header, jest's `●`); previous-line: the one before it (ruff's rule line above its ` --> file` line). */
  firstError?: 'line' | 'next-line' | 'previous-line' | undefined;
  /** A pattern for a header line above the match naming the file (eslint's stylish output); group `file`. */
  fileFrom?: string | undefined;
  /** A pattern the output line before the match must match, else the cause does not apply (ruff's `-->` line under a rule code or under `unformatted:`). */
  previousLine?: string | undefined;
  /** A suite reported as failed only because a test inside it failed (node --test): forget the last test recorded. */
  dropsLastTest?: boolean | undefined;
}

export interface Cause {
  id: string;
  regex: RegExp;
  category: FailureCategory;
  tool: string | null;
  hint: string | null;
  role: CauseRole;
  /** Empty: the pattern has no literal to look for, so every line must be read. */
  keywords: string[];
  firstError: 'line' | 'next-line' | 'previous-line';
  fileFrom: RegExp | null;
  previousLine: RegExp | null;
  dropsLastTest: boolean;
  /** Where the cause came from, for error messages: `data/ci-causes.yml#3` or `shipgate.yml: ci.causes[0]`. */
  source: string;
}

export class CauseError extends Error {
  constructor(
    message: string,
    readonly where: string,
  ) {
    super(message);
  }
}

export function compileCauses(specs: CauseSpec[], source: (index: number) => string): Cause[] {
  return specs.map((spec, i) => {
    const where = source(i);
    let regex: RegExp;
    let fileFrom: RegExp | null = null;
    let previousLine: RegExp | null = null;
    try {
      regex = new RegExp(spec.pattern, (spec.flags ?? '').replace(/[gy]/g, ''));
      if (spec.fileFrom) fileFrom = new RegExp(spec.fileFrom);
      if (spec.previousLine) previousLine = new RegExp(spec.previousLine);
    } catch (err) {
      throw new CauseError(`cause "${spec.id}" has an invalid pattern: ${(err as Error).message}`, where);
    }
    const keywords = (spec.keywords ?? deriveKeywords(spec.pattern, spec.flags ?? '')).flatMap(expandDigit);
    return {
      id: spec.id,
      regex,
      category: spec.category,
      tool: spec.tool ?? null,
      hint: spec.hint ?? null,
      role: spec.role ?? 'error',
      keywords,
      firstError: spec.firstError ?? 'line',
      fileFrom,
      previousLine,
      dropsLastTest: spec.dropsLastTest ?? false,
      source: where,
    };
  });
}

function expandDigit(keyword: string): string[] {
  return keyword.endsWith('\\d') ? [...'0123456789'].map((d) => keyword.slice(0, -2) + d) : [keyword];
}

/**
 * The longest run of plain characters a top-level match must contain, if the pattern has no
 * alternation and is case-sensitive; else none (the cause is then tried on every line).
 */
export function deriveKeywords(pattern: string, flags: string): string[] {
  if (flags.includes('i') || /(^|[^\\])\|/.test(pattern)) return [];
  let best = '';
  let run = '';
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const next = pattern[i + 1];
    if (c === '\\') {
      // An escaped punctuation character is a literal; \d, \s, \w ... are classes.
      if (next !== undefined && /[^\w]/.test(next) && depth === 0) run += next;
      else run = '';
      i++;
    } else if (c === '(' || c === '[') {
      depth++;
      run = '';
    } else if (c === ')' || c === ']') {
      depth = Math.max(0, depth - 1);
      run = '';
    } else if (depth > 0) {
      continue;
    } else if ('*?{'.includes(c)) {
      run = run.slice(0, -1); // the quantified character is optional or repeated
      if (run.length > best.length) best = run;
      run = '';
      if (c === '{') i = Math.max(i, pattern.indexOf('}', i));
    } else if ('^$.+|'.includes(c)) {
      if (c === '+' && run.length > best.length) best = run;
      run = c === '+' ? run.slice(-1) : '';
    } else run += c;
    if (run.length > best.length) best = run;
  }
  return best.length >= 3 ? [best] : [];
}
