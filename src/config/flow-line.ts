import { Document, isScalar, type ScalarTag } from 'yaml';

/**
 * The common line of a big services map, `  svc_000001: {command: [run, x], port: 20001}`, read
 * without the YAML library. The library spends about 40 µs and a syntax tree per such line (most
 * of `config check` on 130 000 services, and most of its garbage); this reads it in about 1 µs.
 *
 * It takes only a strict subset: one line, a plain key, a flow map or list of plain scalars
 * (letters, digits and `_ . / + -`), quoted strings of printable ASCII without escapes, and nested
 * flow maps and lists, each key once. Anything else, even when valid YAML (a `:` or a space in a
 * plain scalar, an escape, a trailing comma, a tag, an anchor), returns undefined and the line
 * goes to the YAML library. Plain scalars are typed (number, true, null…) by the library's own
 * schema tags, the test it applies itself, so both readings give the same data.
 */
export function parseFlowLine(line: string): { key: string; value: unknown } | undefined {
  const reader = new LineReader(line);
  reader.skipSpaces();
  const key = reader.plainKey();
  if (key === undefined || !reader.take(':') || !reader.skipSpaces()) return undefined;
  const first = line[reader.at];
  if (first !== '{' && first !== '[') return undefined;
  const value = reader.value(0);
  if (value === FAIL || !reader.atLineEnd()) return undefined;
  return { key, value };
}

const FAIL = Symbol('not in the subset');
type Read = unknown;

/** Deep enough for any config; deeper nesting goes to the library. */
const MAX_DEPTH = 16;
const PLAIN_START = /[A-Za-z0-9_./]/;
const PLAIN_REST = /[A-Za-z0-9_./+-]/;
const KEY = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/** Printable ASCII except the quote and the backslash: no escape to interpret, no control character. */
const DOUBLE_QUOTED = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
const SINGLE_QUOTED = /^[\x20-\x26\x28-\x7e]*$/;

class LineReader {
  at = 0;
  constructor(private readonly line: string) {}

  /** Skips spaces; true when there was at least one. */
  skipSpaces(): boolean {
    const from = this.at;
    while (this.line[this.at] === ' ') this.at++;
    return this.at > from;
  }

  take(char: string): boolean {
    if (this.line[this.at] !== char) return false;
    this.at++;
    return true;
  }

  /** End of line, or spaces and then a `#` comment. */
  atLineEnd(): boolean {
    const spaced = this.skipSpaces();
    return this.at === this.line.length || (spaced && this.line[this.at] === '#');
  }

  /** A plain key that the schema reads as the string it spells (not `true`, `null` or a number). */
  plainKey(): string | undefined {
    const text = this.plainText();
    return text !== undefined && KEY.test(text) && typedPlain(text) === text ? text : undefined;
  }

  value(depth: number): Read | typeof FAIL {
    if (depth > MAX_DEPTH) return FAIL;
    const c = this.line[this.at];
    if (c === '{') return this.map(depth);
    if (c === '[') return this.list(depth);
    if (c === '"' || c === "'") return this.quoted(c);
    const text = this.plainText();
    return text === undefined ? FAIL : typedPlain(text, typedValues);
  }

  private map(depth: number): Record<string, unknown> | typeof FAIL {
    this.at++;
    const out: Record<string, unknown> = {};
    this.skipSpaces();
    if (this.take('}')) return out;
    for (;;) {
      const key = this.plainKey();
      if (key === undefined || Object.hasOwn(out, key) || !this.take(':') || !this.skipSpaces()) return FAIL;
      const value = this.value(depth + 1);
      if (value === FAIL) return FAIL;
      out[key] = value;
      this.skipSpaces();
      if (this.take('}')) return out;
      if (!this.take(',')) return FAIL;
      this.skipSpaces();
    }
  }

  private list(depth: number): unknown[] | typeof FAIL {
    this.at++;
    const out: unknown[] = [];
    this.skipSpaces();
    if (this.take(']')) return out;
    for (;;) {
      const value = this.value(depth + 1);
      if (value === FAIL) return FAIL;
      out.push(value);
      this.skipSpaces();
      if (this.take(']')) return out;
      if (!this.take(',')) return FAIL;
      this.skipSpaces();
    }
  }

  private quoted(quote: string): string | typeof FAIL {
    const end = this.line.indexOf(quote, this.at + 1);
    if (end < 0) return FAIL;
    const text = this.line.slice(this.at + 1, end);
    if (!(quote === '"' ? DOUBLE_QUOTED : SINGLE_QUOTED).test(text)) return FAIL;
    this.at = end + 1;
    // A quoted scalar must be followed by a separator, as in the library (`"a"b` is an error there).
    const next = this.line[this.at];
    return next === undefined || next === ' ' || next === ',' || next === ']' || next === '}' || next === ':' ? text : FAIL;
  }

  /** A plain scalar in the subset, ending where YAML would end it (space, `,`, `]`, `}`, or `:` of a key). */
  private plainText(): string | undefined {
    const from = this.at;
    if (!PLAIN_START.test(this.line[from] ?? '')) return undefined;
    this.at++;
    while (this.at < this.line.length && PLAIN_REST.test(this.line[this.at]!)) this.at++;
    const next = this.line[this.at];
    if (next !== undefined && next !== ' ' && next !== ',' && next !== ']' && next !== '}' && next !== ':') return undefined;
    // `a:b` is one plain scalar to YAML; only `a: ` (or `a:` at the end) makes a key.
    if (next === ':' && this.line[this.at + 1] !== ' ' && this.at + 1 !== this.line.length) return undefined;
    return this.line.slice(from, this.at);
  }
}

/** The schema (YAML 1.2 core, as parseDocument uses) and options the library types scalars with. */
const reference = new Document(null, { merge: true, uniqueKeys: false });
const scalarTags = reference.schema.tags.filter((tag): tag is ScalarTag => tag.default === true && !('collection' in tag && tag.collection) && tag.test instanceof RegExp);
/** Values repeat (run, x, true…); keys are mostly distinct, so they are not cached. */
const typedValues = new Map<string, unknown>();

/** What the library makes of a plain scalar: the first default tag whose test matches resolves it; else a string. */
function typedPlain(text: string, cache?: Map<string, unknown>): unknown {
  if (cache?.has(text)) return cache.get(text);
  const tag = scalarTags.find((t) => t.test!.test(text));
  let value: unknown = text;
  if (tag) {
    let failed = false;
    const resolved = tag.resolve(text, () => (failed = true), reference.options);
    // Some tags (bool, null, float) resolve to a Scalar node; its value is what toJS gives.
    value = isScalar(resolved) ? resolved.value : resolved;
    const primitive = value === null || ['string', 'number', 'boolean'].includes(typeof value);
    if (failed || !primitive) value = FAIL;
  }
  // Bounded: most of a big file's values are a few words and its ports.
  if (cache && cache.size < 10_000) cache.set(text, value);
  return value;
}
