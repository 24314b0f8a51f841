// Ties the stack together: reports dependency health and turns signals into orders.
import { createService, HttpError, run } from '../lib/service.mjs';

const trimSlash = (u) => u.replace(/\/+$/, '');
const SIGNAL_SERVICE_URL = trimSlash(process.env.SIGNAL_SERVICE_URL || 'http://127.0.0.1:8001');
const EXECUTION_GATEWAY_URL = trimSlash(process.env.EXECUTION_GATEWAY_URL || 'http://127.0.0.1:8002');
const TIMEOUT_MS = 2000;

async function callJson(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

async function probe(baseUrl) {
  try {
    const { status, body } = await callJson(`${baseUrl}/health`);
    const healthy = status === 200 && body?.status === 'healthy';
    return { status: healthy ? 'healthy' : 'unhealthy', version: body?.version ?? null, url: baseUrl };
  } catch (err) {
    return { status: 'unreachable', version: null, url: baseUrl, error: err.message };
  }
}

async function placeFromSignal(signal) {
  const order = { symbol: signal.symbol, side: signal.side, qty: Math.max(1, Math.round(signal.strength * 100)), type: 'market' };
  try {
    const { status, body } = await callJson(`${EXECUTION_GATEWAY_URL}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(order),
    });
    if (status === 201) return { symbol: order.symbol, status, id: body.id };
    return { symbol: order.symbol, status, error: body?.error ?? 'unexpected response' };
  } catch (err) {
    return { symbol: order.symbol, status: 'network', error: err.message };
  }
}

const service = createService({
  name: 'orchestrator',
  defaultPort: 8003,
  routes: [
    {
      method: 'GET',
      path: '/status',
      handler: async () => {
        const [signalService, executionGateway] = await Promise.all([probe(SIGNAL_SERVICE_URL), probe(EXECUTION_GATEWAY_URL)]);
        const healthy = signalService.status === 'healthy' && executionGateway.status === 'healthy';
        return { status: healthy ? 200 : 503, body: { status: healthy ? 'healthy' : 'degraded', signalService, executionGateway } };
      },
    },
    {
      method: 'POST',
      path: '/run',
      handler: async () => {
        let signals;
        try {
          const { status, body } = await callJson(`${SIGNAL_SERVICE_URL}/signals`);
          if (status !== 200 || !Array.isArray(body?.signals)) throw new Error(`signal service answered ${status}`);
          signals = body.signals;
        } catch (err) {
          throw new HttpError(502, `cannot fetch signals: ${err.message}`);
        }
        const orders = [];
        for (const signal of signals) orders.push(await placeFromSignal(signal));
        const placed = orders.filter((o) => o.status === 201).length;
        return { body: { signals: signals.length, placed, failed: orders.length - placed, orders } };
      },
    },
  ],
});

run(service);
