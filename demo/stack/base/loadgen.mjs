// Steady order-flow load generator for the execution gateway.
// Usage: node loadgen.mjs --url http://127.0.0.1:8002 --rps 20 --duration 5 [--total N] [--json]
// (--duration 0 runs until SIGTERM/SIGINT or until --total requests were sent).
import { realpathSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

export const SYMBOLS = [
  'AAPL', 'MSFT', 'NVDA', 'AMZN', 'GOOGL', 'META', 'TSLA', 'AMD', 'NFLX', 'JPM',
  'V', 'MA', 'XOM', 'UNH', 'COST', 'AVGO', 'CRM', 'ORCL', 'PLTR', 'COIN',
];

// Stepping by a number coprime with the list length visits every symbol once
// per 20 orders in a shuffled-looking order, so symbol mix does not drift with N.
const SYMBOL_STRIDE = 7;

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

export function makeOrder(i, rand) {
  return {
    symbol: SYMBOLS[(i * SYMBOL_STRIDE) % SYMBOLS.length],
    qty: 1 + Math.floor(rand() * 500),
    side: rand() < 0.5 ? 'buy' : 'sell',
    type: 'market',
  };
}

/**
 * Sends POST {url}/orders at `rps` for `durationSeconds` (0 = until `signal`
 * aborts or `total` orders were sent). Resolves to
 * { sent, ok, errors, byStatus, errorRate }; ok means any 2xx.
 */
export async function runLoad({ url, rps = 10, durationSeconds = 10, total, signal, seed = 1, timeoutMs = 5000 }) {
  if (!(rps > 0)) throw new Error('rps must be > 0');
  const endpoint = `${String(url).replace(/\/+$/, '')}/orders`;
  const rand = prng(seed);
  const byStatus = {};
  let sent = 0;
  let ok = 0;
  const inflight = new Set();
  const hardStop = new AbortController();

  async function sendOne(i) {
    const body = JSON.stringify(makeOrder(i, rand));
    let status;
    try {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.any([hardStop.signal, AbortSignal.timeout(timeoutMs)]),
      });
      await res.arrayBuffer();
      status = String(res.status);
      if (res.status >= 200 && res.status < 300) ok += 1;
    } catch (err) {
      status = hardStop.signal.aborted ? 'aborted' : err?.name === 'TimeoutError' ? 'timeout' : 'network';
    }
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  }

  const start = performance.now();
  const endAt = durationSeconds > 0 ? start + durationSeconds * 1000 : Infinity;
  for (let i = 0; ; i++) {
    if (signal?.aborted || (total !== undefined && i >= total)) break;
    // Schedule against the start time so slow responses do not lower the rate.
    const due = start + (i * 1000) / rps;
    if (due >= endAt) break;
    const wait = due - performance.now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal });
      } catch {
        break; // aborted while waiting
      }
    }
    sent += 1;
    const p = sendOne(i).finally(() => inflight.delete(p));
    inflight.add(p);
  }

  // On an external stop, give in-flight requests a moment, then cut them off.
  const cutoff = signal?.aborted ? setTimeout(() => hardStop.abort(), 1000) : undefined;
  await Promise.allSettled([...inflight]);
  clearTimeout(cutoff);

  const errors = sent - ok;
  return { sent, ok, errors, byStatus, errorRate: sent ? Math.round((errors / sent) * 10000) / 10000 : 0 };
}

function isMain() {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8002' },
      rps: { type: 'string', default: '10' },
      duration: { type: 'string', default: '10' },
      total: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const controller = new AbortController();
  process.once('SIGTERM', () => controller.abort());
  process.once('SIGINT', () => controller.abort());
  const summary = await runLoad({
    url: values.url,
    rps: Number(values.rps),
    durationSeconds: Number(values.duration),
    total: values.total === undefined ? undefined : Number(values.total),
    signal: controller.signal,
  });
  if (values.json) {
    console.log(JSON.stringify(summary));
  } else {
    const statuses = Object.entries(summary.byStatus).map(([k, v]) => `${k}:${v}`).join(',');
    console.log(
      `sent=${summary.sent} ok=${summary.ok} errors=${summary.errors} errorRate=${(summary.errorRate * 100).toFixed(2)}% byStatus=${statuses}`,
    );
  }
  // Keep-alive sockets in fetch's pool would otherwise hold the process open for a few seconds.
  process.exit(0);
}
