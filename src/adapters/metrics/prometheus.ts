// PromQL over Prometheus' HTTP API (/api/v1/query, /api/v1/query_range, /-/ready).
//
// Gates decide promote/rollback from these answers, so the one rule here is: anything that is
// not a real measurement (fetch failure, timeout, non-2xx, status "error", malformed body, empty
// result) comes back as { kind: 'no-data', reason } and is never turned into 0. No method throws
// once the client is constructed.

export interface PromSample {
  labels: Record<string, string>;
  value: number;
  timestampMs: number;
}

export interface PromSeries {
  labels: Record<string, string>;
  points: { timestampMs: number; value: number }[];
}

/** `failed` marks a source failure (fetch, timeout, non-2xx, status "error", malformed answer) apart from an answer without data. */
export type QueryOutcome<T> = { kind: 'data'; data: T } | { kind: 'no-data'; reason: string; failed?: true };

export interface PrometheusClientOptions {
  /** e.g. http://127.0.0.1:9090 (a path prefix such as http://host/prometheus is kept). */
  baseUrl: string;
  /** Per request, covering connect, answer and body. Default 10 s. */
  timeoutMs?: number;
  /** Extra request headers (e.g. authorization). */
  headers?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 10_000;
/** Longer encoded queries go as a POST form body instead of a GET query string. */
const MAX_GET_QUERY_CHARS = 2_000;

type Raw = unknown;
type Outcome<T> = QueryOutcome<T>;

const noData = <T>(reason: string): Outcome<T> => ({ kind: 'no-data', reason });
const failure = <T>(reason: string): Outcome<T> => ({ kind: 'no-data', reason, failed: true });

/** Prometheus encodes sample values as strings: "1.5", "NaN", "+Inf", "-Inf". */
export function parsePromValue(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined;
  switch (text) {
    case 'NaN':
      return NaN;
    case '+Inf':
    case 'Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
  }
  if (text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/** [<unix seconds, float>, "<value>"] -> point, or undefined when malformed. */
function parsePair(pair: Raw): { timestampMs: number; value: number } | undefined {
  if (!Array.isArray(pair) || pair.length !== 2) return undefined;
  const [ts, text] = pair as [unknown, unknown];
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return undefined;
  const value = parsePromValue(text);
  if (value === undefined) return undefined;
  return { timestampMs: Math.round(ts * 1000), value };
}

function parseLabels(metric: Raw): Record<string, string> | undefined {
  if (metric === undefined || metric === null) return {};
  if (typeof metric !== 'object' || Array.isArray(metric)) return undefined;
  const labels: Record<string, string> = {};
  for (const [k, v] of Object.entries(metric as Record<string, unknown>)) {
    if (typeof v !== 'string') return undefined;
    labels[k] = v;
  }
  return labels;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${timeoutMs}ms`;
  if (e?.cause?.code) return `${e.cause.code}${e.cause.message ? ` (${e.cause.message})` : ''}`;
  if (e?.cause?.message) return e.cause.message;
  return e?.message ?? String(err);
}

const clip = (s: string, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);

export class PrometheusClient {
  private readonly baseUrl: string;
  private readonly timeoutMs: number;
  private readonly headers: Record<string, string>;

  constructor(opts: { baseUrl: string; timeoutMs?: number; headers?: Record<string, string> }) {
    let url: URL;
    try {
      url = new URL(opts.baseUrl);
    } catch {
      throw new Error(`invalid Prometheus URL: ${opts.baseUrl}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Prometheus URL must be http(s): ${opts.baseUrl}`);
    if (url.search || url.hash) throw new Error(`Prometheus URL must not have a query or fragment: ${opts.baseUrl}`);
    this.baseUrl = url.href.replace(/\/+$/, '');
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new Error(`timeoutMs must be a positive number, got ${timeoutMs}`);
    this.timeoutMs = timeoutMs;
    this.headers = { ...(opts.headers ?? {}) };
  }

  /** Instant query. Scalar results become one sample with empty labels; string and range-vector results are no-data. */
  async instant(expr: string, atMs?: number): Promise<QueryOutcome<PromSample[]>> {
    const params: Record<string, string> = { query: expr };
    if (atMs !== undefined) {
      if (!Number.isFinite(atMs)) return noData(`invalid evaluation time: ${atMs}`);
      params.time = toSeconds(atMs);
    }
    const res = await this.api('query', params);
    if (res.kind === 'no-data') return res;
    const { resultType, result } = res.data;
    if (resultType === 'scalar') {
      const point = parsePair(result);
      if (!point) return failure(`malformed scalar result: ${clip(JSON.stringify(result) ?? '')}`);
      return { kind: 'data', data: [{ labels: {}, value: point.value, timestampMs: point.timestampMs }] };
    }
    if (resultType === 'string') return noData('query returned a string, not a number');
    if (resultType === 'matrix') return noData('query returned a range vector; use range() or wrap it in a function');
    if (resultType !== 'vector') return noData(`unexpected result type ${JSON.stringify(resultType)}`);
    if (!Array.isArray(result)) return failure('malformed vector result');
    const samples: PromSample[] = [];
    let histograms = 0;
    for (const item of result) {
      if (!isRecord(item)) return failure('malformed vector sample');
      if (item.value === undefined && item.histogram !== undefined) {
        histograms += 1; // native histogram sample: no float value to report
        continue;
      }
      const labels = parseLabels(item.metric);
      const point = parsePair(item.value);
      if (!labels || !point) return failure(`malformed vector sample: ${clip(JSON.stringify(item) ?? '')}`);
      samples.push({ labels, value: point.value, timestampMs: point.timestampMs });
    }
    if (samples.length === 0) {
      return noData(histograms > 0 ? `only native histogram samples (${histograms}), which carry no float value` : 'empty result');
    }
    return { kind: 'data', data: samples };
  }

  /** Range query over [startMs, endMs] every stepSeconds. */
  async range(expr: string, startMs: number, endMs: number, stepSeconds: number): Promise<QueryOutcome<PromSeries[]>> {
    if (!Number.isFinite(startMs) || !Number.isFinite(endMs)) return noData(`invalid time range: ${startMs}..${endMs}`);
    if (endMs < startMs) return noData(`end (${endMs}) is before start (${startMs})`);
    if (!Number.isFinite(stepSeconds) || stepSeconds <= 0) return noData(`step must be a positive number of seconds, got ${stepSeconds}`);
    const res = await this.api('query_range', {
      query: expr,
      start: toSeconds(startMs),
      end: toSeconds(endMs),
      step: String(stepSeconds),
    });
    if (res.kind === 'no-data') return res;
    const { resultType, result } = res.data;
    if (resultType !== 'matrix') return noData(`unexpected result type ${JSON.stringify(resultType)} for a range query`);
    if (!Array.isArray(result)) return failure('malformed matrix result');
    const series: PromSeries[] = [];
    for (const item of result) {
      if (!isRecord(item)) return failure('malformed matrix series');
      const labels = parseLabels(item.metric);
      if (!labels) return failure(`malformed series labels: ${clip(JSON.stringify(item.metric) ?? '')}`);
      const values = item.values ?? [];
      if (!Array.isArray(values)) return failure('malformed series values');
      const points: PromSeries['points'] = [];
      for (const pair of values) {
        const point = parsePair(pair);
        if (!point) return failure(`malformed point: ${clip(JSON.stringify(pair) ?? '')}`);
        points.push(point);
      }
      if (points.length > 0) series.push({ labels, points }); // series with only native histograms are left out
    }
    if (series.length === 0) return noData('empty result');
    return { kind: 'data', data: series };
  }

  /** A single number: the query must yield exactly one series, and NaN counts as no data. */
  async scalar(expr: string, atMs?: number): Promise<QueryOutcome<number>> {
    const res = await this.instant(expr, atMs);
    if (res.kind === 'no-data') return res;
    if (res.data.length !== 1) return noData(`expected exactly one series, got ${res.data.length} series`);
    const value = res.data[0]!.value;
    if (Number.isNaN(value)) return noData('result is NaN');
    return { kind: 'data', data: value };
  }

  /** GET /-/ready: true only for a 2xx answer in time. */
  async ready(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/-/ready`, { headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
      await res.arrayBuffer().catch(() => undefined);
      return res.ok;
    } catch {
      return false;
    }
  }

  /** GET /api/v1/label/__name__/values: every metric name Prometheus holds (in its retention). */
  async metricNames(): Promise<QueryOutcome<string[]>> {
    const res = await this.request('label/__name__/values', {});
    if (res.kind === 'no-data') return res;
    if (!Array.isArray(res.data) || !res.data.every((n) => typeof n === 'string')) return failure('malformed label values: expected a list of names');
    return { kind: 'data', data: res.data };
  }

  /** GET /api/v1/metadata?metric=NAME: whether a target declares the metric (`# TYPE`/`# HELP`), samples or not. */
  async declares(metric: string): Promise<QueryOutcome<boolean>> {
    const res = await this.request('metadata', { metric });
    if (res.kind === 'no-data') return res;
    if (!isRecord(res.data)) return failure('malformed metadata: expected an object');
    return { kind: 'data', data: Array.isArray(res.data[metric]) && res.data[metric].length > 0 };
  }

  private async api(endpoint: 'query' | 'query_range', params: Record<string, string>): Promise<QueryOutcome<{ resultType: unknown; result: unknown }>> {
    const res = await this.request(endpoint, params);
    if (res.kind === 'no-data') return res;
    if (!isRecord(res.data)) return failure(`Prometheus ${endpoint} at ${this.baseUrl}: answer has no data`);
    return { kind: 'data', data: { resultType: res.data.resultType, result: res.data.result } };
  }

  private async request(endpoint: string, params: Record<string, string>): Promise<QueryOutcome<unknown>> {
    const url = `${this.baseUrl}/api/v1/${endpoint}`;
    const form = new URLSearchParams(params).toString();
    const usePost = form.length > MAX_GET_QUERY_CHARS;
    const where = `Prometheus ${endpoint} at ${this.baseUrl}`;
    let status: number;
    let text: string;
    try {
      const res = await fetch(usePost ? url : `${url}?${form}`, {
        method: usePost ? 'POST' : 'GET',
        headers: {
          ...this.headers,
          accept: 'application/json',
          ...(usePost ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        },
        body: usePost ? form : undefined,
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = res.status;
      text = await res.text();
    } catch (err) {
      return failure(`${where}: ${describeFetchError(err, this.timeoutMs)}`);
    }

    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    const ok = status >= 200 && status < 300;
    if (isRecord(body) && body.status === 'error') {
      const errorType = typeof body.errorType === 'string' ? body.errorType : 'unknown';
      const error = typeof body.error === 'string' ? body.error : 'no error message';
      return failure(`${where}: HTTP ${status} ${errorType}: ${error}`);
    }
    if (!ok) return failure(`${where}: HTTP ${status}${text.trim() ? `: ${clip(text.trim(), 200)}` : ''}`);
    if (!isRecord(body)) return failure(`${where}: HTTP ${status} answer is not a JSON object: ${clip(text.trim(), 200)}`);
    if (body.status !== 'success') return failure(`${where}: unexpected status ${clip(JSON.stringify(body.status) ?? 'undefined')}`);
    if (body.data === undefined) return failure(`${where}: answer has no data`);
    return { kind: 'data', data: body.data };
  }
}

/** Unix seconds with millisecond precision, as Prometheus accepts for time/start/end. */
function toSeconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}
