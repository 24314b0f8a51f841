import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { record } from '../app/audit.js';
import type { AppContext } from '../app/context.js';
import { silentProgress } from '../app/progress.js';
import { authenticateToken, tokenIdentity } from '../app/tokens.js';
import type { ApiTokenRecord } from '../adapters/store/store.js';
import type { Identity } from '../core/identity.js';
import { roleAtLeast, type Role } from '../core/roles.js';
import { csrfMatches, type Session, type Sessions } from './sessions.js';

export const SESSION_COOKIE = 'shipgate_session';
export const CSRF_HEADER = 'X-CSRF-Token';

/** Who is calling, proven by a bearer token or by a browser session made from one. */
export interface Caller {
  token: ApiTokenRecord;
  identity: Identity;
  via: 'bearer' | 'session';
  session?: Session;
}

export type ApiEnv = { Variables: { caller: Caller | null } };

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const problem = (c: Context, status: 400 | 401 | 403 | 404 | 409 | 429 | 500, message: string, hint?: string) =>
  c.json({ ok: false as const, error: { message, ...(hint ? { hint } : {}) } }, status);

/**
 * Finds the caller (no answer yet: routes decide with `requireRole`). A bearer token is checked
 * against its salted hash; a session cookie against the sessions in the store (made by any controller
 * on it), and its token again, so revoking a token ends its sessions at their next request.
 */
export function authenticate(ctx: AppContext, sessions: Sessions): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    c.set('caller', null);
    const header = c.req.header('authorization');
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)$/i.exec(header.trim());
      const token = m ? await authenticateToken(ctx.store, m[1]!) : null;
      if (!token) return problem(c, 401, 'the bearer token is invalid or revoked', 'Create one with `shipgate token create --name NAME --role ROLE`.');
      c.set('caller', { token, identity: tokenIdentity(token), via: 'bearer' });
      return next();
    }
    const session = await sessions.get(getCookie(c, SESSION_COOKIE));
    if (session) {
      const token = await ctx.store.getApiToken(session.tokenId);
      if (!token || token.revokedAt) await sessions.end(session);
      else c.set('caller', { token, identity: tokenIdentity(token), via: 'session', session });
    }
    return next();
  };
}

/**
 * 401 without a caller; for a mutating request from a browser session, 403 without the session's
 * CSRF token in X-CSRF-Token (a bearer request cannot be forged by another site: the browser never
 * adds the header by itself); 403 below `role`, recorded in the audit log with who tried.
 */
export function requireRole(ctx: AppContext, role: Role): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const caller = c.get('caller');
    if (!caller) return problem(c, 401, 'this needs an API token: send Authorization: Bearer TOKEN, or log in (POST /api/login)', 'Create one with `shipgate token create --name NAME --role ROLE`.');
    const mutating = MUTATING.has(c.req.method);
    if (mutating && caller.via === 'session' && !csrfMatches(caller.session!, c.req.header(CSRF_HEADER) ?? '')) {
      return problem(c, 403, `a request from a browser session needs the ${CSRF_HEADER} header from POST /api/login`, 'Send the csrfToken that login returned as the X-CSRF-Token header.');
    }
    if (!roleAtLeast(caller.token.role, role)) return forbid(ctx, c, caller, role, mutating);
    return next();
  };
}

/**
 * For an option that raises the role a request needs (e.g. deploy's allowBad: approver): null when
 * the caller has `role`, else the 403 answer, audited as api.forbidden naming the option.
 * Called in the handler after `requireRole` (which already checked the session's CSRF token).
 */
export async function elevatedRole(ctx: AppContext, c: Context<ApiEnv>, role: Role, option: string): Promise<Response | null> {
  const caller = c.get('caller')!;
  return roleAtLeast(caller.token.role, role) ? null : forbid(ctx, c, caller, role, true, option);
}

async function forbid(ctx: AppContext, c: Context, caller: Caller, role: Role, mutating: boolean, option?: string): Promise<Response> {
  const what = `${c.req.method} ${c.req.path}${option ? ` with ${option}` : ''}`;
  if (mutating) await record(callerContext(ctx, caller), { action: 'api.forbidden', outcome: 'refused', reason: `${what} needs ${role}`, detail: { role: caller.token.role, needed: role, ...(option ? { option } : {}) } });
  return problem(c, 403, `${caller.token.name}'s token is ${caller.token.role}; ${what} needs ${role} or above`, 'Ask an admin for a token with that role.');
}

/** The use cases run as the caller: the audit log and approvals record the token's owner and identity. */
export function callerContext(ctx: AppContext, caller: Caller): AppContext {
  return { ...ctx, actor: caller.token.name, identity: caller.identity, progress: silentProgress };
}
