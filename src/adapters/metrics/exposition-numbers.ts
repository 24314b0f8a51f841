// Sample values and timestamps as Prometheus reads them (Go's ParseFloat spellings), parsed in
// place from the payload. Each returns undefined for text it does not accept; the parser then
// reports the position.

import { DOT, isDigit, LOWER_E, MINUS, PLUS, UPPER_E, ZERO } from './exposition-chars.js';

/** Strict float grammar; `Number()` alone would accept '', ' 1', '0x1f' and '1_0'. */
function isDecimal(text: string, p: number, end: number): boolean {
  let digits = 0;
  while (p < end && isDigit(text.charCodeAt(p))) {
    p++;
    digits++;
  }
  if (p < end && text.charCodeAt(p) === DOT) {
    p++;
    while (p < end && isDigit(text.charCodeAt(p))) {
      p++;
      digits++;
    }
  }
  if (digits === 0) return false;
  if (p < end && (text.charCodeAt(p) === LOWER_E || text.charCodeAt(p) === UPPER_E)) {
    p++;
    if (p < end && (text.charCodeAt(p) === PLUS || text.charCodeAt(p) === MINUS)) p++;
    let exponent = 0;
    while (p < end && isDigit(text.charCodeAt(p))) {
      p++;
      exponent++;
    }
    if (exponent === 0) return false;
  }
  return p === end;
}

export function sampleValue(text: string, start: number, end: number): number | undefined {
  let p = start;
  const first = text.charCodeAt(p);
  const negative = first === MINUS;
  if (negative || first === PLUS) p++;
  // Counts and bucket totals are nearly always plain integers; accumulating them skips a
  // substring and a general float parse, and stays exact up to 15 digits.
  if (p < end && end - p <= 15) {
    let n = 0;
    let q = p;
    for (; q < end; q++) {
      const d = text.charCodeAt(q) - ZERO;
      if (d < 0 || d > 9) break;
      n = n * 10 + d;
    }
    if (q === end) return negative ? -n : n;
  }
  if (isDecimal(text, p, end)) return Number(text.slice(start, end));
  // Go's ParseFloat spellings, which is what Prometheus accepts: case-insensitive, and
  // a sign is allowed on infinities but not on NaN.
  const word = text.slice(p, end).toLowerCase();
  if (word === 'inf' || word === 'infinity') return negative ? -Infinity : Infinity;
  if (word === 'nan' && p === start) return NaN;
  return undefined;
}

/** Integer milliseconds, optionally signed. */
export function timestampValue(text: string, start: number, end: number): number | undefined {
  let p = start;
  const first = text.charCodeAt(p);
  const negative = first === MINUS;
  if (negative || first === PLUS) p++;
  let n = 0;
  for (let q = p; q < end; q++) {
    const d = text.charCodeAt(q) - ZERO;
    if (d < 0 || d > 9) n = NaN;
    n = n * 10 + d;
  }
  if (p === end || Number.isNaN(n)) return undefined;
  if (end - p > 15) n = Number(text.slice(p, end));
  return negative ? 0 - n : n;
}
