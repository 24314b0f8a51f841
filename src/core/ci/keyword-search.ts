/**
 * Finds the causes' keywords in a log without looking at every byte (Wu-Manber): a window of
 * WINDOW bytes slides over the log, and the last two bytes under it say how far it may jump (up
 * to WINDOW - 1 bytes) before a keyword could end under it. Most positions of a log are jumped
 * over; only where a keyword's window could end are keywords compared. Keywords shorter than the
 * window (ESC, `##[`, short project keywords) are found by Buffer.indexOf, which is memchr.
 */
const WINDOW = 4;

/**
 * How often a byte turns up in CI logs, roughly (higher: more often): the window of a keyword is
 * put where its bytes are rare, so that the log's common pairs (`e `, `er`, timestamps' `:0`) seldom
 * stop the window.
 */
function byteFrequency(b: number): number {
  if (b === 0x20) return 10;
  if (b >= 0x61 && b <= 0x7a) return 'etaoinsrhldcu'.includes(String.fromCharCode(b)) ? 7 : 4;
  if (b >= 0x30 && b <= 0x39) return 6;
  if (':-./_=,'.includes(String.fromCharCode(b))) return 5;
  if (b >= 0x41 && b <= 0x5a) return 3;
  return 2;
}

export class KeywordSearch {
  /** The distinct keywords as bytes, and per distinct keyword the indexes (into the constructor's list) it stands for. */
  private readonly words: Buffer[] = [];
  private readonly owners: number[][] = [];
  /** Per pair of bytes ending the window, how far the window may move on (0: a keyword's window ends here). */
  private readonly shift = new Uint8Array(65536).fill(WINDOW - 1);
  /** Per pair of bytes, the bucket of the keywords whose window ends in it (-1: none); bucket b holds entries bucketStart[b] .. bucketStart[b + 1] - 1. */
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
    const entries: { gram: number; word: number; offset: number }[] = [];
    this.words.forEach((w, index) => {
      if (w.length < WINDOW) return void this.short.push(index);
      const offset = rarestWindow(w);
      for (let j = 1; j < WINDOW; j++) {
        const gram = (w[offset + j - 1]! << 8) | w[offset + j]!;
        this.shift[gram] = Math.min(this.shift[gram]!, WINDOW - 1 - j);
      }
      entries.push({ gram: (w[offset + WINDOW - 2]! << 8) | w[offset + WINDOW - 1]!, word: index, offset });
    });
    entries.sort((a, b) => a.gram - b.gram);
    this.entryWord = Int32Array.from(entries, (e) => e.word);
    this.entryOffset = Int32Array.from(entries, (e) => e.offset);
    // Only the pairs in use are touched: a loop over all 65 536 would cost more than the rest (it runs once, unoptimised).
    const starts: number[] = [];
    entries.forEach((e, index) => {
      if (this.bucketOf[e.gram] === -1) {
        this.bucketOf[e.gram] = starts.length;
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
    const long = this.scan(buf, from, limit, null);
    return long < 0 ? short : short < 0 ? long : Math.min(long, short);
  }

  /** Sets `marks[k] = 1` for the index k of every keyword that occurs in buf[from, to). */
  markIn(buf: Uint8Array, from: number, to: number, marks: Uint8Array): void {
    this.scan(buf, from, to, marks);
    if (!this.short.length) return;
    const line = Buffer.from(buf.buffer, buf.byteOffset + from, to - from);
    for (const w of this.short) if (line.includes(this.words[w]!)) for (const k of this.owners[w]!) marks[k] = 1;
  }

  /** Window keywords in buf[from, to): the first one's start (marks null), or all of them marked. */
  private scan(buf: Uint8Array, from: number, to: number, marks: Uint8Array | null): number {
    const shift = this.shift;
    let i = from + WINDOW - 1;
    while (i < to) {
      const gram = (buf[i - 1]! << 8) | buf[i]!;
      const s = shift[gram]!;
      if (s !== 0) {
        i += s;
        continue;
      }
      const windowStart = i - WINDOW + 1;
      const bucket = this.bucketOf[gram]!;
      for (let e = this.bucketStart[bucket]!, last = this.bucketStart[bucket + 1]!; e < last; e++) {
        const w = this.entryWord[e]!;
        const start = windowStart - this.entryOffset[e]!;
        if (start < from || !matchesAt(buf, start, to, this.words[w]!)) continue;
        if (marks === null) return start;
        for (const k of this.owners[w]!) marks[k] = 1;
      }
      i++;
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

function matchesAt(buf: Uint8Array, start: number, to: number, word: Buffer): boolean {
  if (start + word.length > to) return false;
  for (let j = 0; j < word.length; j++) if (buf[start + j] !== word[j]) return false;
  return true;
}

/** The offset of the keyword's WINDOW-byte stretch least likely to stop the window: its last pair (where keywords are compared) weighs most. */
function rarestWindow(word: Buffer): number {
  let best = 0;
  let bestCost = Infinity;
  for (let o = 0; o + WINDOW <= word.length; o++) {
    let cost = 0;
    for (let j = 1; j < WINDOW; j++) cost += byteFrequency(word[o + j - 1]!) * byteFrequency(word[o + j]!) * (1 << (j - 1));
    if (cost < bestCost) {
      bestCost = cost;
      best = o;
    }
  }
  return best;
}
