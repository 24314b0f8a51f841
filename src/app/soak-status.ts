import type { WatchRecord } from '../adapters/store/store.js';
import { formatDuration } from '../core/duration.js';
import type { MonitorData, SoakData } from './analysis/watch-data.js';
import type { AppContext } from './context.js';

export interface SoakView {
  id: number;
  env: string;
  version: string;
  state: string;
  startedAt: string;
  required: string;
  requiredMs: number;
  elapsedMs: number;
  remainingMs: number;
  soakClass: string;
  changeTypes: string[];
  changeSource: string;
  inconclusiveShare: number;
  verdict: string;
  reason: string | null;
  gates: { name: string; verdict: string; reason: string; errors?: { consecutive: number; total: number } | undefined; evidence?: unknown; baseline?: string | undefined; history: SoakData['checks'][string]['history'] }[];
}

export async function soakViews(ctx: AppContext, env: string | undefined, limit = 10): Promise<SoakView[]> {
  const soaks = (await ctx.store.listWatches({ kind: 'soak', limit, ...(env ? { env } : {}) })) as WatchRecord<SoakData>[];
  const now = ctx.clock.now().getTime();
  return soaks.map((s) => {
    const end = s.finishedAt ? new Date(s.finishedAt).getTime() : now;
    const elapsedMs = end - new Date(s.startedAt).getTime();
    const d = s.data;
    return {
      id: s.id, env: s.env, version: s.version, state: s.state, startedAt: s.startedAt, required: formatDuration(d.requiredMs), requiredMs: d.requiredMs,
      elapsedMs, remainingMs: s.state === 'running' ? Math.max(0, d.requiredMs - elapsedMs) : 0, soakClass: d.soakClass, changeTypes: d.changeTypes, changeSource: d.changeSource,
      inconclusiveShare: d.evaluatedMs > 0 ? d.inconclusiveMs / d.evaluatedMs : 1,
      verdict: s.state === 'running' ? (d.latest.some((r) => r.verdict === 'fail') ? 'failing' : 'in progress') : s.state,
      reason: d.reason,
      gates: d.latest.map((r) => ({ name: r.name, verdict: r.verdict, reason: r.reason, errors: r.errors, evidence: r.evidence, baseline: d.baseline[r.name]?.unavailable ? `unusable: ${d.baseline[r.name]!.unavailable}` : undefined, history: d.checks[r.name]?.history ?? [] })),
    };
  });
}

export async function monitorViews(ctx: AppContext, env: string | undefined, limit = 10) {
  const monitors = (await ctx.store.listWatches({ kind: 'monitor', limit, ...(env ? { env } : {}) })) as WatchRecord<MonitorData>[];
  return monitors.map((m) => ({
    id: m.id, env: m.env, version: m.version, state: m.state, startedAt: m.startedAt, phase: m.data.phase, autoRollback: m.data.autoRollback,
    trigger: m.data.trigger, rollback: m.data.rollback, incidentId: m.data.incidentId, warnings: m.data.warnings, reason: m.data.reason,
    /** BLIND while a metrics source fails: the release is not being watched. */
    blind: m.state === 'running' ? (m.data.blind ?? null) : null,
    status: m.state === 'running' && m.data.blind ? `BLIND since ${m.data.blind.since}: ${m.data.blind.reason}` : m.state,
    checks: m.data.latest.map((r) => ({ name: r.name, verdict: r.verdict, reason: r.reason, warning: r.warning, errors: r.errors, baseline: m.data.baseline[r.name]?.unavailable ? `unusable: ${m.data.baseline[r.name]!.unavailable}` : undefined })),
  }));
}
