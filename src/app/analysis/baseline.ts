import type { ResolvedEnvironment } from '../../config/resolve.js';
import { errorRateBaseline, latencyBaseline, type CheckBaseline } from '../../core/analysis/checks.js';
import type { AppContext } from '../context.js';
import { currentVersion } from '../history.js';
import { metricsUnreadable, observedServices } from './observed.js';
import { collectReadings } from './readings.js';

/**
 * The previous release measured in the same environment just before it is replaced: its
 * counters and histograms are cumulative since it started, so one reading covers its life.
 * A rate check whose baseline cannot be measured gets `unavailable` with why, so its
 * baseline-relative rules are inconclusive rather than silently skipped; only the first
 * release of an environment has no baseline at all.
 */
export async function measureBaseline(ctx: AppContext, environment: ResolvedEnvironment): Promise<{ baseline: Record<string, CheckBaseline>; note: string }> {
  const env = environment.name;
  const analysis = environment.spec.analysis;
  if (!analysis?.checks.length) return { baseline: {}, note: 'no analysis checks configured' };
  const previous = await currentVersion(ctx.store, env);
  if (!previous) return { baseline: {}, note: `no previous release in ${env}: only absolute bounds apply` };
  const observed = await observedServices(ctx, env, environment.services);
  const readings = await collectReadings(analysis, observed.services, ctx.env, metricsUnreadable(observed));
  const baseline: Record<string, CheckBaseline> = {};
  const notes: string[] = [];
  for (const check of analysis.checks) {
    if (check.type !== 'error-rate' && check.type !== 'latency') continue;
    const reading = readings.get(check.name);
    let measured: CheckBaseline | undefined;
    let why: string;
    if (!reading) why = 'not read';
    else if (reading.kind === 'error' || reading.kind === 'no-data') why = `${reading.kind === 'error' ? 'source error' : 'no data'}: ${reading.reason}`;
    else {
      measured =
        check.type === 'error-rate' && reading.kind === 'counts' ? errorRateBaseline(reading, analysis.minRequests)
        : check.type === 'latency' && reading.kind === 'buckets' ? latencyBaseline(reading.buckets, check.quantile, analysis.minRequests)
        : undefined;
      why = `too little traffic for a baseline (fewer than ${analysis.minRequests} requests)`;
    }
    if (measured) baseline[check.name] = measured;
    else {
      baseline[check.name] = { unavailable: `${previous} could not be measured before it was replaced: ${why}` };
      notes.push(`${check.name}: ${why}`);
    }
  }
  return { baseline, note: notes.length ? `baseline of ${previous}: ${notes.join('; ')}` : `measured ${previous}` };
}
