import { EmbeddedSafetyStore } from '../adapters/state/embedded-safety.js';
import { REDIS_URL_VARIABLE } from '../adapters/state/redis-client.js';
import { RedisSafetyStore } from '../adapters/state/redis-safety.js';
import type { SafetyKey, SafetyStore } from '../adapters/state/safety-state.js';
import { environmentSpec } from '../config/resolve.js';
import { isoNow } from '../core/clock.js';
import { badInput, failed, refused } from '../core/errors.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

export interface SafetyOverrides {
  redisUrl?: string | undefined;
}

/** Redis when one is named (flag, environment config, SHIPGATE_REDIS_URL), else the embedded store. */
export function safetyStoreFor(ctx: AppContext, env: string, overrides: SafetyOverrides = {}, processEnv: NodeJS.ProcessEnv = process.env): SafetyStore {
  const trading = environmentSpec(ctx.config, env).trading;
  const prefix = trading?.keyPrefix ?? '';
  const fromEnvVar = trading?.redisUrlEnv ? processEnv[trading.redisUrlEnv] : undefined;
  if (trading?.redisUrlEnv && !fromEnvVar && !overrides.redisUrl) {
    throw badInput(`${trading.redisUrlEnv} is not set`, { where: `shipgate.yml: environments.${env}.trading.redisUrlEnv`, hint: `Export ${trading.redisUrlEnv}=redis://host:6379, or pass --redis-url.` });
  }
  const url = overrides.redisUrl ?? fromEnvVar ?? trading?.redisUrl ?? processEnv[REDIS_URL_VARIABLE];
  if (url) {
    if (!/^rediss?:\/\//.test(url)) throw badInput('the Redis URL must start with redis:// or rediss://', { where: '--redis-url', hint: 'For example redis://127.0.0.1:6379.' });
    return new RedisSafetyStore(url, prefix);
  }
  return new EmbeddedSafetyStore(ctx.store, prefix, () => isoNow(ctx.clock));
}

export interface SafetyStatus {
  env: string;
  source: string;
  breaker: 'OPEN' | 'TRIPPED' | 'unset' | string;
  tripReason: string | null;
  trippedAt: string | null;
  lastReset: string | null;
  killswitch: boolean;
  lastWriter: string | null;
}

/** The state as it is, or an error (exit 1): an unreadable breaker is never reported as OPEN. */
export async function readSafety(ctx: AppContext, env: string, store: SafetyStore): Promise<SafetyStatus> {
  const read = await store.read();
  if (read.kind === 'unavailable') throw failed(`cannot read the safety state: ${read.reason}`, { hint: 'Check that Redis is running and reachable; nothing was changed.' });
  const v = read.values;
  return {
    env, source: store.describe, breaker: v.breaker ?? 'unset', tripReason: v.tripReason, trippedAt: v.trippedAt, lastReset: v.lastReset,
    killswitch: v.killswitch === 'true', lastWriter: v.lastWriter,
  };
}

export async function writeSafety(ctx: AppContext, env: string, store: SafetyStore, values: Partial<Record<SafetyKey, string>>): Promise<void> {
  await store.write({ ...values, lastWriter: env });
}

export async function tripBreaker(ctx: AppContext, env: string, store: SafetyStore, reason: string | undefined): Promise<SafetyStatus> {
  if (!reason?.trim()) throw badInput('tripping the breaker needs a reason', { where: '--reason', hint: 'e.g. --reason "drawdown 6% > 5% limit"' });
  const at = isoNow(ctx.clock);
  await writeSafety(ctx, env, store, { breaker: 'TRIPPED', tripReason: reason.trim(), trippedAt: at });
  await record(ctx, { action: 'breaker.trip', outcome: 'TRIPPED', env, reason: reason.trim(), detail: { source: store.describe } });
  return readSafety(ctx, env, store);
}

/**
 * Deploys and promotions stop while trading is halted: the kill switch is on or the breaker is
 * TRIPPED. `allowTripped` (with a reason) lets the fix itself ship.
 */
export async function assertTradingInterlock(ctx: AppContext, env: string, allow: { allowTripped?: boolean | undefined; reason?: string | undefined; alreadyRecorded?: boolean }): Promise<void> {
  const primary = safetyStoreFor(ctx, env);
  // The embedded state is always consulted too: a kill switch engaged there must stop deploys
  // whatever Redis the environment (or SHIPGATE_REDIS_URL) points at. Unreadable is not "off".
  const stores = primary instanceof EmbeddedSafetyStore ? [primary] : [primary, new EmbeddedSafetyStore(ctx.store, environmentSpec(ctx.config, env).trading?.keyPrefix ?? '', () => isoNow(ctx.clock))];
  let halted: string | undefined;
  for (const store of stores) {
    const read = await store.read();
    if (read.kind === 'unavailable') {
      if (allow.allowTripped) { halted ??= `the safety state is unreadable (${read.reason})`; continue; }
      throw refused(`cannot read the trading safety state of ${env}: ${read.reason}`, { hint: 'A deploy does not proceed while the kill switch state is unknown; fix Redis, or pass --allow-tripped --reason "..." to ship anyway.' });
    }
    halted ??= read.values.killswitch === 'true' ? 'the kill switch is active' : read.values.breaker === 'TRIPPED' ? `the circuit breaker is TRIPPED (${read.values.tripReason ?? 'no reason recorded'})` : undefined;
    if (read.values.lastWriter && read.values.lastWriter !== env) {
      ctx.progress.warn(`${env}'s safety keys were last written by ${read.values.lastWriter} (state carried over from another environment?); check keyPrefix`);
      await record(ctx, { action: 'interlock.warning', outcome: 'warned', env, reason: `safety keys last written by ${read.values.lastWriter}`, detail: { source: store.describe } });
    }
  }
  if (!halted) return;
  if (allow.allowTripped) {
    if (!allow.reason?.trim()) throw badInput('--allow-tripped needs --reason', { where: '--reason', hint: 'Say why this deploy must go out while trading is halted.' });
    if (!allow.alreadyRecorded) await record(ctx, { action: 'interlock.override', outcome: 'allowed', env, reason: allow.reason.trim(), detail: { halted } });
    return;
  }
  throw refused(`${env}: ${halted}; deploys are stopped while trading is halted`, { hint: `See \`shipgate breaker status --env ${env}\`. To ship the fix anyway: --allow-tripped --reason "...".` });
}
