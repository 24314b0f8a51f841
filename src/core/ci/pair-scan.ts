/**
 * The inner loop of KeywordSearch as a small WebAssembly function: about twice as fast as the same
 * loop in JavaScript (no bounds checks, a pair read in one 16-bit load). For each word of 32
 * positions 3 bytes apart, a bit per position whose pair belongs to some window (no branch on the
 * data); then, per set bit, which windows around it (at i - 2, i - 1, i) hold all three pairs at
 * their offsets. It writes one candidate per position with a window; the keywords are compared in
 * JavaScript. The module is assembled here from its instructions (below), so nothing is built or loaded.
 *
 * Memory (two 64 KiB pages): the pair table at 0, indexed by the little-endian pair (first byte low);
 * the block of the log at BLOCK_AT (with up to 2 bytes before it and 4 after it); candidates at OUT_AT.
 */

/** The most 32-position words one call reads (its block is 96 bytes a word). */
export const MAX_WORDS = 128;
const BLOCK_AT = 65536 + 16;
const OUT_AT = 65536 + 16384;

// (param src words out) (result count); locals: 3 bits, 4 k, 5 i, 6 a, 7 b, 8 d, 9 windows, 10 base, 11 first out.
const LOAD_PAIR = [0x2f, 0x00, 0x00, 0x2d, 0x00, 0x00]; // i32.load16_u, then i32.load8_u of the table at that pair
const BODY = [
  0x01, 0x09, 0x7f, // nine i32 locals
  0x20, 0x02, 0x21, 0x0b, // first out = out
  0x02, 0x40, 0x20, 0x01, 0x45, 0x0d, 0x00, // block; leave when words == 0
  0x03, 0x40, // loop: a word
  0x41, 0x00, 0x21, 0x03, 0x41, 0x00, 0x21, 0x04, 0x20, 0x00, 0x21, 0x0a, // bits = 0, k = 0, base = src
  0x03, 0x40, // loop: a position; bits |= (table[pair(src)] != 0) << k
  0x20, 0x03, 0x20, 0x00, ...LOAD_PAIR, 0x41, 0x00, 0x47, 0x20, 0x04, 0x74, 0x72, 0x21, 0x03,
  0x20, 0x00, 0x41, 0x03, 0x6a, 0x21, 0x00, // src += 3
  0x20, 0x04, 0x41, 0x01, 0x6a, 0x22, 0x04, 0x41, 0x20, 0x47, 0x0d, 0x00, // while ++k != 32
  0x0b,
  0x02, 0x40, 0x03, 0x40, // block, loop: each set bit
  0x20, 0x03, 0x45, 0x0d, 0x01, // leave when bits == 0
  0x20, 0x0a, 0x20, 0x03, 0x68, 0x41, 0x03, 0x6c, 0x6a, 0x21, 0x05, // i = base + 3 * ctz(bits)
  0x20, 0x03, 0x20, 0x03, 0x41, 0x01, 0x6b, 0x71, 0x21, 0x03, // bits &= bits - 1
  0x20, 0x05, ...LOAD_PAIR, 0x21, 0x06, // a = pair at i
  0x20, 0x05, 0x2f, 0x00, 0x01, 0x2d, 0x00, 0x00, 0x21, 0x07, // b = pair at i + 1
  0x20, 0x05, 0x41, 0x01, 0x6b, ...LOAD_PAIR, 0x21, 0x08, // d = pair at i - 1
  // window at i - 2: (pair at i - 2) & 1, d & 2, a & 4
  0x20, 0x05, 0x41, 0x02, 0x6b, ...LOAD_PAIR, 0x20, 0x08, 0x41, 0x01, 0x76, 0x71, 0x20, 0x06, 0x41, 0x02, 0x76, 0x71, 0x41, 0x01, 0x71,
  // window at i - 1: d & 1, a & 2, b & 4 (bit 1)
  0x20, 0x08, 0x20, 0x06, 0x41, 0x01, 0x76, 0x71, 0x20, 0x07, 0x41, 0x02, 0x76, 0x71, 0x41, 0x01, 0x71, 0x41, 0x01, 0x74, 0x72,
  // window at i: a & 1, b & 2, (pair at i + 2) & 4 (bit 2)
  0x20, 0x06, 0x20, 0x07, 0x41, 0x01, 0x76, 0x71, 0x20, 0x05, 0x2f, 0x00, 0x02, 0x2d, 0x00, 0x00, 0x41, 0x02, 0x76, 0x71, 0x41, 0x01, 0x71, 0x41, 0x02, 0x74, 0x72,
  0x22, 0x09, 0x04, 0x40, // if windows: store (i << 3 | windows) at out, out += 4
  0x20, 0x02, 0x20, 0x05, 0x41, 0x03, 0x74, 0x20, 0x09, 0x72, 0x36, 0x02, 0x00,
  0x20, 0x02, 0x41, 0x04, 0x6a, 0x21, 0x02,
  0x0b,
  0x0c, 0x00, 0x0b, 0x0b, // next bit
  0x20, 0x01, 0x41, 0x01, 0x6b, 0x22, 0x01, 0x0d, 0x00, // while --words != 0
  0x0b, 0x0b,
  0x20, 0x02, 0x20, 0x0b, 0x6b, 0x41, 0x02, 0x76, // (out - first out) / 4
  0x0b,
];

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

const section = (id: number, bytes: number[]): number[] => [id, ...uleb(bytes.length), ...bytes];
const name = (s: string): number[] => [s.length, ...[...s].map((c) => c.charCodeAt(0))];

const MODULE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x03, 0x7f, 0x7f, 0x7f, 0x01, 0x7f]), // (i32 i32 i32) -> i32
  ...section(3, [0x01, 0x00]),
  ...section(5, [0x01, 0x00, 0x02]), // memory: two pages
  ...section(7, [0x02, ...name('candidates'), 0x00, 0x00, ...name('memory'), 0x02, 0x00]),
  ...section(10, [0x01, ...uleb(BODY.length), ...BODY]),
]);

interface Wasm {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: { candidates: (src: number, words: number, out: number) => number; memory: { buffer: ArrayBuffer } } };
}

let compiled: object | null | undefined;

export class PairScan {
  private readonly run: (src: number, words: number, out: number) => number;
  private readonly memory: Uint8Array;
  private readonly out: Int32Array;

  private constructor(module: object, wasm: Wasm, pairOffsets: Uint8Array, pairs: number[]) {
    const instance = new wasm.Instance(module, {});
    this.run = instance.exports.candidates;
    this.memory = new Uint8Array(instance.exports.memory.buffer);
    this.out = new Int32Array(instance.exports.memory.buffer, OUT_AT, 32 * MAX_WORDS);
    for (const pair of pairs) this.memory[((pair & 0xff) << 8) | (pair >> 8)] = pairOffsets[pair]!;
  }

  /** The scan over this pair table (`pairs`: the pairs set in it), or null where WebAssembly is not available (node --jitless): the caller then loops in JavaScript. */
  static create(pairOffsets: Uint8Array, pairs: number[]): PairScan | null {
    const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
    if (compiled === undefined) {
      try {
        compiled = wasm ? new wasm.Module(MODULE) : null;
      } catch {
        compiled = null;
      }
    }
    return compiled && wasm ? new PairScan(compiled, wasm, pairOffsets, pairs) : null;
  }

  /**
   * The candidates in `words` (1 to MAX_WORDS) words from buf[start]: buf must hold the pairs they
   * read (start + 96 * words - 1 bytes). Writes each candidate's position into positions[n + c] and
   * its windows (bit 0: at position - 2, 1: at - 1, 2: at the position) into windows[n + c]; returns
   * how many. Windows reaching outside buf may be reported (bytes beyond are not its): the caller
   * compares keywords within its bounds anyway.
   */
  candidates(buf: Uint8Array, start: number, words: number, positions: Int32Array, windows: Uint8Array, n: number): number {
    const from = Math.max(0, start - 2);
    const to = Math.min(buf.length, start + 96 * words + 4);
    this.memory.set(buf.subarray(from, to), BLOCK_AT - (start - from));
    const count = this.run(BLOCK_AT, words, OUT_AT);
    const out = this.out;
    for (let c = 0; c < count; c++) {
      const e = out[c]!;
      positions[n + c] = start + (e >>> 3) - BLOCK_AT;
      windows[n + c] = e & 7;
    }
    return count;
  }
}
