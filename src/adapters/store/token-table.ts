// API tokens: one row per token, holding its salted hash (never the secret), its owner and role.

import type { Kysely, Selectable } from 'kysely';
import type { Role } from '../../core/roles.js';
import type { ApiTokenRecord, NewApiToken } from './store.js';
import type { Database } from './tables.js';

const toToken = (r: Selectable<Database['api_tokens']>): ApiTokenRecord => ({
  id: Number(r.id), name: r.name, role: r.role as Role, salt: r.salt, hash: r.hash, createdAt: r.created_at, createdBy: r.created_by, revokedAt: r.revoked_at,
});

export async function createApiToken(db: Kysely<Database>, t: NewApiToken): Promise<ApiTokenRecord> {
  const row = await db
    .insertInto('api_tokens')
    .values({ name: t.name, role: t.role, salt: t.salt, hash: t.hash, created_at: t.createdAt, created_by: t.createdBy, revoked_at: null })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toToken(row);
}

export async function getApiToken(db: Kysely<Database>, id: number): Promise<ApiTokenRecord | undefined> {
  const row = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toToken(row) : undefined;
}

export async function listApiTokens(db: Kysely<Database>): Promise<ApiTokenRecord[]> {
  return (await db.selectFrom('api_tokens').selectAll().orderBy('id').execute()).map(toToken);
}

/** Revokes a live token; false when there is none by that id or it was revoked already. */
export async function revokeApiToken(db: Kysely<Database>, id: number, at: string): Promise<boolean> {
  const res = await db.updateTable('api_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
