// Prometheus text exposition (format 0.0.4), kept dependency-free so the
// demo stack can be copied anywhere and run with plain `node`.

export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const escapeLabel = (v) => String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const formatLabels = (labels) =>
  '{' + Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',') + '}';

export function createMetrics({ service, version }) {
  const requestCounts = new Map(); // rendered label set -> count
  // One histogram per route, so latency gates can look at orders without health probes.
  // Cumulative counts: an observation increments every bucket whose bound it fits under.
  const histograms = new Map(); // route -> { buckets, sum, count }
  const startTime = Date.now() / 1000;

  function observe({ method, route, code, seconds }) {
    const key = formatLabels({ service, method, route, code: String(code) });
    requestCounts.set(key, (requestCounts.get(key) ?? 0) + 1);
    let h = histograms.get(route);
    if (!h) histograms.set(route, (h = { buckets: DURATION_BUCKETS.map(() => 0), sum: 0, count: 0 }));
    DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.buckets[i] += 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  function render() {
    const lines = [
      '# HELP http_requests_total Total HTTP requests handled, by status code.',
      '# TYPE http_requests_total counter',
      ...[...requestCounts].map(([labels, n]) => `http_requests_total${labels} ${n}`),
      '# HELP http_request_duration_seconds HTTP request latency.',
      '# TYPE http_request_duration_seconds histogram',
      ...[...histograms].flatMap(([route, h]) => [
        ...DURATION_BUCKETS.map((le, i) => `http_request_duration_seconds_bucket${formatLabels({ service, route, le: String(le) })} ${h.buckets[i]}`),
        `http_request_duration_seconds_bucket${formatLabels({ service, route, le: '+Inf' })} ${h.count}`,
        `http_request_duration_seconds_sum${formatLabels({ service, route })} ${h.sum}`,
        `http_request_duration_seconds_count${formatLabels({ service, route })} ${h.count}`,
      ]),
      '# HELP build_info Running version of the service; always 1.',
      '# TYPE build_info gauge',
      `build_info${formatLabels({ service, version })} 1`,
      '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
      '# TYPE process_start_time_seconds gauge',
      `process_start_time_seconds ${startTime}`,
    ];
    return lines.join('\n') + '\n';
  }

  return { observe, render };
}
