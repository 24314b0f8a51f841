// Admin endpoints: API tokens (list, revoke a leaked one at once) and a database restore, each the
// same use case as its CLI command, as the token's owner. Creating a token stays on the host
// (`shipgate token create`): it is where trust starts, and a token is shown only once.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../app/context.js';
import { callerContext, requireRole, type ApiEnv } from './auth.js';
import { positiveInt } from './query.js';
import { READ_ROLES } from './routes-ops.js';
import { WRITE_ROLES, body } from './routes-write.js';
import { restoreBody, tokenRevokeBody } from './schemas.js';

export function adminRoutes(ctx: AppContext): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const as = (c: Context<ApiEnv>) => callerContext(ctx, c.get('caller')!);

  r.get('/tokens', requireRole(ctx, READ_ROLES['GET /api/tokens']), async (c) => {
    const { listTokens } = await import('../app/tokens.js');
    return c.json({ tokens: await listTokens(as(c), c.req.query('all') === 'true') });
  });
  r.post('/tokens/:id/revoke', requireRole(ctx, WRITE_ROLES['POST /api/tokens/:id/revoke']), async (c) => {
    const b = await body(c, tokenRevokeBody);
    const { revokeToken } = await import('../app/tokens.js');
    return c.json({ ok: true as const, token: await revokeToken(as(c), positiveInt(c.req.param('id'), 'id')!, b.reason) });
  });

  // Under the environment's lock, refused (409) when data written since the backup would be lost
  // unless acceptDataLoss; ok false when the integrity check after it failed.
  r.post('/restore', requireRole(ctx, WRITE_ROLES['POST /api/restore']), async (c) => {
    const b = await body(c, restoreBody);
    const { restoreUnderLock } = await import('../app/database-restore.js');
    const result = await restoreUnderLock(as(c), b.env, b.backupId, { acceptDataLoss: b.acceptDataLoss ?? false, reason: b.reason });
    return c.json({ ok: result.integrity?.ok ?? true, ...result });
  });
  return r;
}
