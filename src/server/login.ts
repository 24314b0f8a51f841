// Browser login: a token exchanged for an HttpOnly, SameSite=Strict session cookie and a CSRF token.
import { getConnInfo } from '@hono/node-server/conninfo';
import { Hono } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { record } from '../app/audit.js';
import type { AppContext } from '../app/context.js';
import { authenticateToken, tokenIdentity } from '../app/tokens.js';
import { callerContext, problem, SESSION_COOKIE, type ApiEnv } from './auth.js';
import { body } from './routes-write.js';
import { loginBody } from './schemas.js';
import { RateLimiter, Sessions } from './sessions.js';

export interface LoginOptions {
  secure: boolean;
  sessionTtlMs: number;
  /** Login attempts per client address per minute. */
  attemptsPerMinute: number;
}

export function loginRoutes(ctx: AppContext, sessions: Sessions, options: LoginOptions): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const limiter = new RateLimiter(options.attemptsPerMinute, 60_000);

  r.post('/login', async (c) => {
    const client = getConnInfo(c).remote.address ?? 'unknown';
    const wait = limiter.hit(client);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      return problem(c, 429, `too many login attempts from ${client}: at most ${options.attemptsPerMinute} a minute`, `Try again in ${wait} s.`);
    }
    const { token: text } = await body(c, loginBody);
    const token = await authenticateToken(ctx.store, text);
    if (!token) {
      await record({ ...ctx, actor: '(unauthenticated)' }, { action: 'api.login', outcome: 'refused', reason: 'invalid or revoked token', detail: { client } });
      return problem(c, 401, 'that token is invalid or revoked', 'Create one with `shipgate token create --name NAME --role ROLE`.');
    }
    const session = await sessions.create(token.id);
    setCookie(c, SESSION_COOKIE, session.id, { httpOnly: true, sameSite: 'Strict', path: '/', secure: options.secure, maxAge: Math.floor(options.sessionTtlMs / 1000) });
    await record(callerContext(ctx, { token, identity: tokenIdentity(token), via: 'session' }), { action: 'api.login', outcome: 'ok', detail: { client, tokenId: token.id } });
    return c.json({ ok: true as const, name: token.name, role: token.role, csrfToken: session.csrf });
  });

  // Ends the session in the store, so on every controller; audited as the token's owner (never the session id).
  r.post('/logout', async (c) => {
    const session = await sessions.get(getCookie(c, SESSION_COOKIE));
    if (session && (await sessions.end(session))) {
      const token = await ctx.store.getApiToken(session.tokenId);
      const client = getConnInfo(c).remote.address ?? 'unknown';
      if (token) await record(callerContext(ctx, { token, identity: tokenIdentity(token), via: 'session', session }), { action: 'api.logout', outcome: 'ok', detail: { client, tokenId: token.id } });
    }
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.json({ ok: true as const });
  });
  return r;
}
