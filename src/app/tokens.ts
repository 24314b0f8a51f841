import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiTokenRecord, Store } from '../adapters/store/store.js';
import { isoNow } from '../core/clock.js';
import { badInput } from '../core/errors.js';
import type { Identity } from '../core/identity.js';
import { isRole, ROLES, type Role } from '../core/roles.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

/** What is shown of a token after it was created: never its secret, salt or hash. */
export interface TokenView {
  id: number;
  name: string;
  role: Role;
  createdAt: string;
  createdBy: string;
  revokedAt: string | null;
}

/** `sgt_<id>_<secret>`: the id finds the row, the 256-bit secret is checked against its salted hash. */
const TOKEN_TEXT = /^sgt_(\d{1,12})_([A-Za-z0-9_-]{43})$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;

const hashSecret = (salt: string, secret: string) => createHmac('sha256', Buffer.from(salt, 'hex')).update(secret).digest('hex');

export const tokenView = (t: ApiTokenRecord): TokenView => ({ id: t.id, name: t.name, role: t.role, createdAt: t.createdAt, createdBy: t.createdBy, revokedAt: t.revokedAt });

/** The identity a token proves: its owner's name, by this token. */
export const tokenIdentity = (t: Pick<ApiTokenRecord, 'id' | 'name'>): Identity => ({ method: 'api-token', principal: t.name, tokenId: String(t.id) });

export function checkTokenRequest(name: string, role: string): Role {
  if (!NAME.test(name)) throw badInput(`--name must be a person's name of letters, digits and . _ @ - (at most 64), got ${JSON.stringify(name)}`, { where: '--name', hint: 'For example --name alice.' });
  if (!isRole(role)) throw badInput(`--role must be one of ${ROLES.join(', ')}, got ${JSON.stringify(role)}`, { where: '--role', hint: 'Roles grow in this order: viewer < deployer < approver < admin.' });
  return role;
}

/** Creates a token for `name` with `role`; the returned text is the only time the secret exists outside its owner. */
export async function createToken(ctx: AppContext, opts: { name: string; role: string }): Promise<{ token: string; view: TokenView }> {
  const role = checkTokenRequest(opts.name, opts.role);
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  const row = await ctx.store.createApiToken({ name: opts.name, role, salt, hash: hashSecret(salt, secret), createdAt: isoNow(ctx.clock), createdBy: ctx.actor });
  await record(ctx, { action: 'token.create', outcome: 'ok', detail: { tokenId: row.id, name: row.name, role } });
  return { token: `sgt_${row.id}_${secret}`, view: tokenView(row) };
}

export async function listTokens(ctx: AppContext, all = false): Promise<TokenView[]> {
  return (await ctx.store.listApiTokens()).filter((t) => all || !t.revokedAt).map(tokenView);
}

export async function revokeToken(ctx: AppContext, id: number, reason: string | undefined): Promise<TokenView> {
  const row = await ctx.store.getApiToken(id);
  if (!row) throw badInput(`no API token #${id}`, { where: '<token-id>', hint: 'List them with `shipgate token list`.' });
  if (!(await ctx.store.revokeApiToken(id, isoNow(ctx.clock)))) throw badInput(`API token #${id} (${row.name}) is already revoked`, { where: '<token-id>', hint: 'List live tokens with `shipgate token list`.' });
  await record(ctx, { action: 'token.revoke', outcome: 'ok', reason: reason ?? null, detail: { tokenId: id, name: row.name, role: row.role } });
  return tokenView((await ctx.store.getApiToken(id))!);
}

/** The live token this text is, or null (malformed, unknown, revoked, or a wrong secret: all the same to the caller). */
export async function authenticateToken(store: Store, text: string): Promise<ApiTokenRecord | null> {
  const m = TOKEN_TEXT.exec(text.trim());
  if (!m) return null;
  const row = await store.getApiToken(Number(m[1]));
  if (!row || row.revokedAt) return null;
  const expected = Buffer.from(row.hash, 'hex');
  const actual = Buffer.from(hashSecret(row.salt, m[2]!), 'hex');
  return expected.length === actual.length && timingSafeEqual(expected, actual) ? row : null;
}
