/**
 * Finds the causes' keywords in a log without comparing them at every byte: each keyword of
 * WINDOW bytes or more is represented by WINDOW bytes of it (where its bytes are rarest), and any
 * occurrence of such a window covers one pair of bytes starting at a position `from + 3k`. So the
 * search reads the log's pairs at every third position, one table lookup each, and compares
 * keywords only where a pair (and the window's other two) belongs to some window: a loop with no
 * data-dependent stride, about 1.5x faster here than Wu-Manber's skips (up to 3 bytes with the same
 * window) and 4x faster than a byte-per-byte automaton. The lookups run in a first pass without
 * branches (a bit per position), the checks in a second over the same block (see findLong). Keywords
 * shorter than the window (ESC, `##[`, short project keywords) are found by Buffer.indexOf, which is memchr.
 */
const WINDOW = 4;
const STRIDE = WINDOW - 1;
/** The bytes 32 positions of the first pass span (one bit each, one word). */
const SPAN = 32 * STRIDE;
/** The words of the first pass done before the second pass reads them: 12 KiB of log, which stays in the CPU's cache in between. */
const BLOCK_WORDS = 128;
const HASH_MULTIPLIER = 0x9e3779b1 | 0;
/** What a pair already in the table weighs when a window is chosen, against one that is not (see rarestWindow). */
const SHARED_PAIR = 0.5;

/**
 * How often a byte turns up in CI logs, roughly (higher: more often): the window of a keyword is
 * put where its bytes are rare, so that the log's common pairs (`e `, `er`, timestamps' `:0`) seldom
 * belong to a window.
 */
function byteFrequency(b: number): number {
  if (b === 0x20) return 20;
  const c = String.fromCharCode(b);
  if (b >= 0x61 && b <= 0x7a) return c === 'e' ? 12 : 'taoinsr'.includes(c) ? 9 : 'hldcumpfg'.includes(c) ? 7 : 5;
  if ((b >= 0x30 && b <= 0x39) || c === ':') return 9; // timestamps on every line
  if ('-./'.includes(c)) return 6;
  if ('_=,'.includes(c)) return 4;
  return 2; // capitals, other punctuation, control bytes, UTF-8 above ASCII
}

/** English's most common letter pairs, which log text is full of. */
const COMMON_PAIRS = new Set('th he in er an re on at en nd ti es or te of ed is it al ar st to nt ng se ha as ou io le ve co me de hi ri ro ic ne ea ra ce li ch ll be ma si om ur'.split(' '));

function pairFrequency(a: number, b: number): number {
  return byteFrequency(a) * byteFrequency(b) * (COMMON_PAIRS.has(String.fromCharCode(a, b)) ? 3 : 1);
}

export class KeywordSearch {
  /** The distinct keywords as bytes, and per distinct keyword the indexes (into the constructor's list) it stands for. */
  private readonly words: Buffer[] = [];
  private readonly owners: number[][] = [];
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
  /**
   * The first pass over the buffer last searched: bit k of word w set when the pair at position
   * hitsFrom + SPAN * w + STRIDE * k belongs to some window; words [0, hitWords) hold the pairs below hitsTo.
   */
  private hits = new Int32Array(0);
  private hitWords = 0;
  private hitWordsComplete = 0;
  private hitsBuf: Uint8Array | null = null;
  private hitsFrom = 0;
  private hitsTo = 0;

  constructor(keywords: string[]) {
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
    // Shortest keywords first: a 4-byte keyword is its own window, and the pairs it brings cost the later ones less.
    const order = this.words.map((_, index) => index).sort((a, b) => this.words[a]!.length - this.words[b]!.length);
    for (const index of order) {
      const w = this.words[index]!;
      if (w.length < WINDOW) {
        this.short.push(index);
        continue;
      }
      const offset = rarestWindow(w, this.pairOffsets);
      for (let j = 0; j < STRIDE; j++) this.pairOffsets[(w[offset + j]! << 8) | w[offset + j + 1]!]! |= 1 << j;
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
   * up in a loop without branches that sets a bit per position whose pair belongs to a window (a
   * branch there mispredicts on every common pair); then only those positions are checked, the
   * window's other pairs first, without branches too, and whole windows compared.
   */
  private findLong(buf: Uint8Array, from: number, to: number): number {
    if (buf !== this.hitsBuf || from < this.hitsFrom) {
      this.hitsBuf = buf;
      this.hitsFrom = this.hitsTo = from;
      this.hitWords = this.hitWordsComplete = 0;
    }
    const hits = this.hits;
    const po = this.pairOffsets;
    let w = Math.floor((from - this.hitsFrom) / SPAN);
    let skip = Math.ceil((from - this.hitsFrom - SPAN * w) / STRIDE); // the positions of word w before `from`
    for (;;) {
      // A word is read once complete, or when it reaches `to`.
      if (w >= this.hitWordsComplete && !(w < this.hitWords && this.hitsTo >= to)) {
        if (this.hitsTo >= to) return -1;
        this.collect(buf, Math.min(to, this.hitsFrom + SPAN * (w + BLOCK_WORDS)));
        continue;
      }
      const base = this.hitsFrom + SPAN * w;
      let bits = this.hits[w]!;
      if (skip > 0) bits = skip >= 32 ? 0 : bits & (-1 << skip);
      skip = 0;
      w++;
      while (bits !== 0) {
        const i = base + STRIDE * (31 - Math.clz32(bits & -bits));
        bits &= bits - 1;
        // The window at i - 2 ends at i + 2: past `to` for this and every later position.
        if (i + 2 > to) return -1;
        let windows: number;
        if (i - 2 >= from && i + 4 <= to) {
          const a = po[(buf[i]! << 8) | buf[i + 1]!]!;
          const b = po[(buf[i + 1]! << 8) | buf[i + 2]!]!;
          const d = po[(buf[i - 1]! << 8) | buf[i]!]!;
          // Bit 0: a window at i - 2, bit 1: at i - 1, bit 2: at i (each of its three pairs at its offset).
          windows = (po[(buf[i - 2]! << 8) | buf[i - 1]!]! & (d >> 1) & (a >> 2) & 1) | ((d & (a >> 1) & (b >> 2) & 1) << 1) | ((a & (b >> 1) & (po[(buf[i + 2]! << 8) | buf[i + 3]!]! >> 2) & 1) << 2);
        } else windows = this.windowsAtEdge(buf, i, from, to);
        for (let j = 0; windows !== 0; j++, windows >>= 1) {
          if ((windows & 1) === 0) continue;
          const found = this.compare(buf, i - 2 + j, from, to, null);
          if (found >= 0) return found;
        }
      }
    }
  }

  /**
   * The first pass from the first incomplete word up to `to`: one bit per position, OR-ed into a
   * word per 32 positions, with no branch on the data. The last word may be partial (it ends at `to`).
   */
  private collect(buf: Uint8Array, to: number): void {
    let w = this.hitWordsComplete;
    const words = Math.ceil((to - this.hitsFrom) / SPAN);
    if (words > this.hits.length) {
      const grown = new Int32Array(Math.max(words, this.hits.length * 2));
      grown.set(this.hits.subarray(0, w));
      this.hits = grown;
    }
    const hits = this.hits;
    const po = this.pairOffsets;
    let i = this.hitsFrom + SPAN * w;
    for (; i + SPAN <= to; i += SPAN, w++) {
      let bits = 0;
      for (let k = 0, j = i; k < 32; k++, j += STRIDE) bits |= ((po[(buf[j]! << 8) | buf[j + 1]!]! + 255) >>> 8) << k; // 1 for offsets 1 to 7, 0 for none
      hits[w] = bits;
    }
    this.hitWordsComplete = w;
    if (i + 1 < to) {
      let bits = 0;
      for (let k = 0, j = i; j + 1 < to; k++, j += STRIDE) bits |= ((po[(buf[j]! << 8) | buf[j + 1]!]! + 255) >>> 8) << k;
      hits[w++] = bits;
    }
    this.hitWords = w;
    this.hitsTo = to;
  }

  /** The windows at i - 2, i - 1, i (bits 0, 1, 2) that lie in buf[from, to) with each pair at its offset. */
  private windowsAtEdge(buf: Uint8Array, i: number, from: number, to: number): number {
    const po = this.pairOffsets;
    const pair = (at: number, bit: number): boolean => at >= from && at + 2 <= to && (po[(buf[at]! << 8) | buf[at + 1]!]! & bit) !== 0;
    let windows = 0;
    for (let j = 0; j < STRIDE; j++) {
      const start = i - 2 + j;
      if (pair(start, 1) && pair(start + 1, 2) && pair(start + 2, 4)) windows |= 1 << j;
    }
    return windows;
  }

  /** Sets `marks[k] = 1` for the index k of every keyword that occurs in buf[from, to). */
  markIn(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    this.scan(buf, from, to, marks);
    if (!this.short.length) return;
    const line = Buffer.from(buf.buffer, buf.byteOffset + from, to - from);
    for (const w of this.short) if (line.includes(this.words[w]!)) for (const k of this.owners[w]!) marks[k] = 1;
  }

  /**
   * Window keywords in buf[from, to): the first one's start (marks null), or all of them marked.
   * A window inside buf[from, to) holds exactly one pair at a position from + STRIDE * k, so
   * windows are found in the order of their positions, and a line's before the next line's.
   */
  private scan(buf: Uint8Array, from: number, to: number, marks: Uint8Array | null): number {
    const po = this.pairOffsets;
    for (let i = from; i + 1 < to; i += STRIDE) {
      const offsets = po[(buf[i]! << 8) | buf[i + 1]!]!;
      if (offsets === 0) continue;
      // The window could start at i, i - 1 or i - 2 (STRIDE is 3): each only if its other two pairs
      // also belong to a window at their offsets (lookups in the same small table), then compared.
      let found = -1;
      if ((offsets & 1) !== 0 && i + WINDOW <= to && (po[(buf[i + 1]! << 8) | buf[i + 2]!]! & 2) !== 0 && (po[(buf[i + 2]! << 8) | buf[i + 3]!]! & 4) !== 0) found = this.compare(buf, i, from, to, marks);
      if (found < 0 && (offsets & 2) !== 0 && i - 1 >= from && i + 3 <= to && (po[(buf[i - 1]! << 8) | buf[i]!]! & 1) !== 0 && (po[(buf[i + 1]! << 8) | buf[i + 2]!]! & 4) !== 0) found = this.compare(buf, i - 1, from, to, marks);
      if (found < 0 && (offsets & 4) !== 0 && i - 2 >= from && i + 2 <= to && (po[(buf[i - 2]! << 8) | buf[i - 1]!]! & 1) !== 0 && (po[(buf[i - 1]! << 8) | buf[i]!]! & 2) !== 0) found = this.compare(buf, i - 2, from, to, marks);
      if (found >= 0) return found;
    }
    return -1;
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
      for (const k of this.owners[w]!) marks[k] = 1;
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

/**
 * The offset of the keyword's WINDOW-byte stretch whose pairs are least common: each pair of the log
 * found in a window costs a check, and each whole window a comparison. A pair some window already
 * holds (in the table) adds few checks, so it weighs SHARED_PAIR of its frequency.
 */
function rarestWindow(word: Buffer, table: Uint8Array): number {
  let best = 0;
  let bestCost = Infinity;
  for (let o = 0; o + WINDOW <= word.length; o++) {
    let cost = 0;
    for (let j = 1; j < WINDOW; j++) {
      const pair = (word[o + j - 1]! << 8) | word[o + j]!;
      cost += pairFrequency(word[o + j - 1]!, word[o + j]!) * (table[pair] === 0 ? 1 : SHARED_PAIR);
    }
    if (cost < bestCost) {
      bestCost = cost;
      best = o;
    }
  }
  return best;
}
