// What an operator reaches for during a release or an incident, beside deploy and rollback: locks,
// service health (and restarting the unhealthy), logs, the controller, the audit log's proof, backups,
// the kill switch with the broker's open orders, the common-issues diagnosis and the incident report.
// Each calls the same app function as its CLI command, as the token's owner.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../app/context.js';
import { badInput } from '../core/errors.js';
import { callerContext, requireRole, type ApiEnv } from './auth.js';
import { positiveInt } from './query.js';
import { overrides } from './routes-release.js';
import { WRITE_ROLES, body } from './routes-write.js';
import { decideQuery, envBody, lockAcquireBody, lockReleaseBody } from './schemas.js';

/** GET endpoints that need more than viewer (README: "The control room"). */
export const READ_ROLES = {
  /** Service logs are shown as the services wrote them: shipgate cannot redact what a service prints. */
  'GET /api/logs': 'deployer',
  /** Who holds which role: the people to ask, and the ones to revoke. */
  'GET /api/tokens': 'admin',
} as const;

const requiredEnv = (value: string | undefined) => {
  if (!value?.trim()) throw badInput('env is required', { where: 'env', hint: 'For example ?env=production.' });
  return value.trim();
};

export function opsRoutes(ctx: AppContext): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const view = requireRole(ctx, 'viewer');
  const role = (key: keyof typeof WRITE_ROLES) => requireRole(ctx, WRITE_ROLES[key]);
  const as = (c: Context<ApiEnv>) => callerContext(ctx, c.get('caller')!);

  r.get('/locks', view, async (c) => c.json({ locks: await (await import('../app/manual-lock.js')).lockStatus(as(c)) }));
  r.post('/locks/acquire', role('POST /api/locks/acquire'), async (c) => {
    const b = await body(c, lockAcquireBody);
    const lock = await (await import('../app/manual-lock.js')).acquireManualLock(as(c), b.env, b.reason, b.lease ?? '1h');
    return c.json({ ok: true as const, lock });
  });
  r.post('/locks/release', role('POST /api/locks/release'), async (c) => {
    const b = await body(c, lockReleaseBody);
    const refusal = await overrides(ctx, c, { force: b.force });
    if (refusal) return refusal;
    const res = await (await import('../app/manual-lock.js')).releaseManualLock(as(c), b.env, { force: b.force ?? false, ...(b.reason ? { reason: b.reason } : {}) });
    return c.json({ ok: true as const, ...res });
  });

  r.get('/health', view, async (c) => c.json(await (await import('../app/health-check.js')).environmentHealth(as(c), requiredEnv(c.req.query('env')))));
  r.post('/health/restart', role('POST /api/health/restart'), async (c) => {
    const b = await body(c, envBody);
    return c.json(await (await import('../app/health-check.js')).environmentHealth(as(c), b.env, { restartUnhealthy: true }));
  });
  r.get('/logs', requireRole(ctx, READ_ROLES['GET /api/logs']), async (c) => {
    const env = requiredEnv(c.req.query('env'));
    const tail = Math.min(positiveInt(c.req.query('tail'), 'tail', 100)!, 5000);
    return c.json({ env, logs: await (await import('../app/health-check.js')).environmentLogs(as(c), env, c.req.query('service') || undefined, tail, 'service') });
  });

  r.get('/controller', view, async (c) => c.json(await (await import('../app/controller-status.js')).controllerStatus(as(c))));
  r.get('/audit/verify', view, async (c) => c.json(await ctx.store.verifyAudit()));

  r.get('/backups', view, async (c) => {
    const env = c.req.query('env') || undefined;
    const limit = Math.min(positiveInt(c.req.query('limit'), 'limit', 50)!, 500);
    return c.json({ backups: await (await import('../app/database.js')).listBackups(as(c), { ...(env ? { env } : {}), limit }) });
  });
  r.post('/backups', role('POST /api/backups'), async (c) => {
    const b = await body(c, envBody);
    return c.json({ ok: true as const, backup: await (await import('../app/database.js')).takeBackup(as(c), b.env) });
  });

  r.get('/killswitch', view, async (c) => {
    const env = c.req.query('env') || 'production';
    ctx.environment(env);
    const [{ killSwitchStatus }, { safetyStoreFor }] = await Promise.all([import('../app/runbooks/killswitch.js'), import('../app/safety.js')]);
    const run = as(c);
    return c.json(await killSwitchStatus(run, env, safetyStoreFor(run, env)));
  });

  r.get('/diagnose', view, async (c) => {
    const env = requiredEnv(c.req.query('env'));
    ctx.environment(env);
    return c.json({ env, findings: await (await import('../app/diagnose.js')).diagnose(as(c), env) });
  });

  // The runbook's rules on rolling back or fixing forward: pure, as `shipgate decide`.
  r.get('/decide', view, async (c) => {
    const parsed = decideQuery.safeParse(c.req.query());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const field = issue.path.join('.');
      throw badInput(`${field}: ${issue.message}`, { where: field, hint: 'Give true or false, or leave it out if you do not know.' });
    }
    const [{ decide }, { decisionInput }] = await Promise.all([import('../core/decide.js'), import('../core/decide-input.js')]);
    const input = decisionInput(parsed.data, 'query');
    return c.json({ ok: true as const, ...decide(input), input });
  });

  r.get('/incidents/:id/report', view, async (c) => {
    const { incidentMarkdown, showIncident } = await import('../app/incidents.js');
    const markdown = incidentMarkdown(await showIncident(as(c), positiveInt(c.req.param('id'), 'id')!));
    return c.body(markdown, 200, { 'Content-Type': 'text/markdown; charset=utf-8' });
  });
  return r;
}
