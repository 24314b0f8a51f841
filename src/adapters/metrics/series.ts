// Selecting samples with PromQL-style label matchers and summarising them the way
// Prometheus would, so a gate configured from a dashboard query gives the same answer.
import type { Sample } from './exposition.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  label: string;
  op: MatchOp;
  value: string;
}

/** Cumulative count of observations <= `le`. */
export interface Bucket {
  le: number;
  count: number;
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

/**
 * Prometheus' histogram_quantile on classic buckets (promql/quantile.go), with its NaN
 * results reported as undefined: no observations, fewer than two buckets, no +Inf bucket,
 * or q = NaN. q < 0 gives -Infinity and q > 1 gives +Infinity, also as Prometheus does.
 */
export function bucketQuantile(q: number, buckets: Bucket[]): number | undefined {
  if (Number.isNaN(q)) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (buckets.length === 0) return undefined;

  const sorted = buckets.map((b) => ({ le: b.le, count: b.count })).sort((a, b) => a.le - b.le);
  if (sorted[sorted.length - 1]?.le !== Infinity) return undefined;

  // Equal bounds (two series not summed beforehand) are one bucket, as in Prometheus.
  const merged: Bucket[] = [];
  for (const b of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.le === b.le) last.count += b.count;
    else merged.push(b);
  }
  // Float noise from rate()-style inputs can make counts dip by a hair; Prometheus
  // flattens relative differences up to 1e-12 before enforcing monotonicity.
  let prev = merged[0]?.count ?? 0;
  for (let i = 1; i < merged.length; i++) {
    const b = merged[i] as Bucket;
    const delta = Math.abs(b.count - prev);
    if (delta === 0) continue;
    if (delta / b.count <= 1e-12) b.count = prev;
    else prev = b.count;
  }
  let max = merged[0]?.count ?? 0;
  for (let i = 1; i < merged.length; i++) {
    const b = merged[i] as Bucket;
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }

  const n = merged.length;
  if (n < 2) return undefined;
  const observations = (merged[n - 1] as Bucket).count;
  if (observations === 0 || Number.isNaN(observations)) return undefined;
  let rank = q * observations;
  // First bucket (the +Inf one excluded) whose cumulative count reaches the rank.
  let b = 0;
  while (b < n - 1 && !((merged[b] as Bucket).count >= rank)) b++;

  if (b === n - 1) return (merged[n - 2] as Bucket).le;
  const bucket = merged[b] as Bucket;
  if (b === 0 && bucket.le <= 0) return bucket.le;
  let start = 0;
  let count = bucket.count;
  if (b > 0) {
    const below = merged[b - 1] as Bucket;
    start = below.le;
    count -= below.count;
    rank -= below.count;
  }
  const result = start + (bucket.le - start) * (rank / count);
  return Number.isNaN(result) ? undefined : result;
}

/**
 * Per-bound increase from `before` to `now`. A decrease in any bucket, or a bound that
 * `before` lacked, means the process restarted (or was redeployed with new buckets) in
 * between, and then everything in `now` is new, so `now` itself is the increase.
 */
export function diffBuckets(now: Bucket[], before: Bucket[] | undefined): Bucket[] {
  if (before === undefined) return now;
  const previous = new Map(before.map((b) => [b.le, b.count]));
  const out: Bucket[] = [];
  for (const b of now) {
    const was = previous.get(b.le);
    if (was === undefined || b.count < was) return now;
    out.push({ le: b.le, count: b.count - was });
  }
  return out;
}

/** Increase of a counter; a decrease means it restarted from zero, so all of `now` is new. */
export function counterDelta(now: number, before: number | undefined): number {
  if (before === undefined || now < before) return now;
  return now - before;
}

/**
 * Observations above the smallest bucket bound >= threshold, out of the total (+Inf)
 * count. Rounding the threshold up to a bound never counts a request that may have been
 * fast enough; a threshold past the last finite bound therefore counts nothing.
 */
export function countAbove(buckets: Bucket[], threshold: number): { above: number; total: number } {
  let bound: Bucket | undefined;
  let top: Bucket | undefined;
  for (const b of buckets) {
    if (b.le >= threshold && (bound === undefined || b.le < bound.le)) bound = b;
    if (top === undefined || b.le > top.le) top = b;
  }
  const total = top?.count ?? 0;
  const above = bound === undefined ? 0 : Math.max(0, total - bound.count);
  return { above, total };
}
