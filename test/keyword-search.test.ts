// The log prefilter against the obvious search: on random log-like text with keywords of every
// length planted in it, it finds the first line holding one and marks exactly the keywords a line holds.
import { describe, expect, it } from 'vitest';
import { KeywordSearch } from '../src/core/ci/keyword-search.js';

const KEYWORDS = ['##[', '\x1b', 'E   ', 'error TS', 'error TS', 'ok 7', 'js:3', '✓ ', 'FAIL', 'No space left on device', 'ab', 'rror', 'ENOSPC', '.py:4'];
const ALPHABET = ['e', 'r', 'o', ' ', 'E', 'T', 'S', ':', '3', '4', '7', 'k', 'j', 's', '#', '[', 'a', 'b', 'F', 'A', 'I', 'L', '.', 'p', 'y', '\n', '\n', 'N', '\x1b', '✓'];

function randomText(seed: number, length: number): Buffer {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
  let text = '';
  while (text.length < length) text += next() % 9 === 0 ? KEYWORDS[next() % KEYWORDS.length] : ALPHABET[next() % ALPHABET.length];
  return Buffer.from(text, 'utf8');
}

function firstLineWithKeyword(buf: Buffer, from: number): number {
  let start = from;
  while (start < buf.length) {
    let end = buf.indexOf(10, start);
    if (end < 0) end = buf.length;
    const line = buf.subarray(start, end);
    if (KEYWORDS.some((k) => line.includes(Buffer.from(k)))) return start;
    start = end + 1;
  }
  return -1;
}

describe.each([
  { first: 'WebAssembly', webAssembly: true },
  { first: 'JavaScript', webAssembly: false },
])('KeywordSearch (first pass in $first)', ({ webAssembly }) => {
  it('finds the first line holding a keyword, line after line, and marks what each line holds', () => {
    const search = new KeywordSearch(KEYWORDS, { webAssembly });
    expect(search.firstPass).toBe(webAssembly ? 'WebAssembly' : 'JavaScript');
    for (let seed = 1; seed <= 200; seed++) {
      const buf = randomText(seed, 300 + (seed % 7) * 50);
      let pos = 0;
      for (;;) {
        const hit = search.find(buf, pos, buf.length);
        const expected = firstLineWithKeyword(buf, pos);
        const lineStart = hit < 0 ? -1 : buf.lastIndexOf(10, hit) + 1;
        expect(Math.max(lineStart, hit < 0 ? -1 : pos), `seed ${seed} from ${pos}`).toBe(expected);
        if (hit < 0) break;
        let end = buf.indexOf(10, hit);
        if (end < 0) end = buf.length;
        const marks = new Uint8Array(KEYWORDS.length);
        const marked = new Set(search.markIn(buf, expected, end, marks));
        const line = buf.subarray(expected, end);
        expect([...marks], `seed ${seed} line ${JSON.stringify(line.toString())}`).toEqual(KEYWORDS.map((k) => (line.includes(Buffer.from(k)) ? 1 : 0)));
        expect([...marked].sort((a, b) => a - b)).toEqual(KEYWORDS.flatMap((k, i) => (line.includes(Buffer.from(k)) ? [i] : [])));
        pos = end + 1;
      }
    }
  });

  it('finds the same in long text (across the blocks of its first pass), whatever the end of each search', () => {
    const search = new KeywordSearch(KEYWORDS, { webAssembly });
    for (let seed = 1; seed <= 20; seed++) {
      // Keywords seldom (a few per block of the first pass), so most of the text is read by the first pass alone.
      let x = seed;
      const next = () => ((x = (x * 1103515245 + 12345) & 0x7fffffff), x);
      let text = '';
      while (text.length < 60_000) text += next() % 400 === 0 ? KEYWORDS[next() % KEYWORDS.length] : 'xyzqw vbn\n'[next() % 11];
      const buf = Buffer.from(text, 'utf8');
      let pos = next() % 50;
      while (pos < buf.length) {
        // A search that stops short of the end, then one to the end from the same place.
        const to = Math.min(buf.length, pos + (next() % 20_000));
        const near = search.find(buf, pos, to);
        expect(near < 0 ? -1 : Math.max(buf.lastIndexOf(10, near) + 1, pos), `seed ${seed} from ${pos} to ${to}`).toBe(firstLineWithKeyword(buf.subarray(0, to), pos));
        const expected = firstLineWithKeyword(buf, pos);
        const hit = search.find(buf, pos, buf.length);
        const lineStart = hit < 0 ? -1 : Math.max(buf.lastIndexOf(10, hit) + 1, pos);
        expect(lineStart, `seed ${seed} from ${pos}`).toBe(expected);
        if (hit < 0) break;
        const end = buf.indexOf(10, hit);
        pos = end < 0 ? buf.length : end + 1;
      }
    }
  });

  it('finds nothing past `to`, and nothing in a log without keywords', () => {
    const search = new KeywordSearch(KEYWORDS, { webAssembly });
    const buf = Buffer.from('nothing here\nerror TS2551 here\n');
    expect(search.find(buf, 0, 13)).toBe(-1);
    const hit = search.find(buf, 0, buf.length); // a keyword's start in the second line ('error TS' or 'rror')
    expect([13, 14]).toContain(hit);
    expect(new KeywordSearch([], { webAssembly }).find(buf, 0, buf.length)).toBe(-1);
  });
});
