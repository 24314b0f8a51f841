// Throughput of the /metrics parser on a payload shaped like a busy trading service: every
// watched service is scraped once a second, so this is the per-tick cost of watching.
import { parseExposition } from '../dist/adapters/metrics/exposition.js';

const SERVICES = ['execution_gateway', 'signal_service', 'orchestrator'];
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const ROUTES = ['/orders', '/orders/:id', '/orders/:id/cancel', '/signals', '/positions'];
const METHODS = ['GET', 'POST'];
const CODES = ['200', '500'];
const WARMUP_MS = 500;
const MEASURE_MS = 2000;

// Deterministic so runs compare like for like.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 3 services x 20 label sets (5 routes x 2 methods x 2 codes), each with an 11-bucket
// histogram plus sum/count and two counters, in the shape demo/stack/base/lib/metrics.mjs
// renders, with the extra instance/version labels a real deployment carries.
export function makePayload() {
  const rand = prng(7);
  const lines = [
    '# HELP http_request_duration_seconds HTTP request latency.',
    '# TYPE http_request_duration_seconds histogram',
  ];
  const counters = [
    '# HELP http_requests_total Total HTTP requests handled, by status code.',
    '# TYPE http_requests_total counter',
  ];
  const bytes = ['# HELP http_response_bytes_total Bytes sent in response bodies.', '# TYPE http_response_bytes_total counter'];
  for (const service of SERVICES) {
    for (const route of ROUTES) {
      for (const method of METHODS) {
        for (const code of CODES) {
          const labels = `service="${service}",instance="10.0.3.17:8002",version="1.4.2",method="${method}",route="${route}",code="${code}"`;
          let cumulative = 0;
          for (const le of BUCKETS) {
            cumulative += Math.floor(rand() * 5000);
            lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${cumulative}`);
          }
          const total = cumulative + Math.floor(rand() * 50);
          lines.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${total}`);
          lines.push(`http_request_duration_seconds_sum{${labels}} ${(total * rand() * 0.2).toFixed(6)}`);
          lines.push(`http_request_duration_seconds_count{${labels}} ${total}`);
          counters.push(`http_requests_total{${labels}} ${total}`);
          bytes.push(`http_response_bytes_total{${labels}} ${total * 312}`);
        }
      }
    }
  }
  const gauges = [
    '# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.',
    '# TYPE process_start_time_seconds gauge',
    'process_start_time_seconds 1767225600.123',
    '# HELP process_resident_memory_bytes Resident memory size in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    'process_resident_memory_bytes 7.3728e+07',
  ];
  return [...lines, ...counters, ...bytes, ...gauges].join('\n') + '\n';
}

export async function run() {
  const payload = makePayload();
  const payloadBytes = Buffer.byteLength(payload);
  const samplesPerPayload = parseExposition(payload).samples.length;

  // Checksum so the optimiser cannot drop the parse as dead code.
  let checksum = 0;
  const warmupEnd = performance.now() + WARMUP_MS;
  while (performance.now() < warmupEnd) checksum += parseExposition(payload).samples.length;

  let iterations = 0;
  const started = performance.now();
  let elapsed = 0;
  while (elapsed < MEASURE_MS) {
    checksum += parseExposition(payload).samples.length;
    iterations++;
    elapsed = performance.now() - started;
  }
  if (checksum === 0) throw new Error('parser returned no samples');

  const seconds = elapsed / 1000;
  const round = (n, digits) => Number(n.toFixed(digits));
  return {
    payloadBytes,
    samplesPerPayload,
    iterations,
    mbPerSecond: round((payloadBytes * iterations) / seconds / 1e6, 1),
    samplesPerSecond: Math.round((samplesPerPayload * iterations) / seconds),
    parseMicrosPerPayload: round((elapsed * 1000) / iterations, 1),
  };
}
