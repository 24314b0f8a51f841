/**
 * The broker port over the sample stack's paper broker (demo/stack/base/execution_gateway):
 *
 *   GET    /health                 -> {status: "healthy", version, service}
 *   GET    /orders?status=open     -> [{id, symbol, qty, side, type, status: "open", createdAt}]
 *   DELETE /orders                 -> 207 [{id, status: 200}]
 *   DELETE /orders/:id             -> 204, 422 {error} (not open), 404 {error}
 *   GET    /positions              -> [] (the paper broker never fills)
 *
 * It has no account, no clock and no way to close positions: `account()` reports the gateway's
 * health as the account, and `closeAllPositions()` has nothing to do while positions are empty
 * (with positions it tries `DELETE /positions` and reports per symbol if that is missing).
 */
import {
  ok,
  unavailable,
  type Broker,
  type BrokerAccount,
  type BrokerOrder,
  type BrokerPosition,
  type BrokerRead,
  type CancelResult,
  type ClosePositionResult,
} from './broker.js';
import { bodyMessage, brokerRequest, type BrokerHttpOptions, type BrokerRequest } from './http.js';

export interface PaperBrokerOptions extends BrokerHttpOptions {
  /** Base URL of the paper broker, e.g. http://127.0.0.1:8002 */
  url: string;
}

type Answer = { status: number; body: unknown };

export class PaperBroker implements Broker {
  readonly name = 'paper';

  constructor(private readonly options: PaperBrokerOptions) {}

  async account(): Promise<BrokerRead<BrokerAccount>> {
    return this.read({ method: 'GET', path: '/health', idempotent: true }, ({ status, body }) => {
      const h = asRecord(body);
      if (status !== 200 || !h || typeof h.status !== 'string') return unexpected('GET /health', status, body);
      const healthy = h.status === 'healthy';
      return ok({ id: 'paper', status: healthy ? 'ACTIVE' : h.status, tradingBlocked: !healthy });
    });
  }

  async openOrders(): Promise<BrokerRead<BrokerOrder[]>> {
    return this.read({ method: 'GET', path: '/orders', query: { status: 'open' }, idempotent: true }, ({ status, body }) => {
      if (status !== 200 || !Array.isArray(body)) return unexpected('GET /orders', status, body);
      const orders: BrokerOrder[] = [];
      for (const raw of body) {
        const o = asRecord(raw);
        if (!o || typeof o.id !== 'string' || typeof o.status !== 'string') return unavailable('GET /orders: unexpected answer (expected orders with an id and a status)');
        const qty = typeof o.qty === 'number' ? o.qty : Number(o.qty);
        orders.push({
          id: o.id,
          symbol: typeof o.symbol === 'string' ? o.symbol : '',
          qty: Number.isFinite(qty) ? qty : 0,
          side: typeof o.side === 'string' ? o.side : '',
          status: o.status,
          ...(typeof o.createdAt === 'string' ? { submittedAt: o.createdAt } : {}),
        });
      }
      return ok(orders);
    });
  }

  async cancelAllOrders(): Promise<BrokerRead<CancelResult[]>> {
    return this.read({ method: 'DELETE', path: '/orders', idempotent: true }, ({ status, body }) => {
      if ((status !== 207 && status !== 200) || !Array.isArray(body)) return unexpected('DELETE /orders', status, body);
      const results: CancelResult[] = [];
      for (const raw of body) {
        const r = asRecord(raw);
        if (!r || typeof r.id !== 'string' || typeof r.status !== 'number') return unavailable('DELETE /orders: unexpected answer (expected results with an id and a status)');
        const accepted = r.status >= 200 && r.status < 300;
        results.push({ id: r.id, ok: accepted, status: r.status, ...(accepted ? {} : { reason: bodyMessage(r.body) ?? bodyMessage(r) ?? `HTTP ${r.status}` }) });
      }
      return ok(results);
    });
  }

  async cancelOrder(id: string): Promise<CancelResult> {
    if (typeof id !== 'string' || id.trim() === '') return { id, ok: false, status: 0, reason: 'no order id given' };
    const result = await brokerRequest(this.options.url, { method: 'DELETE', path: `/orders/${encodeURIComponent(id)}`, idempotent: true }, this.options);
    if (result.kind === 'failed') return { id, ok: false, status: result.status ?? 0, reason: `paper broker: ${result.reason}` };
    if (result.status === 204 || result.status === 200) return { id, ok: true, status: result.status };
    const fallback = result.status === 404 ? 'order not found' : result.status === 422 ? 'order is not cancelable' : `HTTP ${result.status}`;
    return { id, ok: false, status: result.status, reason: bodyMessage(result.body) ?? fallback };
  }

  async positions(): Promise<BrokerRead<BrokerPosition[]>> {
    return this.read({ method: 'GET', path: '/positions', idempotent: true }, ({ status, body }) => {
      if (status !== 200 || !Array.isArray(body)) return unexpected('GET /positions', status, body);
      const positions: BrokerPosition[] = [];
      for (const raw of body) {
        const p = asRecord(raw);
        const qty = p ? (typeof p.qty === 'number' ? p.qty : Number(p.qty)) : Number.NaN;
        if (!p || typeof p.symbol !== 'string' || !Number.isFinite(qty)) return unavailable('GET /positions: unexpected answer (expected positions with a symbol and a numeric qty)');
        positions.push({ symbol: p.symbol, qty: p.side === 'short' ? -Math.abs(qty) : qty });
      }
      return ok(positions);
    });
  }

  async closeAllPositions(): Promise<BrokerRead<ClosePositionResult[]>> {
    const held = await this.positions();
    if (held.kind !== 'ok') return held;
    if (held.value.length === 0) return ok([]);
    return this.read({ method: 'DELETE', path: '/positions', idempotent: false }, ({ status, body }) => {
      if (status === 404 || status === 405) {
        return ok(held.value.map((p) => ({ symbol: p.symbol, ok: false, status, reason: 'this paper broker cannot close positions (no DELETE /positions)' })));
      }
      if ((status !== 207 && status !== 200) || !Array.isArray(body)) return unexpected('DELETE /positions', status, body);
      const results: ClosePositionResult[] = [];
      for (const raw of body) {
        const r = asRecord(raw);
        if (!r || typeof r.symbol !== 'string' || typeof r.status !== 'number') return unavailable('DELETE /positions: unexpected answer (expected results with a symbol and a status)');
        const accepted = r.status >= 200 && r.status < 300;
        results.push({ symbol: r.symbol, ok: accepted, status: r.status, ...(accepted ? {} : { reason: bodyMessage(r.body) ?? `HTTP ${r.status}` }) });
      }
      return ok(results);
    });
  }

  private async read<T>(request: BrokerRequest, interpret: (answer: Answer) => BrokerRead<T>): Promise<BrokerRead<T>> {
    const result = await brokerRequest(this.options.url, request, this.options);
    if (result.kind === 'failed') return unavailable(`paper broker: ${result.reason}`);
    const read = interpret({ status: result.status, body: result.body });
    return read.kind === 'unavailable' ? unavailable(`paper broker: ${read.reason}`) : read;
  }
}

function unexpected<T>(label: string, status: number, body: unknown): BrokerRead<T> {
  const m = bodyMessage(body);
  return unavailable(`${label}: unexpected answer (HTTP ${status}${m ? `: ${m}` : ''})`);
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
