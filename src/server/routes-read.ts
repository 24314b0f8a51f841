// GET endpoints (role viewer): the same app functions the CLI's reporting commands call.
import { Hono } from 'hono';
import { listApprovals } from '../app/approvals.js';
import type { AppContext } from '../app/context.js';
import { showIncident } from '../app/incidents.js';
import { resetCheck } from '../app/runbooks/breaker.js';
import { readSafety, safetyStoreFor } from '../app/safety.js';
import { watchSeries } from '../app/analysis/series.js';
import { monitorViews, soakViews } from '../app/soak-status.js';
import { environmentStatus, environmentStatuses } from '../app/status.js';
import { deployWindow } from '../app/window.js';
import { parseInstant } from '../core/calendar/window.js';
import { badInput } from '../core/errors.js';
import { callerContext, requireRole, type ApiEnv } from './auth.js';
import { positiveInt, sequence } from './query.js';

export function readRoutes(ctx: AppContext): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  // Per route, not r.use('*'): mounted under /api, a wildcard would also guard other files' routes.
  const view = requireRole(ctx, 'viewer');
  const as = (c: { get(k: 'caller'): ApiEnv['Variables']['caller'] }) => callerContext(ctx, c.get('caller')!);
  const env = (value: string | undefined) => {
    if (value !== undefined) ctx.environment(value);
    return value;
  };

  r.get('/me', view, (c) => {
    const caller = c.get('caller')!;
    return c.json({ name: caller.token.name, role: caller.token.role, tokenId: caller.token.id, via: caller.via });
  });

  r.get('/environments', view, async (c) => {
    const run = as(c);
    return c.json({ environments: await environmentStatuses(run, Object.keys(run.config.environments).map((name) => run.environment(name))) });
  });
  r.get('/environments/:env', view, async (c) => c.json(await environmentStatus(as(c), env(c.req.param('env'))!)));

  r.get('/deployments', view, async (c) => {
    const limit = positiveInt(c.req.query('limit'), 'limit', 20)!;
    const rows = await ctx.store.listDeployments({ ...(env(c.req.query('env')) ? { env: c.req.query('env')! } : {}), limit: Math.min(limit, 500) });
    return c.json({ deployments: await Promise.all(rows.map(async (d) => ({ ...d, steps: await ctx.store.listSteps(d.id) }))) });
  });
  r.get('/deployments/:id', view, async (c) => {
    const id = positiveInt(c.req.param('id'), 'id')!;
    const d = await ctx.store.getDeployment(id);
    if (!d) throw badInput(`no deployment #${id}`, { where: 'id', hint: 'List them with GET /api/deployments.' });
    return c.json({ ...d, steps: await ctx.store.listSteps(id) });
  });

  r.get('/approvals', view, async (c) => c.json({ approvals: await listApprovals(as(c), env(c.req.query('env')), c.req.query('all') === 'true') }));

  r.get('/safety', view, async (c) => {
    const name = env(c.req.query('env') ?? 'production')!;
    const view = as(c);
    return c.json({ safety: await readSafety(view, name, safetyStoreFor(view, name)) });
  });

  // What `breaker reset` would check, evaluated by the same function; changes nothing.
  r.get('/breaker/preconditions', view, async (c) => {
    const name = env(c.req.query('env') ?? 'production')!;
    const view = as(c);
    return c.json(await resetCheck(view, name, safetyStoreFor(view, name)));
  });

  r.get('/incidents', view, async (c) => c.json({ incidents: await ctx.store.listIncidents({ ...(env(c.req.query('env')) ? { env: c.req.query('env')! } : {}), limit: positiveInt(c.req.query('limit'), 'limit', 50)! }) }));
  r.get('/incidents/:id', view, async (c) => c.json({ incident: await showIncident(as(c), positiveInt(c.req.param('id'), 'id')!) }));

  r.get('/audit', view, async (c) => {
    const q = c.req.query();
    const events = await ctx.store.listAudit({
      ...(env(q.env) ? { env: q.env } : {}), ...(q.action ? { action: q.action } : {}), ...(q.version ? { version: q.version } : {}),
      ...(q.since !== undefined ? { sinceSeq: sequence(q.since, 'since')! } : {}), limit: Math.min(positiveInt(q.limit, 'limit', 200)!, 5000),
    });
    return c.json({ events: q.actor ? events.filter((e) => e.actor === q.actor) : events });
  });

  r.get('/window', view, (c) => {
    const at = c.req.query('at');
    const when = at === undefined ? ctx.wallClock.now() : parseInstant(at);
    if (!when) throw badInput(`at must be an ISO-8601 time, got ${JSON.stringify(at)}`, { where: 'at', hint: 'For example at=2026-11-24T10:00:00-05:00.' });
    const d = deployWindow(ctx.config, env(c.req.query('env')), when);
    return c.json({ open: d.open, reason: d.reason, nextOpen: d.nextOpen ?? null, at: d.at, timezone: d.timezone, rule: d.rule, enforced: d.enforced, policy: d.policySource });
  });

  r.get('/soaks', view, async (c) => c.json({ soaks: await soakViews(as(c), env(c.req.query('env')), positiveInt(c.req.query('limit'), 'limit', 10)) }));
  r.get('/monitors', view, async (c) => c.json({ monitors: await monitorViews(as(c), env(c.req.query('env')), positiveInt(c.req.query('limit'), 'limit', 10)) }));
  r.get('/watches/:id/series', view, async (c) => c.json(await watchSeries(as(c), positiveInt(c.req.param('id'), 'id')!, Math.min(positiveInt(c.req.query('limit'), 'limit', 5000)!, 50_000))));
  return r;
}
