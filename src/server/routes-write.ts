// Mutating endpoints: each needs a role, runs the same use case as the CLI as the token's owner,
// and is audited by it (the use cases record; callerContext puts the identity on every event).
import { Hono, type Context } from 'hono';
import type { z } from 'zod';
import { approve, findApproval } from '../app/approvals.js';
import type { AppContext } from '../app/context.js';
import { resetBreaker } from '../app/runbooks/breaker.js';
import { killSwitchOff, killSwitchOn } from '../app/runbooks/killswitch.js';
import { safetySpecs, safetyStoreFor } from '../app/safety.js';
import { tripBreaker } from '../app/safety-change.js';
import { badInput } from '../core/errors.js';
import type { Role } from '../core/roles.js';
import { callerContext, requireRole, type ApiEnv } from './auth.js';
import { positiveInt } from './query.js';
import { approvalRequestBody, breakerResetBody, breakerTripBody, killSwitchOffBody, killSwitchOnBody } from './schemas.js';

/** Who may do what (README: "The control room"); options that raise it: OVERRIDE_ROLES in routes-release.ts. */
export const WRITE_ROLES = {
  'POST /api/approvals': 'deployer',
  'POST /api/approvals/:id/approve': 'approver',
  'POST /api/breaker/trip': 'deployer',
  'POST /api/breaker/reset': 'approver',
  'POST /api/killswitch/on': 'deployer',
  'POST /api/killswitch/off': 'admin',
  'POST /api/deploy': 'deployer',
  'POST /api/promote': 'deployer',
  'POST /api/rollback': 'deployer',
  'POST /api/stop': 'deployer',
  'POST /api/locks/acquire': 'deployer',
  'POST /api/locks/release': 'deployer',
  'POST /api/health/restart': 'deployer',
  'POST /api/backups': 'deployer',
  'POST /api/restore': 'admin',
  'POST /api/preflight': 'deployer',
  'POST /api/announce': 'deployer',
  'POST /api/ci/rerun': 'deployer',
  'POST /api/tokens/:id/revoke': 'admin',
} as const satisfies Record<string, Role>;

/** The JSON body parsed with its schema, or a 400 naming the field and what it must be. */
export async function body<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw badInput('the request body must be a JSON object', { where: 'body', hint: 'Send Content-Type: application/json with a JSON object.' });
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || 'body';
  throw badInput(`${field}: ${issue.message}`, { where: `body.${field}`, hint: 'See GET /api/openapi.json for the request schema.' });
}

export function writeRoutes(ctx: AppContext): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const role = (key: keyof typeof WRITE_ROLES) => requireRole(ctx, WRITE_ROLES[key]);
  const as = (c: Context<ApiEnv>) => callerContext(ctx, c.get('caller')!);

  r.post('/approvals', role('POST /api/approvals'), async (c) => {
    const b = await body(c, approvalRequestBody);
    ctx.environment(b.env);
    const specs = safetySpecs(ctx, b.env);
    const approval = await findApproval(as(c), {
      env: b.env, action: b.for, subject: b.for === 'killswitch-off' ? specs.killSwitch.key : specs.breaker.key, kind: b.for === 'breaker-reset-force' ? 'emergency' : 'standard', reason: b.reason,
    });
    return c.json({ ok: true as const, approval });
  });

  r.post('/approvals/:id/approve', role('POST /api/approvals/:id/approve'), async (c) => {
    const caller = c.get('caller')!;
    const approval = await approve(as(c), positiveInt(c.req.param('id'), 'id')!, { identity: caller.identity });
    return c.json({ ok: true as const, approval });
  });

  r.post('/breaker/trip', role('POST /api/breaker/trip'), async (c) => {
    const b = await body(c, breakerTripBody);
    const run = as(c);
    return c.json(await tripBreaker(run, b.env, safetyStoreFor(run, b.env), b.reason));
  });

  r.post('/breaker/reset', role('POST /api/breaker/reset'), async (c) => {
    const b = await body(c, breakerResetBody);
    const run = as(c);
    return c.json(await resetBreaker(run, b.env, safetyStoreFor(run, b.env), { force: b.force ?? false, reason: b.reason }));
  });

  r.post('/killswitch/on', role('POST /api/killswitch/on'), async (c) => {
    const b = await body(c, killSwitchOnBody);
    const run = as(c);
    return c.json(await killSwitchOn(run, b.env, safetyStoreFor(run, b.env), { reason: b.reason, flatten: b.flatten ?? false, ...(b.timeoutMs ? { timeoutMs: b.timeoutMs } : {}) }));
  });

  r.post('/killswitch/off', role('POST /api/killswitch/off'), async (c) => {
    const b = await body(c, killSwitchOffBody);
    const run = as(c);
    return c.json(await killSwitchOff(run, b.env, safetyStoreFor(run, b.env), { reason: b.reason }));
  });
  return r;
}
