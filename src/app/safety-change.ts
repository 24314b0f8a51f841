import { callAction, type HttpActionSpec } from '../adapters/platform/http-action.js';
import type { SafetyStore } from '../adapters/state/safety-state.js';
import { isoNow } from '../core/clock.js';
import { badInput } from '../core/errors.js';
import { describeFlag, flagChanges, LAST_WRITER_KEY, type FlagReading } from '../core/safety-state.js';
import { record } from './audit.js';
import type { AppContext } from './context.js';
import { readFlags, readSafety, safetySpecs, type SafetyFlag, type SafetyStatus } from './safety.js';

/** One step of a runbook, safe to print and store (no header value ever reaches it). */
export interface RunbookStep {
  step: string;
  ok: boolean;
  detail: string;
}

export type PlatformAction = 'engageKillSwitch' | 'disengageKillSwitch' | 'tripBreaker' | 'resetBreaker' | 'cancelAll';

export function platformAction(ctx: AppContext, env: string, name: PlatformAction): HttpActionSpec | undefined {
  return ctx.environment(env).spec.trading?.actions?.[name];
}

/** Calls a configured platform endpoint; undefined when the environment has none by that name. */
export async function runPlatformAction(ctx: AppContext, env: string, name: PlatformAction, reason: string): Promise<RunbookStep | undefined> {
  const spec = platformAction(ctx, env, name);
  if (!spec) return undefined;
  const out = await callAction(name, spec, { reason, actor: ctx.actor, env, at: isoNow(ctx.clock) });
  return { step: `platform ${name}`, ok: out.ok, detail: `${out.method} ${out.url}: ${out.detail}` };
}

const label = (flag: SafetyFlag) => (flag === 'breaker' ? 'breaker' : 'kill switch');

async function readFlag(ctx: AppContext, env: string, store: SafetyStore, flag: SafetyFlag): Promise<FlagReading | string> {
  const read = await readFlags(store, safetySpecs(ctx, env));
  return read.kind === 'ok' ? read.state[flag] : read.reason;
}

/**
 * Puts one flag in `to`: through the platform's own endpoint first when one is configured (so
 * the platform records it), then verified in the state store; when the platform did not set it,
 * shipgate writes the platform's format itself and verifies again. Never throws: every outcome
 * is a step, so a kill switch goes on to cancel orders even when Redis is down.
 */
export async function changeFlag(ctx: AppContext, env: string, store: SafetyStore, flag: SafetyFlag, to: 'halted' | 'trading', reason: string | null, action?: PlatformAction): Promise<RunbookStep[]> {
  const steps: RunbookStep[] = [];
  const called = action ? await runPlatformAction(ctx, env, action, reason ?? '') : undefined;
  if (called) steps.push(called);
  if (called?.ok) {
    const seen = await readFlag(ctx, env, store, flag);
    if (typeof seen !== 'string' && seen.meaning === to) {
      steps.push({ step: `verify ${label(flag)}`, ok: true, detail: `${describeFlag(seen)}, set by the platform` });
      return steps;
    }
  }
  const spec = safetySpecs(ctx, env)[flag];
  try {
    await store.apply([...flagChanges(spec, { to, reason, at: isoNow(ctx.clock), by: ctx.actor, env }), { kind: 'set', key: LAST_WRITER_KEY, value: env }]);
    steps.push({ step: `write ${label(flag)}`, ok: true, detail: `${spec.key}${spec.field ? ` ${spec.field}` : ''} = ${(to === 'halted' ? spec.halted : spec.trading)[0]}${called ? ' (the platform did not set it)' : ''}` });
  } catch (err) {
    steps.push({ step: `write ${label(flag)}`, ok: false, detail: (err as Error).message });
    return steps;
  }
  const after = await readFlag(ctx, env, store, flag);
  steps.push(typeof after === 'string' ? { step: `verify ${label(flag)}`, ok: false, detail: after } : { step: `verify ${label(flag)}`, ok: after.meaning === to, detail: describeFlag(after) });
  return steps;
}

export const stepsOk = (steps: RunbookStep[]) => steps.every((s) => s.ok);

export interface TripResult extends SafetyStatus {
  steps: RunbookStep[];
  ok: boolean;
}

export async function tripBreaker(ctx: AppContext, env: string, store: SafetyStore, reason: string | undefined): Promise<TripResult> {
  if (!reason?.trim()) throw badInput('tripping the breaker needs a reason', { where: '--reason', hint: 'e.g. --reason "drawdown 6% > 5% limit"' });
  const steps = await changeFlag(ctx, env, store, 'breaker', 'halted', reason.trim(), 'tripBreaker');
  const status = await readSafety(ctx, env, store);
  await record(ctx, { action: 'breaker.trip', outcome: stepsOk(steps) ? (status.state.breaker.value ?? 'absent') : 'failed', env, reason: reason.trim(), detail: { source: store.describe, steps } });
  return { ...status, steps, ok: stepsOk(steps) };
}
