// Character-level building blocks of the exposition parser: char codes, character classes,
// and scanning helpers that work on positions in the payload, never on sliced line strings.

export const TAB = 9;
export const CR = 13;
export const SPACE = 32;
export const QUOTE = 34;
export const HASH = 35;
export const PLUS = 43;
export const COMMA = 44;
export const MINUS = 45;
export const DOT = 46;
export const ZERO = 48;
export const NINE = 57;
export const COLON = 58;
export const EQUALS = 61;
export const UPPER_E = 69;
export const BACKSLASH = 92;
export const UNDERSCORE = 95;
export const LOWER_E = 101;
export const LOWER_N = 110;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;

export const isBlank = (c: number): boolean => c === SPACE || c === TAB;
export const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
export const isLetter = (c: number): boolean => (c | 0x20) >= 97 && (c | 0x20) <= 122;
export const isLabelStart = (c: number): boolean => isLetter(c) || c === UNDERSCORE;
export const isLabelChar = (c: number): boolean => isLabelStart(c) || isDigit(c);
export const isNameStart = (c: number): boolean => isLabelStart(c) || c === COLON;
export const isNameChar = (c: number): boolean => isNameStart(c) || isDigit(c);

/**
 * How many leading characters of `s` appear in `text` at `at` (before `end`). Matching the
 * previous sample's name while scanning reads each character once; slicing and then
 * comparing, or startsWith, would read it twice.
 */
export function matchLength(text: string, at: number, end: number, s: string): number {
  const n = Math.min(s.length, end - at);
  let i = 0;
  while (i < n && text.charCodeAt(at + i) === s.charCodeAt(i)) i++;
  return i;
}

export function skipBlanks(text: string, p: number, end: number): number {
  while (p < end && isBlank(text.charCodeAt(p))) p++;
  return p;
}

export function describe(c: number): string {
  return c === CR ? 'a carriage return' : JSON.stringify(String.fromCharCode(c));
}

/**
 * Undoes `\\`, `\n` and (in label values) `\"`. Any other backslash pair is kept as
 * written: that is what Prometheus itself does, and rejecting the scrape over it would
 * blind a deploy gate for a cosmetic quirk.
 */
export function unescape(text: string, start: number, end: number, quotes: boolean): string {
  let out = '';
  let from = start;
  for (let p = start; p < end - 1; p++) {
    if (text.charCodeAt(p) !== BACKSLASH) continue;
    const next = text.charCodeAt(p + 1);
    let replacement: string;
    if (next === BACKSLASH) replacement = '\\';
    else if (next === LOWER_N) replacement = '\n';
    else if (next === QUOTE && quotes) replacement = '"';
    else continue;
    out += text.slice(from, p) + replacement;
    p++;
    from = p + 1;
  }
  return from === start ? text.slice(start, end) : out + text.slice(from, end);
}
