// Selecting samples with PromQL-style label matchers and summarising them the way
// Prometheus would, so a gate configured from a dashboard query gives the same answer.
import type { Sample } from './exposition.js';
import type { Bucket } from '../../core/analysis/histogram.js';

// The histogram arithmetic is pure domain logic and lives in core; re-exported for adapters' callers.
export { bucketQuantile, countAbove, counterDelta, diffBuckets, type Bucket } from '../../core/analysis/histogram.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}

// Gates re-evaluate the same few matchers every second; compiling once per pattern keeps
// that free. The cap only guards against a caller that builds patterns dynamically.
const REGEX_CACHE_LIMIT = 1024;
const regexCache = new Map<string, RegExp>();

function compileRegex(pattern: string): RegExp {
  let re = regexCache.get(pattern);
  if (re !== undefined) return re;
  // Prometheus compiles `^(?s:pattern)$`, so `.` also matches a newline. Node 20 has no
  // inline flag groups, so a leading `(?i)`, the one RE2 flag people use in selectors,
  // becomes the JS flag.
  let source = pattern;
  let flags = 's';
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    flags += 'i';
  }
  // Compiled alone first: 'a)|(b' would otherwise slip out of the anchoring group.
  new RegExp(source, flags);
  re = new RegExp(`^(?:${source})$`, flags);
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

const isBlank = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\r';
const isLabelStart = (c: string | undefined): boolean => c !== undefined && /[A-Za-z_]/.test(c);
const isLabelChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_]/.test(c);

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
  '"': '"',
  "'": "'",
};

/**
 * Parses the body of a PromQL selector, e.g. `code=~"5..",service="gateway"`, optionally
 * wrapped in `{...}`. Values are PromQL string literals: "double" or 'single' quoted with
 * Go escapes, or `raw`. An empty body selects everything.
 */
export function parseMatchers(text: string): LabelMatcher[] {
  let p = 0;
  let end = text.length;
  const fail = (at: number, reason: string): never => {
    throw new Error(`invalid label matchers ${JSON.stringify(text)} at column ${at + 1}: ${reason}`);
  };
  const found = (at: number): string => (at >= end ? 'end of input' : JSON.stringify(text[at]));
  const skip = (): void => {
    while (p < end && isBlank(text[p])) p++;
  };

  skip();
  while (end > p && isBlank(text[end - 1])) end--;
  if (text[p] === '{') {
    if (text[end - 1] !== '}' || end - 1 === p) fail(end, "missing '}' to close the selector");
    p++;
    end--;
  }

  const matchers: LabelMatcher[] = [];
  for (;;) {
    skip();
    if (p === end) break;
    const nameStart = p;
    if (!isLabelStart(text[p])) fail(p, `expected a label name, found ${found(p)}`);
    while (p < end && isLabelChar(text[p])) p++;
    const label = text.slice(nameStart, p);

    skip();
    const opStart = p;
    let op: MatchOp;
    const two = text.slice(p, Math.min(p + 2, end));
    if (two === '=~' || two === '!=' || two === '!~') {
      op = two;
      p += 2;
    } else if (text[p] === '=') {
      op = '=';
      p++;
    } else {
      return fail(opStart, `expected one of =, !=, =~, !~ after label "${label}", found ${found(p)}`);
    }

    skip();
    const value = readString();
    if (op === '=~' || op === '!~') {
      try {
        compileRegex(value);
      } catch (err) {
        fail(opStart, `invalid regular expression ${JSON.stringify(value)} for label "${label}": ${(err as Error).message}`);
      }
    }
    matchers.push({ label, op, value });

    skip();
    if (p === end) break;
    if (text[p] !== ',') fail(p, `expected ',' between matchers, found ${found(p)}`);
    p++;
  }
  return matchers;

  function readString(): string {
    const open = p;
    const quote = text[p];
    if (quote !== '"' && quote !== "'" && quote !== '`') return fail(p, `expected a quoted value, found ${found(p)}`);
    p++;
    let out = '';
    for (;;) {
      if (p >= end) return fail(open, 'unterminated string');
      const c = text[p] as string;
      if (c === quote) {
        p++;
        return out;
      }
      if (c === '\\' && quote !== '`') {
        const escape = text[p + 1] ?? '';
        const simple = SIMPLE_ESCAPES[escape];
        if (simple !== undefined) {
          out += simple;
          p += 2;
          continue;
        }
        const digits = escape === 'x' ? 2 : escape === 'u' ? 4 : escape === 'U' ? 8 : 0;
        const hex = text.slice(p + 2, Math.min(p + 2 + digits, end));
        if (digits > 0 && hex.length === digits && /^[0-9a-fA-F]+$/.test(hex)) {
          const code = Number.parseInt(hex, 16);
          if (code > 0x10ffff) return fail(p, `escape sequence \\${escape}${hex} is not a valid code point`);
          out += String.fromCodePoint(code);
          p += 2 + digits;
          continue;
        }
        const octal = text.slice(p + 1, Math.min(p + 4, end));
        if (/^[0-7]{3}$/.test(octal) && Number.parseInt(octal, 8) <= 255) {
          out += String.fromCharCode(Number.parseInt(octal, 8));
          p += 4;
          continue;
        }
        return fail(p, `unknown escape sequence \\${escape}`);
      }
      out += c;
      p++;
    }
  }
}

/** A missing label matches as "", as in PromQL. */
export function matches(labels: Record<string, string>, matchers: LabelMatcher[]): boolean {
  for (const m of matchers) {
    // hasOwn, not `in` or `??`: a label called "constructor" must not find Object's.
    const actual = Object.hasOwn(labels, m.label) ? (labels[m.label] ?? '') : '';
    switch (m.op) {
      case '=':
        if (actual !== m.value) return false;
        break;
      case '!=':
        if (actual === m.value) return false;
        break;
      case '=~':
        if (!compileRegex(m.value).test(actual)) return false;
        break;
      case '!~':
        if (compileRegex(m.value).test(actual)) return false;
        break;
      default:
        throw new Error(`unknown label match operator ${JSON.stringify(m.op as string)}`);
    }
  }
  return true;
}

/** Sum of every matching sample; undefined when none matched, so "no data" never reads as 0. */
export function sumSamples(samples: Sample[], name: string, matchers: LabelMatcher[] = []): number | undefined {
  let sum: number | undefined;
  for (const s of samples) {
    if (s.name === name && matches(s.labels, matchers)) sum = (sum ?? 0) + s.value;
  }
  return sum;
}

function parseBound(le: string): number | undefined {
  const lower = le.toLowerCase();
  if (lower === '+inf' || lower === 'inf' || lower === '+infinity' || lower === 'infinity') return Infinity;
  if (lower === '-inf' || lower === '-infinity') return -Infinity;
  if (le.trim() === '') return undefined;
  const n = Number(le);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * The `${name}_bucket` series that match, summed per bound like `sum by (le)`. Series with
 * no parseable `le` are skipped, as histogram_quantile does. Bounds are merged by numeric
 * value, so "0.1" and "0.10" from two clients land in one bucket.
 */
export function histogramBuckets(samples: Sample[], name: string, matchers: LabelMatcher[] = []): Bucket[] | undefined {
  const bucketName = `${name}_bucket`;
  const counts = new Map<number, number>();
  for (const s of samples) {
    if (s.name !== bucketName || !Object.hasOwn(s.labels, 'le') || !matches(s.labels, matchers)) continue;
    const le = parseBound(s.labels.le ?? '');
    if (le === undefined) continue;
    counts.set(le, (counts.get(le) ?? 0) + s.value);
  }
  if (counts.size === 0) return undefined;
  return [...counts].map(([le, count]) => ({ le, count })).sort((a, b) => a.le - b.le);
}


/** What a selector finds among the samples of one metric: the facts behind "no data" and "0". */
export interface SeriesDescription {
  metric: string;
  /** Series of the metric whatever their labels (for a histogram, its `_bucket` series). */
  seriesOfMetric: number;
  /** Series the matchers select. */
  seriesMatched: number;
  /** Label names the metric's series carry (`le` and `__name__` left out), sorted. */
  labelsSeen: string[];
  /** A matcher that names a label no series carries (and so can never match): a configuration problem. */
  mismatch?: string;
  /** With `mismatch`: that label. */
  absentLabel?: string;
  /** The values each label named by a matcher takes among the metric's series, sorted. */
  valuesSeen?: Record<string, string[]>;
  /** With no series: whether the source knows the metric at all ('declared': a family with no samples yet; 'absent': never seen). */
  family?: 'declared' | 'absent';
  /** With `family: 'absent'`: the names the source holds that are closest to the metric's. */
  suggestions?: string[];
  /** With `family: 'absent'`: how many metric names the source holds (0: the source is empty, not the name wrong). */
  namesKnown?: number;
}

/**
 * Describes how `matchers` meet the series of `metric` (or `${metric}_bucket`). A matcher on a label
 * that no series carries is a mismatch unless it also accepts the empty value (`code!="500"`), as a
 * missing label reads "" in PromQL. Used by the checks and by `config check --live` (`withValues`:
 * also the values seen of each label a matcher names).
 */
export function describeSeries(samples: Sample[], metric: string, matchers: LabelMatcher[], withValues = false): SeriesDescription {
  const names = new Set([metric, `${metric}_bucket`]);
  const labels = new Set<string>();
  let seriesOfMetric = 0;
  let seriesMatched = 0;
  // Only `config check --live` asks for the values: the checks call this every evaluation.
  const values = new Map(withValues ? matchers.map((m) => [m.label, new Set<string>()]) : []);
  for (const s of samples) {
    if (!names.has(s.name)) continue;
    seriesOfMetric += 1;
    for (const l of Object.keys(s.labels)) if (l !== 'le' && l !== '__name__') labels.add(l);
    for (const [l, seen] of values) if (Object.hasOwn(s.labels, l)) seen.add(s.labels[l]!);
    if (matches(s.labels, matchers)) seriesMatched += 1;
  }
  const valuesSeen = Object.fromEntries([...values].filter(([, seen]) => seen.size).map(([l, seen]) => [l, [...seen].sort()]));
  const labelsSeen = [...labels].sort();
  const absent = seriesOfMetric === 0 ? undefined : matchers.find((m) => !labels.has(m.label) && !matches({}, [m]));
  return {
    metric,
    seriesOfMetric,
    seriesMatched,
    labelsSeen,
    ...(Object.keys(valuesSeen).length ? { valuesSeen } : {}),
    ...(absent ? { absentLabel: absent.label, mismatch: `\`${absent.label}\` is not a label of ${metric}; it has ${labelsSeen.length ? labelsSeen.join(', ') : 'no labels'}` } : {}),
  };
}
