import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { SessionRecord, SessionTable } from '../adapters/store/store.js';

/** A browser's session as the store holds it: the token it logged in with (checked again on every request). */
export type Session = SessionRecord;

/** A session just made: the cookie's id and the CSRF token in clear, given to the browser once and never stored. */
export interface NewSession {
  id: string;
  csrf: string;
  session: Session;
}

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

/** True when `presented` is the session's CSRF token (hashes compared in constant time). */
export function csrfMatches(session: Session, presented: string): boolean {
  const x = Buffer.from(digest(presented), 'hex');
  const y = Buffer.from(session.csrfHash, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Sessions live in the store, so a restart keeps them and every controller on the store accepts
 * them; only sha256 of the session id and of the CSRF token is written (both are 32 random bytes).
 * Logging out ends a session everywhere; revoking its token ends it at its next request.
 */
export class Sessions {
  constructor(
    private readonly table: SessionTable,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Makes a session for a token, deleting the sessions that have expired meanwhile. */
  async create(tokenId: number): Promise<NewSession> {
    const now = this.now();
    await this.table.prune(new Date(now).toISOString());
    const id = randomBytes(32).toString('base64url');
    const csrf = randomBytes(32).toString('base64url');
    const session: Session = { idHash: digest(id), tokenId, csrfHash: digest(csrf), createdAt: new Date(now).toISOString(), expiresAt: new Date(now + this.ttlMs).toISOString(), endedAt: null };
    await this.table.create(session);
    return { id, csrf, session };
  }

  /** The live session whose id the cookie carries; undefined when unknown, ended or expired. */
  async get(id: string | undefined): Promise<Session | undefined> {
    if (!id) return undefined;
    const s = await this.table.get(digest(id));
    if (!s || s.endedAt !== null || Date.parse(s.expiresAt) <= this.now()) return undefined;
    return s;
  }

  /** Ends a session on every controller; false when it had ended already. */
  end(session: Session): Promise<boolean> {
    return this.table.end(session.idHash, new Date(this.now()).toISOString());
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
