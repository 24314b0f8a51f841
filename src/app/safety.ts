import { EmbeddedSafetyStore } from '../adapters/state/embedded-safety.js';
import { REDIS_URL_VARIABLE } from '../adapters/state/redis-client.js';
import { RedisSafetyStore } from '../adapters/state/redis-safety.js';
import type { SafetyStore } from '../adapters/state/safety-state.js';
import { isoNow } from '../core/clock.js';
import { badInput, failed, refused } from '../core/errors.js';
import { flagKeys, interpretFlag, LAST_WRITER_KEY, SEED_BREAKER, SEED_KILL_SWITCH, type FlagReading, type SafetyFlagSpec } from '../core/safety-state.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';

export interface SafetyOverrides {
  redisUrl?: string | undefined;
}

export type SafetyFlag = 'breaker' | 'killSwitch';

/** Redis when one is named (flag, environment config, SHIPGATE_REDIS_URL), else the embedded store. */
export function safetyStoreFor(ctx: AppContext, env: string, overrides: SafetyOverrides = {}, processEnv: NodeJS.ProcessEnv = process.env): SafetyStore {
  const trading = ctx.environment(env).spec.trading;
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

/** The environment's keys and words: its `trading.breaker` / `trading.killSwitch`, else the seed's. */
export function safetySpecs(ctx: AppContext, env: string): Record<SafetyFlag, SafetyFlagSpec> {
  const trading = ctx.environment(env).spec.trading;
  return { breaker: trading?.breaker ?? SEED_BREAKER, killSwitch: trading?.killSwitch ?? SEED_KILL_SWITCH };
}

export interface SafetyStatus {
  env: string;
  source: string;
  /** The platform's own word for the breaker ("unset" when absent), with its meaning in `state`. */
  breaker: string;
  /**
   * Why it is halted, while it is (or unknown); null while it reads as trading: after a reset the
   * reason field still holds the old trip's reason (or the reset's), which is no longer current.
   * `trippedAt` and `lastReset` say when; the audit log (breaker.trip, breaker.reset) says why.
   */
  tripReason: string | null;
  trippedAt: string | null;
  lastReset: string | null;
  /** True unless the kill switch reads as trading: an unknown or missing-means-halted switch is on. */
  killswitch: boolean;
  /** Trading is stopped: either flag halted or unknown. */
  halted: boolean;
  lastWriter: string | null;
  state: Record<SafetyFlag, FlagReading>;
}

export type SafetyReadResult = { kind: 'ok'; state: Record<SafetyFlag, FlagReading>; lastWriter: string | null } | { kind: 'unavailable'; reason: string };

/** Both flags from one store; `missing` overrides the configured meaning of absent keys. */
export async function readFlags(store: SafetyStore, specs: Record<SafetyFlag, SafetyFlagSpec>, missing?: 'trading'): Promise<SafetyReadResult> {
  const keys = [...new Set([...flagKeys(specs.breaker), ...flagKeys(specs.killSwitch), LAST_WRITER_KEY])];
  const read = await store.read(keys);
  if (read.kind === 'unavailable') return read;
  const get = (k: string) => read.values[k] ?? null;
  const spec = (s: SafetyFlagSpec) => (missing ? { ...s, missing } : s);
  return { kind: 'ok', state: { breaker: interpretFlag(spec(specs.breaker), get), killSwitch: interpretFlag(spec(specs.killSwitch), get) }, lastWriter: get(LAST_WRITER_KEY) };
}

/** The state as it is, or an error (exit 1): an unreadable breaker is never reported as OPEN. */
export async function readSafety(ctx: AppContext, env: string, store: SafetyStore): Promise<SafetyStatus> {
  const read = await readFlags(store, safetySpecs(ctx, env));
  if (read.kind === 'unavailable') throw failed(`cannot read the safety state: ${read.reason}`, { hint: 'Check that Redis is running and reachable; nothing was changed.' });
  const { breaker, killSwitch } = read.state;
  return {
    env, source: store.describe, breaker: breaker.value ?? 'unset', tripReason: breaker.meaning === 'trading' ? null : breaker.reason,
    trippedAt: breaker.haltedAt ?? (breaker.meaning !== 'trading' ? breaker.at : null),
    lastReset: breaker.resumedAt ?? (breaker.meaning === 'trading' ? breaker.at : null),
    killswitch: killSwitch.meaning !== 'trading', halted: breaker.meaning !== 'trading' || killSwitch.meaning !== 'trading',
    lastWriter: read.lastWriter, state: read.state,
  };
}

/** Why trading counts as stopped, in the platform's own words; undefined while it runs. */
export function haltedBecause(state: Record<SafetyFlag, FlagReading>): string | undefined {
  const k = state.killSwitch;
  const b = state.breaker;
  if (k.meaning !== 'trading' && k.value === null) return `the kill switch state is missing, which counts as halted (${k.explanation})`;
  if (k.meaning === 'halted') return `the kill switch is active (${k.explanation})`;
  if (k.meaning === 'unknown') return `the kill switch state is unknown (${k.explanation})`;
  if (b.meaning !== 'trading' && b.value === null) return `the circuit breaker state is missing, which counts as halted (${b.explanation})`;
  if (b.meaning === 'halted') return `the circuit breaker is ${b.value} (${b.reason ?? 'no reason recorded'})`;
  if (b.meaning === 'unknown') return `the circuit breaker state is unknown (${b.explanation})`;
  return undefined;
}

/**
 * Deploys and promotions stop while trading is halted or its state is unknown: the kill switch
 * or the breaker reads as halted, or as a word in neither list. `allowTripped` (with a reason)
 * lets the fix itself ship.
 */
export async function assertTradingInterlock(ctx: AppContext, env: string, allow: { allowTripped?: boolean | undefined; reason?: string | undefined; alreadyRecorded?: boolean }): Promise<void> {
  const primary = safetyStoreFor(ctx, env);
  const specs = safetySpecs(ctx, env);
  // The embedded state is always consulted too: a kill switch engaged there must stop deploys
  // whatever Redis the environment (or SHIPGATE_REDIS_URL) points at. Unreadable is not "off".
  // There, an absent key only means shipgate never wrote one.
  const stores: [SafetyStore, 'trading' | undefined][] = primary instanceof EmbeddedSafetyStore ? [[primary, undefined]] : [[primary, undefined], [new EmbeddedSafetyStore(ctx.store, ctx.environment(env).spec.trading?.keyPrefix ?? '', () => isoNow(ctx.clock)), 'trading']];
  let halted: string | undefined;
  for (const [store, missing] of stores) {
    const read = await readFlags(store, specs, missing);
    if (read.kind === 'unavailable') {
      if (allow.allowTripped) { halted ??= `the safety state is unreadable (${read.reason})`; continue; }
      throw refused(`cannot read the trading safety state of ${env}: ${read.reason}`, { hint: 'A deploy does not proceed while the kill switch state is unknown; fix Redis, or pass --allow-tripped --reason "..." to ship anyway.' });
    }
    halted ??= haltedBecause(read.state);
    if (read.lastWriter && read.lastWriter !== env) {
      ctx.progress.warn(`${env}'s safety keys were last written by ${read.lastWriter} (state carried over from another environment?); check keyPrefix`);
      await record(ctx, { action: 'interlock.warning', outcome: 'warned', env, reason: `safety keys last written by ${read.lastWriter}`, detail: { source: store.describe } });
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
