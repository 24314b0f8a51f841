import { bucketQuantile, type Bucket } from './histogram.js';
import type { CheckBaseline } from './types.js';

/** The baseline for a latency check from a cumulative histogram of the previous release. */
export function latencyBaseline(buckets: Bucket[], quantile: number, minRequests: number): CheckBaseline | undefined {
  const total = buckets.at(-1)?.count ?? 0;
  const q = bucketQuantile(quantile, buckets);
  if (total < minRequests || q === undefined) return undefined;
  const bound = buckets.find((b) => b.le >= q && Number.isFinite(b.le))?.le;
  return { quantile: q, requests: total, buckets, ...(bound !== undefined ? { boundSeconds: bound } : {}) };
}

export function errorRateBaseline(counts: { total: number; errors: number }, minRequests: number): CheckBaseline | undefined {
  if (counts.total < minRequests) return undefined;
  return { errorRate: counts.errors / counts.total, requests: counts.total };
}

/**
 * Why a stored baseline cannot be compared with, or undefined when it can. Baselines written
 * before non-finite numbers survived storage have `le: null` where +Inf was: a null bound is
 * repaired to +Inf only in the last bucket, where nothing else can stand.
 */
export function latencyBaselineProblem(b: CheckBaseline): string | undefined {
  if (b.unavailable) return b.unavailable;
  if (b.quantile === undefined || !Number.isFinite(b.quantile)) return 'the baseline has no quantile';
  const buckets = b.buckets;
  if (!buckets?.length) return 'the baseline has no histogram';
  for (let i = 0; i < buckets.length; i++) {
    const { le, count } = buckets[i]!;
    if (typeof le !== 'number' || Number.isNaN(le)) return `bucket ${i + 1} of the baseline histogram has no upper bound (${JSON.stringify(le)}): it was damaged in storage`;
    if (typeof count !== 'number' || !Number.isFinite(count) || count < 0) return `bucket le=${le} of the baseline histogram has no valid count (${JSON.stringify(count)})`;
    if (i > 0 && !(le > buckets[i - 1]!.le && count >= buckets[i - 1]!.count)) return 'the baseline histogram is not cumulative and sorted by bound';
  }
  if (buckets.at(-1)!.le !== Infinity) return 'the baseline histogram has no +Inf bucket';
  return undefined;
}

export function errorRateBaselineProblem(b: CheckBaseline): string | undefined {
  if (b.unavailable) return b.unavailable;
  if (typeof b.errorRate !== 'number' || !(b.errorRate >= 0 && b.errorRate <= 1)) return `the baseline error rate is not a rate (${JSON.stringify(b.errorRate)})`;
  return undefined;
}

/** Repairs a histogram whose +Inf bound was lost to JSON (`null`): only the last bucket can be +Inf. */
export function repairBaseline(b: CheckBaseline): CheckBaseline {
  const buckets = b.buckets;
  if (!buckets?.length) return b;
  const last = buckets.at(-1)!;
  if ((last.le as number | null) !== null) return b;
  return { ...b, buckets: [...buckets.slice(0, -1), { le: Infinity, count: last.count }] };
}
