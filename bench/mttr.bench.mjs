// End-to-end time to restore from the demo: the real sample stack, real traffic, the production
// monitor detecting v1.2.0's live-only errors and rolling back. Seconds are wall-clock from the
// moment the faulty release's processes started serving. `node bench/run.mjs mttr`.
import { runDemo } from '../dist/demo/story.js';

export async function run() {
  const runs = [];
  for (let i = 0; i < 3; i++) {
    const summary = await runDemo({ speed: 7200 });
    const r = summary.regression;
    runs.push({ ok: summary.ok, trigger: r?.trigger ?? null, detectedAfterSeconds: r?.detectedAfterSeconds ?? null, restoredAfterSeconds: r?.restoredAfterSeconds ?? null, evidence: r?.evidence ?? null });
  }
  const sorted = (key) => runs.map((x) => x[key]).filter((v) => typeof v === 'number').sort((a, b) => a - b);
  const median = (xs) => (xs.length ? xs[Math.floor(xs.length / 2)] : null);
  return {
    description: 'production regression (10% of orders fail, 50 rps) detected by the sequential error-rate test and rolled back by the monitor',
    runs,
    medianDetectedAfterSeconds: median(sorted('detectedAfterSeconds')),
    medianRestoredAfterSeconds: median(sorted('restoredAfterSeconds')),
    checks: { restoredWithin20Seconds: runs.every((x) => x.ok && x.restoredAfterSeconds !== null && x.restoredAfterSeconds <= 20) },
  };
}
