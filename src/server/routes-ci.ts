// CI endpoints (role viewer; a re-run deployer): the same use cases as `shipgate ci triage|status|flaky|rerun`.
import { Hono } from 'hono';
import { commitChecks, listFlaky, rerunFailed, triageRemote } from '../app/ci-triage.js';
import type { AppContext } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { callerContext, requireRole, type ApiEnv } from './auth.js';
import { WRITE_ROLES, body } from './routes-write.js';
import { ciRerunBody } from './schemas.js';

const ref = (value: string | undefined) => {
  if (!value?.trim()) throw badInput('ref is required: a run id, run URL, tag or commit', { where: 'ref', hint: 'For example ?ref=v1.2.0 or ?ref=1234567.' });
  return value.trim();
};

export function ciRoutes(ctx: AppContext): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const view = requireRole(ctx, 'viewer');
  r.get('/ci/flaky', view, async (c) => c.json({ flaky: await listFlaky(ctx) }));
  r.get('/ci/triage', view, async (c) => c.json({ runs: await triageRemote(callerContext(ctx, c.get('caller')!), ref(c.req.query('ref'))) }));
  r.get('/ci/status', view, async (c) => c.json(await commitChecks(callerContext(ctx, c.get('caller')!), ref(c.req.query('ref')))));
  r.post('/ci/rerun', requireRole(ctx, WRITE_ROLES['POST /api/ci/rerun']), async (c) => {
    const b = await body(c, ciRerunBody);
    return c.json({ ok: true as const, ...(await rerunFailed(callerContext(ctx, c.get('caller')!), b.run)) });
  });
  return r;
}
