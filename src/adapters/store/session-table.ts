// Browser sessions of the control room, in the store so a restart keeps them and every controller
// on the store knows them. A row holds hashes only: whoever reads the table cannot log in with it.

import type { Kysely, Selectable } from 'kysely';
import type { Database } from './tables.js';

/** A browser session as stored: sha256 (hex) of the cookie's session id and of its CSRF token. */
export interface SessionRecord {
  idHash: string;
  tokenId: number;
  csrfHash: string;
  createdAt: string;
  expiresAt: string;
  /** When logout (or the revocation of its token) ended it; null while it lasts. */
  endedAt: string | null;
}

/** Sessions are not fenced: a standby controller serves the API and logs people in too. */
export interface SessionTable {
  create(session: SessionRecord): Promise<void>;
  get(idHash: string): Promise<SessionRecord | undefined>;
  /** Ends a live session; false when there is none by that hash or it had ended already. */
  end(idHash: string, at: string): Promise<boolean>;
  /** Deletes the sessions that expired at or before `at` (ISO-8601); returns how many went. */
  prune(at: string): Promise<number>;
}

const toSession = (r: Selectable<Database['api_sessions']>): SessionRecord => ({
  idHash: r.id_hash, tokenId: Number(r.token_id), csrfHash: r.csrf_hash, createdAt: r.created_at, expiresAt: r.expires_at, endedAt: r.ended_at,
});

export class KyselySessionTable implements SessionTable {
  constructor(private readonly db: Kysely<Database>) {}

  async create(s: SessionRecord): Promise<void> {
    await this.db
      .insertInto('api_sessions')
      .values({ id_hash: s.idHash, token_id: s.tokenId, csrf_hash: s.csrfHash, created_at: s.createdAt, expires_at: s.expiresAt, ended_at: s.endedAt })
      .execute();
  }

  async get(idHash: string): Promise<SessionRecord | undefined> {
    const row = await this.db.selectFrom('api_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
    return row ? toSession(row) : undefined;
  }

  async end(idHash: string, at: string): Promise<boolean> {
    const res = await this.db.updateTable('api_sessions').set({ ended_at: at }).where('id_hash', '=', idHash).where('ended_at', 'is', null).executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async prune(at: string): Promise<number> {
    const res = await this.db.deleteFrom('api_sessions').where('expires_at', '<=', at).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
