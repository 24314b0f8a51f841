import type { CheckResult, CheckState } from './analysis/types.js';
import { formatDuration } from './duration.js';
import { monitorPhase, type MonitorPhase } from './monitor-phase.js';

/**
 * The production monitor's rules, pure and clock-driven: phases, triggers, blindness and how
 * monitoring ends. The app reads health and metrics, calls `monitorStep`, and acts on the answer.
 */
export interface MonitorRules {
  immediate: number;
  short: number;
  medium: number;
  healthGrace: number;
  onBlind: 'alert' | 'rollback';
  blindLimit: number;
  /** Source failures in a row that blind a check (analysis.consecutiveErrors). */
  consecutiveErrors: number;
  /** Evaluation interval (analysis.interval). */
  interval: number;
}

/** Blind: a metrics source has failed `consecutiveErrors` times in a row, so the release is not watched. */
export interface Blindness {
  since: string;
  reason: string;
  checks: string[];
}

export interface MonitorMemory {
  unhealthySince: string | null;
  blind: Blindness | null;
  /** The first evaluation after the last phase ended: a bounded wait for evidence starts there. */
  overSince?: string | null;
}

/**
 * After the last phase a monitor still lacking evidence is watched a little longer, counted from
 * its first evaluation after the window (a controller that was away did not watch the window's
 * end): the immediate phase's length, and at least two runs of `consecutiveErrors` evaluations.
 * Then it ends inconclusive; it never waits forever.
 */
export const evidenceGrace = (rules: Pick<MonitorRules, 'immediate' | 'consecutiveErrors' | 'interval'>) => Math.max(rules.immediate, 2 * rules.consecutiveErrors * rules.interval);

export interface MonitorStepInput {
  startedAt: string;
  now: Date;
  rules: MonitorRules;
  memory: MonitorMemory;
  health: { healthy: boolean; detail: string; evidence?: unknown };
  results: CheckResult[];
  states: Record<string, CheckState>;
  /** Checks that need conclusive traffic before the release may pass (error rate, latency). */
  rateChecks: string[];
}

export interface MonitorTrigger {
  check: string;
  reason: string;
  at: string;
  evidence?: unknown;
}

export type MonitorOutcome =
  | { kind: 'running' }
  | { kind: 'trigger'; trigger: MonitorTrigger }
  | { kind: 'passed'; reason: string }
  /** The last phase ended without enough evidence: never "passed", never waiting forever. */
  | { kind: 'inconclusive'; reason: string };

export interface MonitorStep {
  phase: MonitorPhase;
  memory: MonitorMemory;
  outcome: MonitorOutcome;
  /** Transitions to tell people about at once. */
  events: ({ kind: 'blind'; blindness: Blindness } | { kind: 'sighted'; blindFor: number })[];
  /** Warnings worth recording (maxIncrease "monitor and defer", target exceeded, ...). */
  warnings: string[];
}

export function monitorStep(input: MonitorStepInput): MonitorStep {
  const { now, rules } = input;
  const at = now.toISOString();
  const nowMs = now.getTime();
  const elapsed = nowMs - new Date(input.startedAt).getTime();
  const phase = monitorPhase(elapsed, rules);
  const memory: MonitorMemory = { unhealthySince: input.memory.unhealthySince, blind: input.memory.blind ? { ...input.memory.blind } : null, overSince: input.memory.overSince ?? null };
  const events: MonitorStep['events'] = [];
  const warnings = phase === 'immediate' ? [] : input.results.flatMap((r) => (r.warning ? [r.warning] : []));

  let trigger: MonitorTrigger | null = null;
  if (input.health.healthy) memory.unhealthySince = null;
  else {
    memory.unhealthySince ??= at;
    const down = nowMs - new Date(memory.unhealthySince).getTime();
    if (down >= rules.healthGrace) trigger = { check: 'health', reason: `unhealthy for ${formatDuration(down)} (grace ${formatDuration(rules.healthGrace)}): ${input.health.detail}`, at, evidence: input.health.evidence };
  }
  const failed = input.results.find((r) => r.verdict === 'fail');
  if (!trigger && failed) trigger = { check: failed.name, reason: failed.reason, at, evidence: failed.evidence };

  const blinded = input.results.filter((r) => r.verdict === 'error' && (r.errors?.consecutive ?? 0) >= rules.consecutiveErrors);
  if (blinded.length) {
    if (!memory.blind) {
      memory.blind = { since: at, reason: blinded.map((r) => `${r.name}: ${r.reason}`).join('; '), checks: blinded.map((r) => r.name) };
      events.push({ kind: 'blind', blindness: memory.blind });
    } else {
      memory.blind.reason = blinded.map((r) => `${r.name}: ${r.reason}`).join('; ');
      memory.blind.checks = blinded.map((r) => r.name);
    }
  } else if (memory.blind && !input.results.some((r) => r.verdict === 'error')) {
    events.push({ kind: 'sighted', blindFor: nowMs - new Date(memory.blind.since).getTime() });
    memory.blind = null;
  }
  const early = phase === 'immediate' || phase === 'short';
  if (!trigger && memory.blind && early && rules.onBlind === 'rollback') {
    const blindFor = nowMs - new Date(memory.blind.since).getTime();
    if (blindFor >= rules.blindLimit) {
      trigger = { check: 'blind', reason: `blind for ${formatDuration(blindFor)} (blindLimit ${formatDuration(rules.blindLimit)}, onBlind: rollback): ${memory.blind.reason}`, at, evidence: { blind: memory.blind } };
    }
  }
  if (trigger) return { phase, memory, outcome: { kind: 'trigger', trigger }, events, warnings };
  if (phase !== 'done') return { phase, memory, outcome: { kind: 'running' }, events, warnings };

  // Time alone is not evidence: the release passes only once every rate check has seen enough
  // traffic to call it healthy and the monitor can see ("inconclusive never counts as pass").
  const unseen = input.rateChecks.filter((name) => !input.states[name]?.healthySeen);
  const missing = [
    ...(memory.blind ? [`blind since ${memory.blind.since}: ${memory.blind.reason}`] : []),
    ...unseen.map((name) => `${name}: ${input.results.find((r) => r.name === name)?.reason ?? 'no reading'}`),
  ];
  memory.overSince ??= at;
  const waited = nowMs - new Date(memory.overSince).getTime();
  if (missing.length && waited < evidenceGrace(rules)) return { phase, memory, outcome: { kind: 'running' }, events, warnings };
  if (missing.length) return { phase, memory, outcome: { kind: 'inconclusive', reason: `monitoring ended after ${formatDuration(elapsed)} without enough evidence: ${missing.join('; ')}` }, events, warnings };
  return { phase, memory, outcome: { kind: 'passed', reason: `no trigger in ${formatDuration(elapsed)}` }, events, warnings };
}
