import type { AppContext } from './context.js';
import { verifyHealth } from './verify-health.js';

/**
 * Puts `version` back in `env` using only what can still be read: the release's commit (reads
 * work on a full disk) and the target. Nothing is written to the store here.
 */
export async function restoreWithoutStore(ctx: AppContext, env: string, version: string): Promise<{ version: string; ok: boolean; error?: string }> {
  try {
    const release = await ctx.store.getRelease(env, version);
    const commit = release?.commit ?? (await ctx.repo.resolve(version));
    const spec = { env, version, commit, services: ctx.environment(env).services };
    const target = ctx.target(env);
    await ctx.progress.task(`return ${env} to ${version} (the store cannot be written)`, async () => {
      if (!target.updatesInPlace) await target.down(env);
      await target.prepare(spec);
      await target.up(spec);
    });
    const health = await verifyHealth(spec.services, version, ctx.environment(env).spec.health, { probe: ctx.probe });
    if (!health.healthy) return { version, ok: false, error: health.services.filter((s) => !s.healthy).map((s) => `${s.service} (${s.reason})`).join(', ') };
    return { version, ok: true };
  } catch (err) {
    return { version, ok: false, error: (err as Error).message };
  }
}
