/**
 * The last whole lines of a log already scanned, for looking back across a chunk boundary (a file
 * header above a match, the line before it). The reader reuses its buffer, so the lines are copied,
 * into one fixed buffer: a fresh copy per chunk would be garbage the size of the log over a run.
 */
export class LogTail {
  private readonly store: Buffer;
  private length = 0;

  constructor(private readonly capacity: number) {
    this.store = Buffer.alloc(capacity);
  }

  /** Remembers buf[0, end), which ends at a line boundary, after what was kept before. */
  keep(buf: Buffer, end: number): void {
    const store = this.store;
    if (end >= this.capacity) {
      const start = lineStartAtOrAfter(buf, end - this.capacity, end);
      buf.copy(store, 0, start, end);
      this.length = end - start;
      return;
    }
    const room = this.capacity - end;
    if (this.length > room) {
      const start = lineStartAtOrAfter(store, this.length - room, this.length);
      store.copy(store, 0, start, this.length); // overlapping regions are copied as memmove does
      this.length -= start;
    }
    buf.copy(store, this.length, 0, end);
    this.length += end;
  }

  /** The raw lines above buf[start], nearest first: in buf, then in what was kept before it. */
  *linesAbove(buf: Buffer, start: number): Generator<Buffer> {
    const kept = this.store.subarray(0, this.length);
    for (const [b, from] of [[buf, start], [kept, kept.length]] as const) {
      let end = from - 1;
      while (end >= 0) {
        const begin = end === 0 ? 0 : b.lastIndexOf(10, end - 1) + 1;
        yield b.subarray(begin, end);
        end = begin - 1;
      }
    }
  }
}

/** The first line start at or after `from` in buf[0, end): `from` itself when a line starts there, else after the next newline (or `end`). */
function lineStartAtOrAfter(buf: Buffer, from: number, end: number): number {
  if (from === 0 || buf[from - 1] === 10) return from;
  const nl = buf.indexOf(10, from);
  return nl < 0 || nl >= end ? end : nl + 1;
}
