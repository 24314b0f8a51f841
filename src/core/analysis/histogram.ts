// Prometheus-compatible arithmetic on classic histograms and counters: pure, shared by the
// checks (core) and the metric sources (adapters).

/** Cumulative count of observations <= `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * Prometheus' histogram_quantile on classic buckets (promql/quantile.go), with its NaN
 * results reported as undefined: no observations, fewer than two buckets, no +Inf bucket,
 * or q = NaN. q < 0 gives -Infinity and q > 1 gives +Infinity, also as Prometheus does.
 */
export function bucketQuantile(q: number, buckets: Bucket[]): number | undefined {
  if (Number.isNaN(q)) return undefined;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (buckets.length === 0) return undefined;

  const sorted = buckets.map((b) => ({ le: b.le, count: b.count })).sort((a, b) => a.le - b.le);
  if (sorted[sorted.length - 1]?.le !== Infinity) return undefined;

  // Equal bounds (two series not summed beforehand) are one bucket, as in Prometheus.
  const merged: Bucket[] = [];
  for (const b of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && last.le === b.le) last.count += b.count;
    else merged.push(b);
  }
  // Float noise from rate()-style inputs can make counts dip by a hair; Prometheus
  // flattens relative differences up to 1e-12 before enforcing monotonicity.
  let prev = merged[0]?.count ?? 0;
  for (let i = 1; i < merged.length; i++) {
    const b = merged[i] as Bucket;
    const delta = Math.abs(b.count - prev);
    if (delta === 0) continue;
    if (delta / b.count <= 1e-12) b.count = prev;
    else prev = b.count;
  }
  let max = merged[0]?.count ?? 0;
  for (let i = 1; i < merged.length; i++) {
    const b = merged[i] as Bucket;
    if (b.count > max) max = b.count;
    else if (b.count < max) b.count = max;
  }

  const n = merged.length;
  if (n < 2) return undefined;
  const observations = (merged[n - 1] as Bucket).count;
  if (observations === 0 || Number.isNaN(observations)) return undefined;
  let rank = q * observations;
  // First bucket (the +Inf one excluded) whose cumulative count reaches the rank.
  let b = 0;
  while (b < n - 1 && !((merged[b] as Bucket).count >= rank)) b++;

  if (b === n - 1) return (merged[n - 2] as Bucket).le;
  const bucket = merged[b] as Bucket;
  if (b === 0 && bucket.le <= 0) return bucket.le;
  let start = 0;
  let count = bucket.count;
  if (b > 0) {
    const below = merged[b - 1] as Bucket;
    start = below.le;
    count -= below.count;
    rank -= below.count;
  }
  const result = start + (bucket.le - start) * (rank / count);
  return Number.isNaN(result) ? undefined : result;
}

/**
 * Per-bound increase from `before` to `now`. A decrease in any bucket, or a bound that
 * `before` lacked, means the process restarted (or was redeployed with new buckets) in
 * between, and then everything in `now` is new, so `now` itself is the increase.
 */
export function diffBuckets(now: Bucket[], before: Bucket[] | undefined): Bucket[] {
  if (before === undefined) return now;
  const previous = new Map(before.map((b) => [b.le, b.count]));
  const out: Bucket[] = [];
  for (const b of now) {
    const was = previous.get(b.le);
    if (was === undefined || b.count < was) return now;
    out.push({ le: b.le, count: b.count - was });
  }
  return out;
}

/** Increase of a counter; a decrease means it restarted from zero, so all of `now` is new. */
export function counterDelta(now: number, before: number | undefined): number {
  if (before === undefined || now < before) return now;
  return now - before;
}

/**
 * Observations above the smallest bucket bound >= threshold, out of the total (+Inf)
 * count. Rounding the threshold up to a bound never counts a request that may have been
 * fast enough; a threshold past the last finite bound therefore counts nothing.
 */
export function countAbove(buckets: Bucket[], threshold: number): { above: number; total: number } {
  let bound: Bucket | undefined;
  let top: Bucket | undefined;
  for (const b of buckets) {
    if (b.le >= threshold && (bound === undefined || b.le < bound.le)) bound = b;
    if (top === undefined || b.le > top.le) top = b;
  }
  const total = top?.count ?? 0;
  const above = bound === undefined ? 0 : Math.max(0, total - bound.count);
  return { above, total };
}
