import { parseMatchers, type SeriesDescription } from '../../adapters/metrics/series.js';
import type { ResolvedEnvironment } from '../../config/resolve.js';
import type { CheckSpec } from '../../config/schema.js';
import { closestNames } from '../../core/closest.js';
import type { Reading } from '../../core/analysis/types.js';
import { judgeValue, noSeries, unseenValues } from './live-check-facts.js';
import { liveHealthRows, type LiveHealthRow } from './live-health.js';
import { liveSafetyRows, type LiveSafetyRow } from './live-safety.js';
import { metricsWhere } from './live-where.js';
import { metricsUnreadable, type ObservedServices } from './observed.js';
import { openMetricSource, readCheck } from './readings.js';

/** What a metrics source says a selector finds (the shape of MetricSource.describe). */
export type SelectorFacts = SeriesDescription;

export type Describe = (metric: string, matchers: string) => Promise<SelectorFacts | { error: string }>;

/** What `config check --live` asks of an environment's sources. */
export interface LiveProbe {
  /** 'scrape' or 'prometheus': promql checks need Prometheus. */
  kind: 'scrape' | 'prometheus';
  describe: Describe;
  metricNames(): Promise<string[] | { error: string }>;
  /** One reading of a check that reads a value (http-json, redis, promql). */
  read(check: CheckSpec): Promise<Reading>;
}

/** ok ✓; warning ⚠ (runs, but reads nothing or fails now); problem ✗ (configuration, exit 2); error ✗ (source failed, exit 1). */
export type LiveStatus = 'ok' | 'warning' | 'problem' | 'error';

export interface LiveCheckRow {
  name: string;
  type: CheckSpec['type'];
  status: LiveStatus;
  metric?: string;
  selector?: string;
  /** Series the check's selector matches (for an error-rate check: the requests). */
  seriesMatched?: number;
  /** Error-rate checks: series the errors matcher selects among them (0 is fine before the first failure). */
  errorSeriesMatched?: number;
  labelsSeen?: string[];
  /** Values the source shows for each label the check's matchers name. */
  valuesSeen?: Record<string, string[]>;
  /** A matcher naming a label the metric does not carry: a configuration problem (exit 2). */
  mismatch?: string;
  /** Another configuration problem (exit 2): a metric name the source has never seen, with the closest it has. */
  problem?: string;
  /** The source failed (refused, timeout, 5xx, unparseable), or a value no reading can pass: nothing is known (exit 1). */
  error?: string;
  /** Why the check will read no evidence, or fails now, though it is configured right (exit 0, never ✓). */
  warnings?: string[];
  /** What a value check reads: `redis KEY`, `GET URL field PATH`, or the PromQL query. */
  reads?: string;
  /** The value read now (http-json, redis, promql). */
  value?: string | number | boolean;
  note?: string;
  /** Where a scrape read the metric when the target places the tasks (swarm): each service's running tasks and their nodes. */
  where?: string;
}

const joined = (...parts: string[]) => parts.map((p) => p.trim().replace(/^\{|\}$/g, '')).filter(Boolean).join(',');

function finish(row: Omit<LiveCheckRow, 'status'>): LiveCheckRow {
  const status: LiveStatus = row.mismatch || row.problem ? 'problem' : row.error ? 'error' : row.warnings?.length ? 'warning' : 'ok';
  return { ...row, status };
}

/** Probes one check: a metric check's selectors, or the value a value check reads now. */
export async function probeCheck(check: CheckSpec, probe: LiveProbe): Promise<LiveCheckRow> {
  if (check.type === 'error-rate' || check.type === 'latency' || check.type === 'gauge') return probeSelector(check, probe);
  const reads = check.type === 'redis' ? `redis ${check.key}${check.field ? ` field ${check.field}` : ''}` : check.type === 'http-json' ? `GET ${check.url} field ${check.path}` : check.query;
  const row = { name: check.name, type: check.type, reads };
  if (check.type === 'promql' && probe.kind !== 'prometheus') return finish({ ...row, problem: 'promql checks need analysis.source: prometheus; this environment scrapes, so the check never reads anything' });
  const reading = await probe.read(check);
  if (reading.kind === 'error') return finish({ ...row, error: reading.reason });
  if (reading.kind === 'value') {
    const judged = judgeValue(check, reading.value);
    return finish({ ...row, value: reading.value, ...('ok' in judged ? { note: judged.ok } : 'warning' in judged ? { warnings: [judged.warning] } : { error: judged.error }) });
  }
  if (reading.kind !== 'no-data') return finish({ ...row, warnings: [`read ${reading.kind}, not one value`] });
  if (check.type === 'promql' && reading.empty) return finish({ ...row, ...(await emptyQuery(check, probe)) });
  const means = check.type === 'redis' ? ': the check reads no data (inconclusive) until it is set' : ': the check is inconclusive';
  return finish({ ...row, warnings: [`${reading.reason}${means}`] });
}

async function probeSelector(check: Extract<CheckSpec, { type: 'error-rate' | 'latency' | 'gauge' }>, probe: LiveProbe): Promise<LiveCheckRow> {
  const selector = check.select;
  const row: Omit<LiveCheckRow, 'status'> = { name: check.name, type: check.type, metric: check.metric, selector: `${check.metric}{${selector}}` };
  const source = probe.kind === 'prometheus' ? 'Prometheus' : 'the scrape';
  const requests = await probe.describe(check.metric, selector);
  if ('error' in requests) return finish({ ...row, error: requests.error });
  Object.assign(row, { seriesMatched: requests.seriesMatched, labelsSeen: requests.labelsSeen });
  if (requests.mismatch) return finish({ ...row, mismatch: inField(requests, check.name, 'select', selector) });
  if (requests.seriesOfMetric === 0) {
    const why = noSeries(check.metric, requests, source);
    return finish({ ...row, ...('problem' in why ? { problem: why.problem } : { warnings: [`${why.warning}${uncheckedLabels(check)}`] }) });
  }
  const warnings = unseenValues(selector, requests);
  let valuesSeen = requests.valuesSeen;
  if (check.type === 'error-rate') {
    const errors = await probe.describe(check.metric, joined(selector, check.errors));
    if ('error' in errors) return finish({ ...row, error: errors.error });
    row.errorSeriesMatched = errors.seriesMatched;
    if (errors.mismatch) return finish({ ...row, mismatch: inField(errors, check.name, 'errors', check.errors) });
    valuesSeen = { ...valuesSeen, ...errors.valuesSeen };
    for (const w of unseenValues(check.errors, errors)) if (!warnings.includes(w)) warnings.push(w);
  }
  if (requests.seriesMatched === 0 && !warnings.length) warnings.push(`no series of ${check.metric} matches ${selector || 'the selector'} yet: every reading is inconclusive until one does`);
  return finish({ ...row, ...(valuesSeen && Object.keys(valuesSeen).length ? { valuesSeen } : {}), ...(warnings.length ? { warnings } : {}) });
}

/** A label mismatch with the closest label the metric has and the field of the check that names it. */
function inField(facts: SeriesDescription, check: string, field: 'select' | 'errors', text: string): string {
  const close = facts.absentLabel ? closestNames(facts.absentLabel, facts.labelsSeen) : [];
  return `${facts.mismatch}${close.length ? `; did you mean ${close.join(' or ')}?` : ''} (fix \`${field}: '${text}'\` of check ${check})`;
}

/** With no series yet, the labels the check's matchers name cannot be checked: say which. */
function uncheckedLabels(check: Extract<CheckSpec, { type: 'error-rate' | 'latency' | 'gauge' }>): string {
  let labels: string[];
  try {
    labels = [...new Set([...parseMatchers(check.select), ...(check.type === 'error-rate' ? parseMatchers(check.errors) : [])].map((m) => m.label))];
  } catch {
    return '';
  }
  return labels.length ? `; its label${labels.length > 1 ? 's' : ''} ${labels.join(', ')} cannot be checked until then` : '';
}

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'and', 'or', 'unless', 'inf', 'nan', 'atan2', 'start', 'end']);

/** The metric names a PromQL expression reads: identifiers that are not functions, keywords, label matchers or durations. */
export function promqlMetricNames(query: string): string[] {
  const bare = query.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""').replace(/\{[^}]*\}/g, ' ').replace(/\[[^\]]*\]/g, ' ').replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const after = bare.slice(m.index + m[0].length).trimStart();
    const before = bare.slice(0, m.index);
    if (after.startsWith('(') || PROMQL_WORDS.has(m[0].toLowerCase()) || /\d$/.test(before)) continue;
    names.add(m[0]);
  }
  return [...names];
}

/** An empty PromQL result: a metric name Prometheus has never seen is the wrong name (exit 2); else no traffic yet. */
async function emptyQuery(check: Extract<CheckSpec, { type: 'promql' }>, probe: LiveProbe): Promise<Pick<LiveCheckRow, 'problem' | 'warnings' | 'error' | 'note'>> {
  const known = await probe.metricNames();
  if ('error' in known) return { error: known.error };
  const unknown = promqlMetricNames(check.query).filter((n) => !known.includes(n));
  if (unknown.length && known.length) {
    const hints = unknown.map((n) => {
      const close = closestNames(n, known);
      return `${n}${close.length ? ` (did you mean ${close.join(' or ')}?)` : ''}`;
    });
    return { problem: `the query matched no series, and Prometheus has never seen ${hints.join(', ')}` };
  }
  const empty = check.empty ?? 'inconclusive';
  const means = empty === 'inconclusive' ? 'every reading is inconclusive until it matches' : typeof empty === 'number' ? `read as ${empty} (empty: ${empty})` : `the check ${empty === 'pass' ? 'passes' : 'fails'} (empty: ${empty})`;
  return { warnings: [`the query matched no series now: ${means}`] };
}

export interface LiveCheckReport {
  env: string;
  source: string;
  ok: boolean;
  checks: LiveCheckRow[];
  /** The safety keys (trading.breaker / trading.killSwitch) read from the environment's Redis, when it names one. */
  safety?: LiveSafetyRow[];
  /** Each service's health URL judged against its contract (status and version fields); on a swarm read where the monitor reads it. */
  health?: LiveHealthRow[];
}

export async function probeChecks(env: string, source: string, checks: CheckSpec[], probe: LiveProbe): Promise<LiveCheckReport> {
  const rows: LiveCheckRow[] = [];
  for (const check of checks) rows.push(await probeCheck(check, probe));
  return { env, source, ok: rows.every((r) => r.status !== 'problem' && r.status !== 'error'), checks: rows };
}

/**
 * `config check --live <env>`: the environment's metrics source asked what each check's selectors
 * find, and value checks read once. `located`: the services where the target runs them (swarm,
 * locateForLiveCheck): scraped there, as a soak scrapes them, and each one's health read there too.
 */
export async function liveConfigCheck(environment: ResolvedEnvironment, located?: ObservedServices): Promise<LiveCheckReport> {
  const { name: env, spec } = environment;
  const services = located?.services ?? environment.services;
  const analysis = spec.analysis;
  const [safety, health] = await Promise.all([liveSafetyRows(spec.trading, process.env, env), liveHealthRows(environment, located)]);
  const finishReport = (r: LiveCheckReport): LiveCheckReport => {
    const withHealth = health.length ? { ...r, ok: r.ok && health.every((h) => h.status !== 'problem' && h.status !== 'error'), health } : r;
    return safety.length ? { ...withHealth, ok: withHealth.ok && safety.every((s) => s.status !== 'error'), safety } : withHealth;
  };
  if (!analysis?.checks.length) return finishReport({ env, source: analysis?.source ?? 'scrape', ok: true, checks: [] });
  const unreadable = located && analysis.source === 'scrape' ? metricsUnreadable(located) : undefined;
  const source = await openMetricSource(analysis, services, unreadable, true);
  const report = await probeChecks(env, analysis.source, analysis.checks, {
    kind: analysis.source,
    describe: (metric, matchers) => source.describe(metric, matchers),
    metricNames: () => source.metricNames(),
    read: (check) => readCheck(check, source, process.env),
  });
  const where = located && analysis.source === 'scrape' && !unreadable ? metricsWhere(services) : undefined;
  if (!where) return finishReport(report);
  // Each scraped row says where it read; fewer tasks than wanted is said too (the sum is of those that run).
  const checks = report.checks.map((row) => {
    if (row.selector === undefined) return row;
    const warnings = [...(row.warnings ?? []), ...where.warnings];
    const status = row.status === 'ok' && warnings.length ? 'warning' : row.status;
    return { ...row, status, where: where.where, ...(warnings.length ? { warnings } : {}) };
  });
  return finishReport({ ...report, checks });
}
