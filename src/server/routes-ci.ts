// CI endpoints (role viewer): the same use cases as `shipgate ci triage|status|flaky`.
import { Hono } from 'hono';
import { commitChecks, listFlaky, triageRemote } from '../app/ci-triage.js';
import type { AppContext } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { callerContext, requireRole, type ApiEnv } from './auth.js';

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
  return r;
}
