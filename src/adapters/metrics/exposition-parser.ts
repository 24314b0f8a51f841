import {
  BACKSLASH, CLOSE_BRACE, COMMA, CR, EQUALS, HASH, OPEN_BRACE, QUOTE,
  describe, isBlank, isLabelChar, isLabelStart, isNameChar, isNameStart, matchLength, skipBlanks, unescape,
} from './exposition-chars.js';
import { sampleValue, timestampValue } from './exposition-numbers.js';
import { ExpositionParseError, type MetricFamily, type MetricType, type ParseResult, type Sample } from './exposition-types.js';

const TYPES: ReadonlyMap<string, MetricType> = new Map<string, MetricType>([
  ['counter', 'counter'],
  ['gauge', 'gauge'],
  ['histogram', 'histogram'],
  ['summary', 'summary'],
  ['untyped', 'untyped'],
]);

// Which declared family types may own a sample named `<family>_<suffix>`. `_total` and
// `_created` come from OpenMetrics-style clients that still serve the 0.0.4 format.
const SUFFIX_OWNERS: ReadonlyMap<string, readonly MetricType[]> = new Map<string, readonly MetricType[]>([
  ['bucket', ['histogram']],
  ['sum', ['histogram', 'summary']],
  ['count', ['histogram', 'summary']],
  ['created', ['histogram', 'summary', 'counter']],
  ['total', ['counter']],
]);

/** One pass over one payload; see exposition.ts for why it is written this way. */
export class Parser {
  private readonly families = new Map<string, MetricFamily>();
  private readonly samples: Sample[] = [];
  /** Names that had a `# TYPE` line; only those can own suffixed samples. */
  private readonly typed = new Set<string>();
  /** Families created for samples with no TYPE/HELP; a later declaration adopts them. */
  private readonly implicit = new Set<MetricFamily>();
  /** Sample name -> owning family; cleared whenever a declaration could change the answer. */
  private readonly owners = new Map<string, MetricFamily>();
  private line = 0;
  private lineStart = 0;
  private lastName = '';
  private lastFamily: MetricFamily | undefined;
  // The previous sample's label names by position: consecutive samples nearly always repeat
  // them, so comparing in place beats slicing a new string. (Values vary too often for the
  // same trick to pay: comparing then cost more than slicing.)
  private readonly lastLabelNames: string[] = [];
  private lastLabelCount = 0;
  private labels: Record<string, string> = {};
  // Position of the next backslash at or after the label value being read. Escapes are rare,
  // so one indexOf usually covers the whole payload and lets a value be found with a native
  // indexOf of its closing quote instead of a charCode loop.
  private nextBackslash = -1;

  /** Whether the last sample name is wanted (see `only`). */
  private lastKept = true;
  /** Names read but not wanted (see `only`), when `keepSkipped`: what else the payload holds, for "did you mean". */
  private readonly skipped = new Set<string>();

  constructor(
    private readonly text: string,
    /** Metric names wanted; the samples of others are skipped unparsed (see exposition.ts). */
    private readonly only?: ReadonlySet<string>,
    /** Record the names of what `only` skips (costs a set insert per skipped family; `config check --live` only). */
    private readonly keepSkipped = false,
  ) {}

  private wanted(name: string): boolean {
    if (this.only === undefined || this.only.has(name)) return true;
    return name.endsWith('_bucket') && this.only.has(name.slice(0, -7));
  }

  run(): ParseResult {
    const text = this.text;
    const length = text.length;
    let pos = 0;
    // `<=` so that a last line without a trailing newline is still parsed.
    while (pos <= length) {
      let newline = text.indexOf('\n', pos);
      if (newline === -1) newline = length;
      const end = newline > pos && text.charCodeAt(newline - 1) === CR ? newline - 1 : newline;
      this.line++;
      this.lineStart = pos;
      const first = skipBlanks(text, pos, end);
      if (first < end) {
        if (text.charCodeAt(first) === HASH) this.comment(first + 1, end);
        else this.sample(first, end);
      }
      pos = newline + 1;
    }
    return { families: this.families, samples: this.samples, skipped: this.skipped };
  }

  /** What sits at `p`, for messages; past `end` lies the next line, not this one's text. */
  private found(p: number, end: number): string {
    return p >= end ? 'end of line' : describe(this.text.charCodeAt(p));
  }

  private fail(at: number, reason: string): never {
    throw new ExpositionParseError(reason, this.line, at - this.lineStart + 1);
  }

  private comment(p: number, end: number): void {
    const text = this.text;
    // Like Prometheus, only `#` + blank + HELP/TYPE + blank is a declaration; '#HELP x'
    // and '# HELPER' are ordinary comments.
    if (p === end || !isBlank(text.charCodeAt(p))) return;
    p = skipBlanks(text, p, end);
    const isHelp = text.startsWith('HELP', p);
    if (!isHelp && !text.startsWith('TYPE', p)) return;
    const keyword = isHelp ? 'HELP' : 'TYPE';
    p += 4;
    if (p < end && !isBlank(text.charCodeAt(p))) return;

    p = skipBlanks(text, p, end);
    if (p === end) this.fail(p, `missing metric name after # ${keyword}`);
    const nameStart = p;
    if (!isNameStart(text.charCodeAt(p))) this.fail(p, `invalid metric name: unexpected ${describe(text.charCodeAt(p))}`);
    p++;
    while (p < end && isNameChar(text.charCodeAt(p))) p++;
    if (p < end && !isBlank(text.charCodeAt(p))) this.fail(p, `invalid character ${describe(text.charCodeAt(p))} in metric name`);
    const name = text.slice(nameStart, p);
    if (!this.wanted(name)) {
      if (this.keepSkipped) this.skipped.add(name);
      return;
    }
    p = skipBlanks(text, p, end);

    if (isHelp) {
      this.declare(name).help = unescape(text, p, end, false);
    } else {
      if (p === end) this.fail(p, `missing metric type after # TYPE ${name}`);
      const typeStart = p;
      while (p < end && !isBlank(text.charCodeAt(p))) p++;
      const word = text.slice(typeStart, p);
      const type = TYPES.get(word.toLowerCase());
      if (type === undefined) {
        this.fail(typeStart, `unknown metric type "${word}" for ${name} (expected counter, gauge, histogram, summary or untyped)`);
      }
      p = skipBlanks(text, p, end);
      if (p < end) this.fail(p, `unexpected ${describe(text.charCodeAt(p))} after metric type`);
      const family = this.declare(name);
      // A repeated identical TYPE is harmless; a different one means two metrics share a name.
      if (this.typed.has(name) && family.type !== type) {
        this.fail(typeStart, `conflicting # TYPE for ${name}: already declared as ${family.type}`);
      }
      family.type = type;
      this.typed.add(name);
    }
    this.owners.clear();
    this.lastName = '';
    this.lastFamily = undefined;
  }

  private declare(name: string): MetricFamily {
    let family = this.families.get(name);
    if (family === undefined) {
      family = { name, type: 'untyped', samples: [] };
      this.families.set(name, family);
    } else {
      this.implicit.delete(family);
    }
    return family;
  }

  private owner(name: string): MetricFamily {
    let family = this.owners.get(name);
    if (family !== undefined) return family;
    const exact = this.families.get(name);
    family = exact !== undefined && !this.implicit.has(exact) ? exact : this.parentOf(name) ?? exact;
    if (family === undefined) {
      family = { name, type: 'untyped', samples: [] };
      this.families.set(name, family);
      this.implicit.add(family);
    }
    this.owners.set(name, family);
    return family;
  }

  private parentOf(name: string): MetricFamily | undefined {
    const cut = name.lastIndexOf('_');
    if (cut <= 0) return undefined;
    const allowed = SUFFIX_OWNERS.get(name.slice(cut + 1));
    if (allowed === undefined) return undefined;
    const base = name.slice(0, cut);
    const parent = this.families.get(base);
    return parent !== undefined && this.typed.has(base) && allowed.includes(parent.type) ? parent : undefined;
  }

  private sample(start: number, end: number): void {
    const text = this.text;
    let name = this.lastName;
    let family = this.lastFamily;
    let kept = this.lastKept;
    let p = start + matchLength(text, start, end, name);
    if (p - start !== name.length || p === start || (p < end && isNameChar(text.charCodeAt(p)))) {
      // Characters matched so far came from a valid name; only a fresh start needs checking.
      if (p === start) {
        if (!isNameStart(text.charCodeAt(p))) this.fail(p, `expected a metric name, found ${describe(text.charCodeAt(p))}`);
        p++;
      }
      while (p < end && isNameChar(text.charCodeAt(p))) p++;
      name = text.slice(start, p);
      family = undefined;
      kept = this.wanted(name);
      if (!kept) {
        if (this.keepSkipped) this.skipped.add(name);
        this.lastName = name;
        this.lastFamily = undefined;
        this.lastKept = false;
      }
    }
    if (!kept) return;

    let labels: Record<string, string>;
    const c = text.charCodeAt(p);
    if (p < end && c !== OPEN_BRACE && !isBlank(c)) this.fail(p, `invalid character ${describe(c)} in metric name`);
    p = skipBlanks(text, p, end);
    if (p < end && text.charCodeAt(p) === OPEN_BRACE) {
      p = this.readLabels(p, end);
      labels = this.labels;
      p = skipBlanks(text, p, end);
    } else {
      labels = {};
      this.lastLabelCount = 0;
    }

    if (p === end) this.fail(p, `missing value for ${name}`);
    const valueStart = p;
    while (p < end && !isBlank(text.charCodeAt(p))) p++;
    const value = this.value(valueStart, p);

    p = skipBlanks(text, p, end);
    let sample: Sample;
    if (p < end) {
      const stampStart = p;
      while (p < end && !isBlank(text.charCodeAt(p))) p++;
      const timestampMs = this.timestamp(stampStart, p);
      p = skipBlanks(text, p, end);
      if (p < end) this.fail(p, `unexpected ${describe(text.charCodeAt(p))} after the timestamp`);
      sample = { name, labels, value, timestampMs };
    } else {
      sample = { name, labels, value };
    }

    if (family === undefined) {
      family = this.owner(name);
      this.lastName = name;
      this.lastFamily = family;
      this.lastKept = true;
    }
    family.samples.push(sample);
    this.samples.push(sample);
  }

  /** `open` is at '{'; returns the position after '}' and leaves the labels in `this.labels`. */
  private readLabels(open: number, end: number): number {
    const text = this.text;
    const names = this.lastLabelNames;
    const labels: Record<string, string> = {};
    let p = open + 1;
    let index = 0;
    // While every name so far repeats the previous sample's at the same position, and that
    // sample had no duplicates, none is possible here; past a new name, or past where the
    // previous sample ended (`names` may hold older samples' leftovers there), check.
    let fresh = false;
    const repeatable = this.lastLabelCount;
    for (;;) {
      p = skipBlanks(text, p, end);
      let c = text.charCodeAt(p);
      if (p === end) this.fail(p, `missing '}' to close the labels opened at column ${open - this.lineStart + 1}`);
      if (c === CLOSE_BRACE) break;

      const nameStart = p;
      let label = names[index] ?? '';
      p += matchLength(text, p, end, label);
      if (p - nameStart !== label.length || p === nameStart || (p < end && isLabelChar(text.charCodeAt(p)))) {
        if (p === nameStart) {
          if (!isLabelStart(c)) this.fail(p, `expected a label name or '}', found ${describe(c)}`);
          p++;
        }
        while (p < end && isLabelChar(text.charCodeAt(p))) p++;
        label = text.slice(nameStart, p);
        names[index] = label;
        fresh = true;
      }
      if (fresh || index >= repeatable) {
        for (let i = 0; i < index; i++) if (names[i] === label) this.fail(nameStart, `duplicate label "${label}"`);
      }

      p = skipBlanks(text, p, end);
      if (p === end || text.charCodeAt(p) !== EQUALS) {
        this.fail(p, `expected '=' after label name "${label}", found ${this.found(p, end)}`);
      }
      p = skipBlanks(text, p + 1, end);
      if (p === end || text.charCodeAt(p) !== QUOTE) {
        this.fail(p, `expected '"' to open the value of label "${label}", found ${this.found(p, end)}`);
      }
      const quote = p;
      const valueStart = ++p;
      if (this.nextBackslash < valueStart) {
        const backslash = text.indexOf('\\', valueStart);
        this.nextBackslash = backslash === -1 ? text.length : backslash;
      }
      p = text.indexOf('"', valueStart);
      let value: string;
      if (p !== -1 && p < this.nextBackslash) {
        if (p >= end) this.fail(quote, `unterminated value for label "${label}"`);
        value = text.slice(valueStart, p);
      } else {
        p = valueStart;
        while (p < end && (c = text.charCodeAt(p)) !== QUOTE) p += c === BACKSLASH ? 2 : 1;
        if (p >= end) this.fail(quote, `unterminated value for label "${label}"`);
        value = unescape(text, valueStart, p, true);
      }
      p++;

      if (label === '__proto__') {
        // Plain assignment would hit the prototype setter and silently drop the label.
        Object.defineProperty(labels, label, { value, enumerable: true, writable: true, configurable: true });
      } else {
        labels[label] = value;
      }
      index++;

      p = skipBlanks(text, p, end);
      c = text.charCodeAt(p);
      if (p === end) this.fail(p, `missing '}' to close the labels opened at column ${open - this.lineStart + 1}`);
      if (c === CLOSE_BRACE) break;
      if (c !== COMMA) this.fail(p, `expected ',' or '}' after the value of label "${label}", found ${describe(c)}`);
      p++;
    }
    this.labels = labels;
    this.lastLabelCount = index;
    return p + 1;
  }

  private value(start: number, end: number): number {
    const value = sampleValue(this.text, start, end);
    return value === undefined ? this.fail(start, `invalid sample value "${this.text.slice(start, end)}"`) : value;
  }

  private timestamp(start: number, end: number): number {
    const value = timestampValue(this.text, start, end);
    return value === undefined ? this.fail(start, `invalid timestamp "${this.text.slice(start, end)}" (expected integer milliseconds)`) : value;
  }
}
