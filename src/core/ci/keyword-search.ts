/**
 * Finds the causes' keywords in a log without comparing them at every byte: each keyword of
 * WINDOW bytes or more is represented by WINDOW bytes of it (where its bytes are rarest), and any
 * occurrence of such a window covers one pair of bytes starting at a position `from + 3k`. So the
 * search reads the log's pairs at every third position, one table lookup each, and compares
 * keywords only where a pair (and the window's other two) belongs to some window: a loop with no
 * data-dependent stride, about 1.5x faster here than Wu-Manber's skips (up to 3 bytes with the same
 * window) and 4x faster than a byte-per-byte automaton. The lookups and the checks of the other
 * pairs run block by block in WebAssembly (pair-scan.ts, twice as fast as in JavaScript; JavaScript
 * where it is not available), which lists the candidates; the keywords are compared here. Keywords
 * shorter than the window (ESC, `##[`, short project keywords) are found by Buffer.indexOf, which is memchr.
 */
import { MAX_WORDS, PairScan } from './pair-scan.js';
import { rarestWindow, WINDOW } from './keyword-window.js';

const STRIDE = WINDOW - 1;
/** The bytes 32 positions of the first pass span (one bit each, one word). */
const SPAN = 32 * STRIDE;
const HASH_MULTIPLIER = 0x9e3779b1 | 0;

export class KeywordSearch {
  /** The distinct keywords as bytes, and per distinct keyword the indexes (into the constructor's list) it stands for. */
  private readonly words: Buffer[] = [];
  private readonly owners: number[][] = [];
  /** The keywords markIn found. */
  private readonly marked: number[] = [];
  /** Per pair of bytes, bit j set when the pair is at offset j (0 .. STRIDE - 1) of some keyword's window. */
  private readonly pairOffsets = new Uint8Array(65536);
  /** Per hash of a window's four bytes, its bucket (-1: none); bucket b holds entries bucketStart[b] .. bucketStart[b + 1] - 1. */
  private readonly bucketOf = new Int32Array(65536).fill(-1);
  private readonly bucketStart: Int32Array;
  private readonly entryWord: Int32Array;
  /** Where the keyword's window starts inside the keyword. */
  private readonly entryOffset: Int32Array;
  private readonly longest: number;
  /** The keywords shorter than the window (indexes into words), with their next position in the buffer last searched. */
  private readonly short: number[] = [];
  private readonly shortNext: Float64Array;
  private shortBuf: Uint8Array | null = null;
  /** The first pass in WebAssembly, or null (then in JavaScript). */
  private readonly pairScan: PairScan | null;
  /**
   * The candidates of the buffer last searched, in order: positions hitsFrom + STRIDE * k whose pair
   * belongs to some window, with the windows around them (see PairScan). Positions below scanNext
   * are all looked at; then those of a partial last word, up to tailTo (candidates from candComplete).
   */
  private candPos = new Int32Array(32 * MAX_WORDS);
  private candWin = new Uint8Array(32 * MAX_WORDS);
  private candCount = 0;
  private candComplete = 0;
  private candCursor = 0;
  private hitsBuf: Uint8Array | null = null;
  private hitsFrom = 0;
  private scanNext = 0;
  private tailTo = 0;

  /** `webAssembly: false` runs the first pass in JavaScript, as where WebAssembly is not available (the tests compare the two). */
  constructor(keywords: string[], options: { webAssembly?: boolean } = {}) {
    const seen = new Map<string, number>();
    keywords.forEach((k, index) => {
      if (k === '') return;
      let w = seen.get(k);
      if (w === undefined) {
        w = this.words.length;
        seen.set(k, w);
        this.words.push(Buffer.from(k, 'utf8'));
        this.owners.push([]);
      }
      this.owners[w]!.push(index);
    });
    const entries: { hash: number; word: number; offset: number }[] = [];
    const pairs: number[] = [];
    // Shortest keywords first: a 4-byte keyword is its own window, and the pairs it brings cost the later ones less.
    const order = this.words.map((_, index) => index).sort((a, b) => this.words[a]!.length - this.words[b]!.length);
    for (const index of order) {
      const w = this.words[index]!;
      if (w.length < WINDOW) {
        this.short.push(index);
        continue;
      }
      const offset = rarestWindow(w, this.pairOffsets);
      for (let j = 0; j < STRIDE; j++) {
        const pair = (w[offset + j]! << 8) | w[offset + j + 1]!;
        this.pairOffsets[pair]! |= 1 << j;
        pairs.push(pair);
      }
      entries.push({ hash: windowHash(w, offset), word: index, offset });
    }
    this.short.sort((a, b) => a - b);
    entries.sort((a, b) => a.hash - b.hash);
    this.entryWord = Int32Array.from(entries, (e) => e.word);
    this.entryOffset = Int32Array.from(entries, (e) => e.offset);
    // Only the hashes in use are touched: a loop over all 65 536 would cost more than the rest (it runs once, unoptimised).
    const starts: number[] = [];
    entries.forEach((e, index) => {
      if (this.bucketOf[e.hash] === -1) {
        this.bucketOf[e.hash] = starts.length;
        starts.push(index);
      }
    });
    starts.push(entries.length);
    this.bucketStart = Int32Array.from(starts);
    this.longest = Math.max(0, ...this.words.map((w) => w.length));
    this.shortNext = new Float64Array(this.short.length);
    this.pairScan = entries.length && options.webAssembly !== false ? PairScan.create(this.pairOffsets, pairs) : null;
  }

  /** Where the first pass runs. */
  get firstPass(): 'WebAssembly' | 'JavaScript' {
    return this.pairScan ? 'WebAssembly' : 'JavaScript';
  }

  /**
   * The start of a keyword in the first line of buf[from, to) that holds one, or -1. Calls on the
   * same buffer must come with `from` not decreasing (short keywords' next positions are remembered
   * per buffer), and the buffer's bytes must not change between them.
   */
  find(buf: Uint8Array, from: number, to: number): number {
    const short = this.nextShort(buf, from, to);
    // A window keyword starting before the short one ends by short + longest.
    const limit = short < 0 ? to : Math.min(to, short + this.longest);
    const long = this.findLong(buf, from, limit);
    return long < 0 ? short : short < 0 ? long : Math.min(long, short);
  }

  /**
   * The first window keyword in buf[from, to), in two passes over each block of the buffer (small
   * enough to stay in the CPU's cache between them): the pairs at every third position are looked
   * up without branches (a branch there mispredicts on every common pair), and the positions whose
   * pair belongs to a window are checked for the window's other pairs; that gives the candidates,
   * whose keywords are then compared.
   */
  private findLong(buf: Uint8Array, from: number, to: number): number {
    if (buf !== this.hitsBuf || from < this.hitsFrom) {
      this.hitsBuf = buf;
      this.hitsFrom = this.scanNext = this.tailTo = from;
      this.candCount = this.candComplete = this.candCursor = 0;
    }
    while (this.candCursor < this.candCount && this.candPos[this.candCursor]! < from) this.candCursor++;
    let c = this.candCursor;
    for (;;) {
      for (; c < this.candCount; c++) {
        const i = this.candPos[c]!;
        // The window at i - 2 ends at i + 2: past `to` for this and every later candidate.
        if (i + 2 > to) return -1;
        for (let j = 0, windows = this.candWin[c]!; windows !== 0; j++, windows >>= 1) {
          const start = i - 2 + j;
          if ((windows & 1) === 0 || start < from || start + WINDOW > to) continue;
          const found = this.compare(buf, start, from, to, null);
          if (found >= 0) return found;
        }
      }
      if (this.tailTo >= to) return -1;
      const complete = this.candComplete; // the candidates of a partial word are redone
      this.gather(buf, to);
      c = Math.min(c, complete);
    }
  }

  /** The candidates of the next block of whole words below `to`, else of the partial word up to `to`. */
  private gather(buf: Uint8Array, to: number): void {
    this.candCount = this.candComplete;
    const words = Math.min(MAX_WORDS, Math.floor((to - this.scanNext) / SPAN));
    this.reserve(words ? 32 * words : 32);
    if (words === 0) {
      for (let i = this.scanNext; i + 1 < to; i += STRIDE) this.addCandidate(i, this.windowsAtEdge(buf, i, 0, to));
      this.tailTo = to;
      return;
    }
    if (this.pairScan) this.candCount += this.pairScan.candidates(buf, this.scanNext, words, this.candPos, this.candWin, this.candCount);
    else this.gatherInJs(buf, words);
    this.candComplete = this.candCount;
    this.scanNext = this.tailTo = this.scanNext + SPAN * words;
  }

  /** What PairScan does, in JavaScript. */
  private gatherInJs(buf: Uint8Array, words: number): void {
    const po = this.pairOffsets;
    for (let w = 0, base = this.scanNext; w < words; w++, base += SPAN) {
      let bits = 0;
      for (let k = 0, j = base; k < 32; k++, j += STRIDE) bits |= ((po[(buf[j]! << 8) | buf[j + 1]!]! + 255) >>> 8) << k; // 1 for offsets 1 to 7, 0 for none
      while (bits !== 0) {
        const i = base + STRIDE * (31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
        if (i < 2 || i + 4 > buf.length) {
          this.addCandidate(i, this.windowsAtEdge(buf, i, 0, buf.length));
          continue;
        }
        const a = po[(buf[i]! << 8) | buf[i + 1]!]!;
        const b = po[(buf[i + 1]! << 8) | buf[i + 2]!]!;
        const d = po[(buf[i - 1]! << 8) | buf[i]!]!;
        // Bit 0: a window at i - 2, bit 1: at i - 1, bit 2: at i (each of its three pairs at its offset).
        this.addCandidate(i, (po[(buf[i - 2]! << 8) | buf[i - 1]!]! & (d >> 1) & (a >> 2) & 1) | ((d & (a >> 1) & (b >> 2) & 1) << 1) | ((a & (b >> 1) & (po[(buf[i + 2]! << 8) | buf[i + 3]!]! >> 2) & 1) << 2));
      }
    }
  }

  private addCandidate(i: number, windows: number): void {
    if (windows === 0) return;
    this.candPos[this.candCount] = i;
    this.candWin[this.candCount++] = windows;
  }

  /** Room for `more` candidates after candCount. */
  private reserve(more: number): void {
    if (this.candCount + more <= this.candPos.length) return;
    const size = Math.max(this.candCount + more, this.candPos.length * 2);
    const pos = new Int32Array(size);
    const win = new Uint8Array(size);
    pos.set(this.candPos.subarray(0, this.candCount));
    win.set(this.candWin.subarray(0, this.candCount));
    this.candPos = pos;
    this.candWin = win;
  }

  /** The windows at i - 2, i - 1, i (bits 0, 1, 2) that lie in buf[from, to) with each pair at its offset. */
  private windowsAtEdge(buf: Uint8Array, i: number, from: number, to: number): number {
    const po = this.pairOffsets;
    let windows = 0;
    for (let j = 0; j < STRIDE; j++) {
      const s = i - 2 + j;
      if (s < from || s + WINDOW > to) continue;
      if ((po[(buf[s]! << 8) | buf[s + 1]!]! & 1) !== 0 && (po[(buf[s + 1]! << 8) | buf[s + 2]!]! & 2) !== 0 && (po[(buf[s + 2]! << 8) | buf[s + 3]!]! & 4) !== 0) windows |= 1 << j;
    }
    return windows;
  }

  /**
   * Sets `marks[k] = 1` for the index k of every keyword that occurs in buf[from, to); returns those
   * indexes (some maybe twice), in an array reused by the next call.
   */
  markIn(buf: Uint8Array, from: number, to: number, marks: Uint8Array): readonly number[] {
    this.marked.length = 0;
    this.scan(buf, from, to, marks);
    if (!this.short.length) return this.marked;
    const line = Buffer.from(buf.buffer, buf.byteOffset + from, to - from);
    for (const w of this.short) if (line.includes(this.words[w]!)) this.mark(w, marks);
    return this.marked;
  }

  private mark(word: number, marks: Uint8Array): void {
    for (const k of this.owners[word]!) {
      marks[k] = 1;
      this.marked.push(k);
    }
  }

  /** Marks the window keywords in buf[from, to) (a line that holds one): a window there holds exactly one pair at a position from + STRIDE * k. */
  private scan(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    for (let i = from; i + 1 < to; i += STRIDE) {
      if (this.pairOffsets[(buf[i]! << 8) | buf[i + 1]!] === 0) continue;
      for (let j = 0, windows = this.windowsAtEdge(buf, i, from, to); windows !== 0; j++, windows >>= 1) if ((windows & 1) !== 0) this.compare(buf, i - 2 + j, from, to, marks);
    }
  }

  /** The keywords whose window could be at windowStart: the first one's start, or -1 (all of them marked when marks is given). */
  private compare(buf: Uint8Array, windowStart: number, from: number, to: number, marks: Uint8Array | null): number {
    const bucket = this.bucketOf[windowHash(buf, windowStart)]!;
    if (bucket < 0) return -1;
    for (let e = this.bucketStart[bucket]!, last = this.bucketStart[bucket + 1]!; e < last; e++) {
      const w = this.entryWord[e]!;
      const start = windowStart - this.entryOffset[e]!;
      if (start < from || !matchesAt(buf, start, to, this.words[w]!)) continue;
      if (marks === null) return start;
      this.mark(w, marks);
    }
    return -1;
  }

  /** The first start of a short keyword in buf[from, to), or -1; each short keyword is searched for once per stretch of the buffer. */
  private nextShort(buf: Uint8Array, from: number, to: number): number {
    if (!this.short.length) return -1;
    if (buf !== this.shortBuf) {
      this.shortBuf = buf;
      this.shortNext.fill(-2);
    }
    const view = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
    let first = -1;
    for (let j = 0; j < this.short.length; j++) {
      let next = this.shortNext[j]!;
      if (next === -1) continue; // none left in this buffer
      if (next < from) this.shortNext[j] = next = view.indexOf(this.words[this.short[j]!]!, from);
      if (next >= 0 && next + this.words[this.short[j]!]!.length <= to && (first < 0 || next < first)) first = next;
    }
    return first;
  }
}

/** The four bytes at buf[at] hashed to 16 bits. */
function windowHash(buf: Uint8Array, at: number): number {
  const v = (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24)) >>> 0;
  return Math.imul(v, HASH_MULTIPLIER) >>> 16;
}

function matchesAt(buf: Uint8Array, start: number, to: number, word: Buffer): boolean {
  if (start + word.length > to) return false;
  for (let j = 0; j < word.length; j++) if (buf[start + j] !== word[j]) return false;
  return true;
}
