import { z } from 'zod';
import { headers } from './http.js';
import { duration, matcherText, ratio } from './primitives.js';

export const errorRateCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('error-rate'),
  metric: z.string().default('http_requests_total').describe('Counter of requests.'),
  errors: z.string().default('code=~"5.."').describe('Matchers selecting the failed requests.'),
  select: matcherText,
  target: ratio.default(0.01).describe('Healthy error rate (seed: < 1%). The soak fails if the rate over the soak exceeds it.'),
  limit: ratio.default(0.05).describe('Unacceptable error rate (seed: rollback above 5%); the sequential test decides between target and limit.'),
  maxIncrease: ratio.optional().describe('Gate relative to the previous release: a rate more than this over the baseline rate fails a soak and warns in a monitor.'),
});

export const latencyCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('latency'),
  metric: z.string().default('http_request_duration_seconds').describe('Histogram of request durations in seconds.'),
  select: matcherText,
  quantile: z.number().gt(0).lt(1).default(0.95),
  max: duration.optional().describe('Absolute bound on the quantile (seed: p95 < 500ms).'),
  maxIncrease: ratio.default(0.1).describe('Gate: quantile within this much of the baseline (seed: 10%).'),
  rollbackIncrease: ratio.default(0.5).describe('Trigger: latency this much over the baseline rolls back (seed: 50%).'),
});

export const expectation = {
  equals: z.union([z.string(), z.number(), z.boolean()]).optional(),
  max: z.number().optional(),
  min: z.number().optional(),
  consecutive: z.number().int().min(1).default(1).describe('Failed readings in a row before the check fails.'),
};

export const gaugeCheck = z.strictObject({ name: z.string().min(1), type: z.literal('gauge'), metric: z.string(), select: matcherText, ...expectation });
export const httpJsonCheck = z.strictObject({ name: z.string().min(1), type: z.literal('http-json'), url: z.string().url(), path: z.string().describe('Dot path into the JSON answer, e.g. status or breaker.state'), headers: headers.optional(), ...expectation });
export const redisCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('redis'),
  url: z.string().optional().describe('redis://host:port; default SHIPGATE_REDIS_URL'),
  key: z.string().min(1),
  field: z.string().min(1).optional().describe('Field of the JSON object stored at key.'),
  ...expectation,
});
export const promqlCheck = z.strictObject({
  name: z.string().min(1),
  type: z.literal('promql'),
  query: z.string().min(1),
  ...expectation,
  empty: z.union([z.enum(['inconclusive', 'pass', 'fail']), z.number()]).default('inconclusive').describe('What a result with no series means: inconclusive (default), pass, fail, or a value such as 0. Query errors are never a value.'),
});

export const check = z.discriminatedUnion('type', [errorRateCheck, latencyCheck, gaugeCheck, httpJsonCheck, redisCheck, promqlCheck]);

export const analysis = z.strictObject({
  source: z.enum(['scrape', 'prometheus']).default('scrape').describe('scrape: each service\'s metrics URL; prometheus: PromQL against prometheusUrl.'),
  prometheusUrl: z.string().url().optional(),
  interval: duration.default(1_000).describe('How often the controller evaluates.'),
  minRequests: z.number().int().min(1).default(20).describe('Requests needed before a rate check may decide.'),
  alpha: z.number().gt(0).lt(0.5).default(1e-9).describe('False-alarm bound per evaluation of the restarting sequential tests (docs/analysis.md: 0.001 rolls back a third of healthy releases within 30 min).'),
  beta: z.number().gt(0).lt(0.5).default(0.01).describe('Miss probability of the sequential tests (power = 1 - beta).'),
  consecutiveErrors: z.number().int().min(1).default(4).describe('Source failures in a row (timeout, refused, 5xx, unparseable, query error) that fail a check in a soak and make a production monitor blind.'),
  checks: z.array(check).default([]),
});

export const soakPolicy = z.strictObject({
  standard: duration.default(24 * 3_600_000).describe('Soak for standard releases (seed: 24h).'),
  extended: duration.default(48 * 3_600_000).describe('Major, db-schema, strategy, breaker-logic and reconciliation changes (48h-72h).'),
  short: duration.default(4 * 3_600_000).describe('Hotfix, docs-only, ui-only and config-only changes (4h-8h).'),
  maxInconclusive: ratio.default(0.1).describe('Largest share of the soak that may be inconclusive (no data, no traffic).'),
});

export const monitorPolicy = z.strictObject({
  autoRollback: z.boolean().default(true),
  immediate: duration.default(5 * 60_000).describe('Immediate phase: health, services up, error lines in logs.'),
  short: duration.default(30 * 60_000).describe('End of the short phase: gates error rate and latency vs baseline.'),
  medium: duration.default(4 * 3_600_000).describe('End of the medium phase, and of monitoring.'),
  healthGrace: duration.default(30_000).describe('Health may fail this long before it triggers a rollback.'),
  onBlind: z.enum(['alert', 'rollback']).default('alert').describe('A blind monitor (metrics source failing) in the immediate and short phases: alert only, or roll back after blindLimit.'),
  blindLimit: duration.default(2 * 60_000).describe('How long a monitor may stay blind in the immediate and short phases before onBlind applies.'),
});

