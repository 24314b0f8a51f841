import { environmentSpec, resolveServices } from '../../config/resolve.js';
import { errorRateBaseline, latencyBaseline, type CheckBaseline } from '../../core/analysis/checks.js';
import type { AppContext } from '../context.js';
import { collectReadings } from './readings.js';

/**
 * The previous release measured in the same environment just before it is replaced: its
 * counters and histograms are cumulative since it started, so one reading covers its life.
 */
export async function measureBaseline(ctx: AppContext, env: string): Promise<{ baseline: Record<string, CheckBaseline>; note: string }> {
  const analysis = environmentSpec(ctx.config, env).analysis;
  if (!analysis?.checks.length) return { baseline: {}, note: 'no analysis checks configured' };
  const readings = await collectReadings(analysis, resolveServices(ctx.config, env));
  const baseline: Record<string, CheckBaseline> = {};
  const notes: string[] = [];
  for (const check of analysis.checks) {
    const reading = readings.get(check.name);
    if (!reading || reading.kind === 'no-data') {
      notes.push(`${check.name}: ${reading?.kind === 'no-data' ? reading.reason : 'no reading'}`);
      continue;
    }
    const b =
      check.type === 'error-rate' && reading.kind === 'counts' ? errorRateBaseline(reading, analysis.minRequests)
      : check.type === 'latency' && reading.kind === 'buckets' ? latencyBaseline(reading.buckets, check.quantile, analysis.minRequests)
      : undefined;
    if (b) baseline[check.name] = b;
    else if (check.type === 'error-rate' || check.type === 'latency') notes.push(`${check.name}: too little traffic for a baseline`);
  }
  return { baseline, note: notes.length ? notes.join('; ') : 'measured' };
}
