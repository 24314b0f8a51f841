// Release endpoints: deploy, promote, rollback and stop, each the same use case as the CLI command
// (src/app/deploy.ts, promote.ts, rollback.ts, stop.ts) run as the token's owner, so the audit log
// and the deployment record name that identity. Options that override a safety verdict or lose data
// (allowBad, allowTripped, acceptDataLoss) need a higher role than the request itself.
import { Hono, type Context } from 'hono';
import type { AppContext } from '../app/context.js';
import type { Role } from '../core/roles.js';
import { callerContext, elevatedRole, requireRole, type ApiEnv } from './auth.js';
import { WRITE_ROLES, body } from './routes-write.js';
import { announceBody, deployBody, preflightBody, promoteBody, rollbackBody, stopBody } from './schemas.js';

/** The role an override needs on top of the endpoint's own (README: "The control room"). */
export const OVERRIDE_ROLES = {
  allowBad: 'approver',
  allowTripped: 'approver',
  acceptDataLoss: 'approver',
  force: 'approver',
} as const satisfies Record<string, Role>;

/** The 403 for the first override in `flags` the caller's role does not reach, else null. */
export async function overrides(ctx: AppContext, c: Context<ApiEnv>, flags: Partial<Record<keyof typeof OVERRIDE_ROLES, boolean | undefined>>): Promise<Response | null> {
  for (const [flag, on] of Object.entries(flags) as [keyof typeof OVERRIDE_ROLES, boolean | undefined][]) {
    if (!on) continue;
    const refusal = await elevatedRole(ctx, c, OVERRIDE_ROLES[flag], flag);
    if (refusal) return refusal;
  }
  return null;
}

export function releaseRoutes(ctx: AppContext): Hono<ApiEnv> {
  const r = new Hono<ApiEnv>();
  const role = (key: keyof typeof WRITE_ROLES) => requireRole(ctx, WRITE_ROLES[key]);
  const as = (c: Context<ApiEnv>) => callerContext(ctx, c.get('caller')!);

  r.post('/deploy', role('POST /api/deploy'), async (c) => {
    const b = await body(c, deployBody);
    const refusal = await overrides(ctx, c, { allowBad: b.allowBad, allowTripped: b.allowTripped });
    if (refusal) return refusal;
    const { deploy } = await import('../app/deploy.js');
    return c.json(await deploy(as(c), { env: b.env, version: b.version, resume: b.resume ?? false, reason: b.reason, changeTypes: b.changeTypes, allowTripped: b.allowTripped, allowBad: b.allowBad }));
  });

  r.post('/promote', role('POST /api/promote'), async (c) => {
    const b = await body(c, promoteBody);
    const refusal = await overrides(ctx, c, { allowTripped: b.allowTripped });
    if (refusal) return refusal;
    const { promote } = await import('../app/promote.js');
    return c.json(await promote(as(c), { env: b.env, version: b.version, reason: b.reason, emergency: b.emergency ?? false, onCall: b.onCall, allowTripped: b.allowTripped }));
  });

  r.post('/rollback', role('POST /api/rollback'), async (c) => {
    const b = await body(c, rollbackBody);
    const refusal = await overrides(ctx, c, { acceptDataLoss: b.acceptDataLoss });
    if (refusal) return refusal;
    const { rollback } = await import('../app/rollback.js');
    return c.json(await rollback(as(c), { env: b.env, reason: b.reason, to: b.to, db: b.db, acceptDataLoss: b.acceptDataLoss }));
  });

  r.post('/stop', role('POST /api/stop'), async (c) => {
    const b = await body(c, stopBody);
    const { stopEnvironment } = await import('../app/stop.js');
    return c.json(await stopEnvironment(as(c), b.env, b.reason));
  });

  // The checklist before a release; an attestation is the token owner's word (the CLI's --by NAME proves nothing).
  r.post('/preflight', role('POST /api/preflight'), async (c) => {
    const b = await body(c, preflightBody);
    const { attest, runPreflight } = await import('../app/preflight.js');
    const run = as(c);
    if (b.attest) await attest(run, b.version, b.attest.item, run.actor, b.attest.note);
    return c.json(await runPreflight(run, b.version, b.env ?? 'production'));
  });

  r.post('/announce', role('POST /api/announce'), async (c) => {
    const b = await body(c, announceBody);
    const { announceRelease } = await import('../app/announce.js');
    return c.json(await announceRelease(as(c), { version: b.version, env: b.env ?? 'production', message: b.message }));
  });
  return r;
}
