import { parseMatchers } from '../../adapters/metrics/series.js';
import type { SeriesDescription } from '../../adapters/metrics/series.js';
import type { CheckSpec } from '../../config/schema.js';

/**
 * What `config check --live` says about what it found: pure judgements of a selector's facts
 * (a metric the source has never seen, a label value never seen) and of a value read now.
 */

/** A metric with no series: an error when the source has never seen the name, else a warning. */
export function noSeries(metric: string, facts: SeriesDescription, source: string): { problem: string } | { warning: string } {
  if (facts.family === 'absent' && (facts.namesKnown ?? 0) > 0) {
    const hint = facts.suggestions?.length ? `; did you mean ${facts.suggestions.join(' or ')}?` : `; it holds ${facts.namesKnown} other metric name${facts.namesKnown === 1 ? '' : 's'}, none close`;
    return { problem: `no metric named ${metric} in ${source}${hint}` };
  }
  if (facts.family === 'absent') return { warning: `${source} holds no metrics at all yet, so whether ${metric} exists is unknown: every reading is inconclusive until it does` };
  if (facts.family === 'declared' && source === 'Prometheus') return { warning: `Prometheus knows ${metric} (a target declares it, or it had series before) but holds no current series of it (no traffic so far): every reading is inconclusive until it has` };
  if (facts.family === 'declared') return { warning: `${metric} is declared but has no series yet (no traffic so far): every reading is inconclusive until it has` };
  return { warning: `no series of ${metric} yet: every reading is inconclusive until it has` };
}

/** The values an `=` matcher (or an `=~` of plain alternatives, `a|b`) asks for; a pattern (`5..`) names no value. */
function literalValues(op: string, value: string): string[] | undefined {
  if (op === '=') return value === '' ? undefined : [value];
  if (op === '=~' && /^[A-Za-z0-9_:/ -]+(\|[A-Za-z0-9_:/ -]+)*$/.test(value)) return value.split('|');
  return undefined;
}

/**
 * Configured label values that no series of the metric carries, for labels whose values the
 * source shows: a typo (`rejectd`) or no such event yet. Warnings: zero errors is plausible.
 */
export function unseenValues(matchers: string, facts: SeriesDescription): string[] {
  let parsed;
  try {
    parsed = parseMatchers(matchers);
  } catch {
    return [];
  }
  const warnings: string[] = [];
  for (const m of parsed) {
    const seen = facts.valuesSeen?.[m.label];
    const wanted = literalValues(m.op, m.value);
    if (!seen?.length || !wanted) continue;
    const unseen = wanted.filter((v) => !seen.includes(v));
    if (!unseen.length) continue;
    const shown = seen.length > 12 ? `${seen.slice(0, 12).join(', ')} and ${seen.length - 12} more` : seen.join(', ');
    warnings.push(`${m.label}="${unseen.join('|')}": no series of ${facts.metric} has ${unseen.length > 1 ? 'these values' : 'that value'} yet (a typo, or none so far); ${m.label} has ${shown}`);
  }
  return warnings;
}

type ValueCheck = Extract<CheckSpec, { type: 'http-json' | 'redis' | 'gauge' | 'promql' }>;

/** A value read now against the check's expectation: passes, fails now (a warning), or is not a value it can compare (an error). */
export function judgeValue(check: ValueCheck, value: string | number | boolean): { ok: string } | { warning: string } | { error: string } {
  const expects = [check.equals !== undefined ? `equals ${JSON.stringify(check.equals)}` : '', check.min !== undefined ? `min ${check.min}` : '', check.max !== undefined ? `max ${check.max}` : ''].filter(Boolean);
  const shown = `${JSON.stringify(value)}${expects.length ? ` (expects ${expects.join(', ')})` : ''}`;
  const num = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  const numeric = check.min !== undefined || check.max !== undefined || typeof check.equals === 'number';
  if (numeric && Number.isNaN(num)) return { error: `reads ${shown}: not a number, so the check can never pass` };
  if (typeof check.equals === 'boolean' && String(value) !== 'true' && String(value) !== 'false') return { error: `reads ${shown}: not true or false, so the check can never pass` };
  const fails = (check.equals !== undefined && String(value) !== String(check.equals)) || (check.min !== undefined && !(num >= check.min)) || (check.max !== undefined && !(num <= check.max));
  return fails ? { warning: `reads ${shown}: the check fails now` } : { ok: `reads ${shown}` };
}
