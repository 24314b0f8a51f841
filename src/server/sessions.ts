import { randomBytes } from 'node:crypto';

/** A browser's session: the token it logged in with (checked again on every request) and its CSRF token. */
export interface Session {
  id: string;
  tokenId: number;
  csrf: string;
  expiresAt: number;
}

/**
 * Sessions live in the serving process: a restart logs everyone out, and nothing about them is
 * written anywhere. Revoking the token ends its sessions at their next request.
 */
export class Sessions {
  private readonly byId = new Map<string, Session>();
  constructor(private readonly ttlMs: number, private readonly now: () => number = Date.now) {}

  create(tokenId: number): Session {
    this.sweep();
    const session = { id: randomBytes(32).toString('base64url'), tokenId, csrf: randomBytes(32).toString('base64url'), expiresAt: this.now() + this.ttlMs };
    this.byId.set(session.id, session);
    return session;
  }

  get(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.now()) {
      this.byId.delete(id);
      return undefined;
    }
    return s;
  }

  end(id: string | undefined): void {
    if (id) this.byId.delete(id);
  }

  private sweep(): void {
    const now = this.now();
    for (const [id, s] of this.byId) if (s.expiresAt <= now) this.byId.delete(id);
  }
}

/** A fixed window per key (a client address): at most `limit` attempts per `windowMs`. */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();
  constructor(private readonly limit: number, private readonly windowMs: number, private readonly now: () => number = Date.now) {}

  /** Counts an attempt; returns the seconds to wait when it is over the limit, else 0. */
  hit(key: string): number {
    const now = this.now();
    const w = this.windows.get(key);
    if (!w || now - w.start >= this.windowMs) {
      if (this.windows.size > 10_000) this.windows.clear();
      this.windows.set(key, { start: now, count: 1 });
      return 0;
    }
    w.count += 1;
    return w.count > this.limit ? Math.ceil((w.start + this.windowMs - now) / 1000) : 0;
  }
}
