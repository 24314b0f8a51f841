/**
 * Connections kept open for the length of one command (the ssh target's control masters), so
 * its many external commands reuse them; the command closes them all when it ends. Keyed, so a
 * connection opened by several users (targets of one environment built twice) closes once.
 */
export class OpenConnections {
  private readonly closers = new Map<string, () => Promise<void>>();

  /** Remembers how to close the connection `key`; the first registration wins. */
  keep(key: string, close: () => Promise<void>): void {
    if (!this.closers.has(key)) this.closers.set(key, close);
  }

  get size(): number {
    return this.closers.size;
  }

  /** Closes every connection kept so far; a close that fails is ignored (the connection times out on its own). */
  async closeAll(): Promise<void> {
    const all = [...this.closers.values()];
    this.closers.clear();
    await Promise.allSettled(all.map((close) => close()));
  }
}
