// The broker port: Alpaca Trading API v2 against a local fake that follows Alpaca's documented
// shapes (207 Multi-Status cancels with partial failures, asynchronous pending_cancel, paging,
// 429 with Retry-After, auth headers, down modes), and the paper adapter against the sample
// stack's real execution gateway. Fail closed throughout: a broker that cannot be read is
// `unavailable`, never an empty list.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AlpacaBroker, type AlpacaBrokerOptions } from '../src/adapters/broker/alpaca.js';
import type { Broker, BrokerOrder, BrokerRead } from '../src/adapters/broker/broker.js';
import { createBroker } from '../src/adapters/broker/factory.js';
import type { BrokerHttpDeps } from '../src/adapters/broker/http.js';
import { PaperBroker } from '../src/adapters/broker/paper.js';
import { FakeAlpaca } from './fakes/alpaca.js';
import { scaled } from './harness/pace.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Fast retries for tests; the waits are still real unless a test records them. */
const FAST = { attempts: 4, baseDelayMs: 10, maxDelayMs: 50, deadlineMs: 10_000, requestTimeoutMs: 3_000 };

/** Records the backoff waits asked for, without waiting; `onWait` runs at each. */
function recordingSleep(onWait?: (ms: number, n: number) => void | Promise<void>): BrokerHttpDeps & { waits: number[] } {
  const waits: number[] = [];
  return {
    waits,
    random: () => 0.5,
    sleep: async (ms) => {
      waits.push(ms);
      await onWait?.(ms, waits.length);
    },
  };
}

function value<T>(read: BrokerRead<T>): T {
  if (read.kind !== 'ok') throw new Error(`expected ok, got unavailable: ${read.reason}`);
  return read.value;
}

function reasonOf<T>(read: BrokerRead<T>): string {
  if (read.kind !== 'unavailable') throw new Error(`expected unavailable, got ok: ${JSON.stringify(read.value).slice(0, 200)}`);
  return read.reason;
}

async function eventually<T>(probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const v = await probe();
    if (done(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('Alpaca adapter', () => {
  let fake: FakeAlpaca;
  let env: Record<string, string | undefined>;

  const alpaca = (extra: Partial<AlpacaBrokerOptions> = {}) =>
    new AlpacaBroker({ mode: 'paper', baseUrl: fake.url, keyIdEnv: 'APCA_API_KEY_ID', secretKeyEnv: 'APCA_API_SECRET_KEY', env, retry: FAST, ...extra });

  /** No reason, anywhere, may carry a credential value. */
  const noSecrets = (text: string) => {
    expect(text).not.toContain(fake.keyId);
    expect(text).not.toContain(fake.secretKey);
  };

  beforeEach(async () => {
    fake = await FakeAlpaca.start();
    env = { APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: fake.secretKey };
  });

  afterEach(async () => {
    await fake.close();
  });

  describe('authentication', () => {
    it('sends APCA-API-KEY-ID and APCA-API-SECRET-KEY and parses the account', async () => {
      const account = value(await alpaca().account());
      expect(account).toEqual({ id: '1d9eed04-be39-4e01-9b84-a48ac5bbafcf', status: 'ACTIVE', tradingBlocked: false, equity: 123346.11 });
      expect(fake.requests).toHaveLength(1);
      expect(fake.requests[0]!.path).toBe('/v2/account');
      expect(fake.requests[0]!.headers['apca-api-key-id']).toBe(fake.keyId);
      expect(fake.requests[0]!.headers['apca-api-secret-key']).toBe(fake.secretKey);
    });

    it('reports a blocked account as tradingBlocked', async () => {
      fake.account = { ...fake.account, trading_blocked: false, account_blocked: true };
      expect(value(await alpaca().account()).tradingBlocked).toBe(true);
    });

    it('is unavailable, naming the variable, when a credential variable is missing; nothing is sent', async () => {
      env = { APCA_API_KEY_ID: fake.keyId };
      const broker = alpaca();
      const reads: BrokerRead<unknown>[] = [await broker.account(), await broker.openOrders(), await broker.positions(), await broker.cancelAllOrders(), await broker.closeAllPositions()];
      for (const read of reads) {
        const reason = reasonOf(read);
        expect(reason).toContain('APCA_API_SECRET_KEY');
        expect(reason).not.toContain('APCA_API_KEY_ID');
        noSecrets(reason);
      }
      const one = await broker.cancelOrder('some-id');
      expect(one).toMatchObject({ id: 'some-id', ok: false, status: 0 });
      expect(one.reason).toContain('APCA_API_SECRET_KEY');

      env = {};
      expect(reasonOf(await alpaca({ keyIdEnv: 'PROD_ALPACA_KEY', secretKeyEnv: 'PROD_ALPACA_SECRET' }).openOrders())).toMatch(/PROD_ALPACA_KEY and PROD_ALPACA_SECRET are not set/);
      env = { APCA_API_KEY_ID: '  ', APCA_API_SECRET_KEY: fake.secretKey };
      expect(reasonOf(await alpaca().openOrders())).toContain('APCA_API_KEY_ID');
      expect(fake.requests).toHaveLength(0);
    });

    it('is unavailable when Alpaca refuses the key pair (403), without the values in the reason', async () => {
      env = { APCA_API_KEY_ID: fake.keyId, APCA_API_SECRET_KEY: 'wrong-secret-value-123' };
      const reason = reasonOf(await alpaca().openOrders());
      expect(reason).toMatch(/refused the credentials from APCA_API_KEY_ID\/APCA_API_SECRET_KEY/);
      expect(reason).toContain('HTTP 403');
      expect(reason).not.toContain('wrong-secret-value-123');
      noSecrets(reason);
      expect(fake.requests).toHaveLength(1); // a refusal is not retried
    });
  });

  describe('kill-switch cancellation', () => {
    it('cancels 50 open orders: 207 with 3 transient failures, a second pass, then none left', async () => {
      const ids = fake.addOrders(50);
      const failing = [ids[3]!, ids[17]!, ids[41]!];
      for (const id of failing) fake.cancelFailures.set(id, 1);
      fake.cancelDelayMs = 1_000; // Alpaca cancels asynchronously: pending_cancel first
      const broker = alpaca();

      const before = value(await broker.openOrders());
      expect(before).toHaveLength(50);
      expect(before[0]).toMatchObject({ id: ids[0], symbol: 'AAPL', qty: 1, side: 'buy', status: 'new' });
      expect(typeof before[0]!.qty).toBe('number');
      expect(before[0]!.submittedAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);

      const first = value(await broker.cancelAllOrders());
      expect(first).toHaveLength(50);
      const failed = first.filter((r) => !r.ok);
      expect(failed.map((r) => r.id).sort()).toEqual([...failing].sort());
      for (const r of failed) expect(r).toMatchObject({ ok: false, status: 500, reason: 'internal server error occurred' });
      expect(first.filter((r) => r.ok).every((r) => r.status === 200)).toBe(true);

      // Accepted is not gone: the 47 are pending_cancel and still open.
      const pending = value(await broker.openOrders());
      expect(pending).toHaveLength(50);
      expect(pending.filter((o) => o.status === 'pending_cancel')).toHaveLength(47);

      // Second pass, per order, for the failures.
      const second = await Promise.all(failed.map((r) => broker.cancelOrder(r.id)));
      expect(second.every((r) => r.ok && r.status === 204)).toBe(true);

      const left = await eventually(() => broker.openOrders(), (r) => r.kind === 'ok' && r.value.length === 0);
      expect(value(left)).toEqual([]);
    });

    it('a second cancel-all pass also clears the transient failures', async () => {
      const ids = fake.addOrders(50);
      for (const id of ids.slice(0, 3)) fake.cancelFailures.set(id, 1);
      const broker = alpaca();
      expect(value(await broker.cancelAllOrders()).filter((r) => !r.ok)).toHaveLength(3);
      const second = value(await broker.cancelAllOrders());
      expect(second).toHaveLength(3);
      expect(second.every((r) => r.ok)).toBe(true);
      expect(value(await broker.openOrders())).toEqual([]);
    });

    it('reports a permanently non-cancelable order with its reason, and it stays open', async () => {
      const ids = fake.addOrders(5);
      const stuck = ids[2]!;
      fake.notCancelable.add(stuck);
      const broker = alpaca();

      const results = value(await broker.cancelAllOrders());
      expect(results).toHaveLength(5);
      expect(results.find((r) => r.id === stuck)).toEqual({ id: stuck, ok: false, status: 422, reason: 'order is not cancelable' });

      for (let pass = 0; pass < 2; pass++) {
        expect(await broker.cancelOrder(stuck)).toEqual({ id: stuck, ok: false, status: 422, reason: 'order is not cancelable' });
      }
      const left = value(await broker.openOrders());
      expect(left.map((o) => o.id)).toEqual([stuck]);
    });

    it('cancelOrder: 404 for an unknown order, retried through a 500 on DELETE /v2/orders/{id}', async () => {
      const broker = alpaca();
      expect(await broker.cancelOrder('no-such-order')).toEqual({ id: 'no-such-order', ok: false, status: 404, reason: 'order not found' });
      const [id] = fake.addOrders(1);
      fake.cancelFailures.set(id!, 2);
      expect(await broker.cancelOrder(id!)).toEqual({ id, ok: true, status: 204 });
      expect(fake.calls().filter((c) => c === `DELETE /v2/orders/${id}`)).toHaveLength(3);
      expect(await broker.cancelOrder('')).toMatchObject({ ok: false, status: 0 });
    });
  });

  describe('rate limits and failures', () => {
    it('honours Retry-After on 429', async () => {
      fake.rateLimitNext = 2;
      fake.retryAfter = '1';
      const deps = recordingSleep();
      const account = await alpaca({ deps }).account();
      expect(account.kind).toBe('ok');
      expect(deps.waits).toHaveLength(2);
      for (const w of deps.waits) expect(w).toBeGreaterThanOrEqual(1000);
      expect(fake.requests).toHaveLength(3);
    });

    it('really waits out Retry-After before asking again', async () => {
      fake.rateLimitNext = 1;
      fake.retryAfter = '1';
      fake.addOrders(2);
      const started = Date.now();
      expect(value(await alpaca().openOrders())).toHaveLength(2);
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    });

    it('backs off exponentially with jitter when a 429 has no Retry-After', async () => {
      fake.rateLimitNext = 3;
      fake.retryAfter = undefined;
      fake.rateLimitResetSeconds = 0; // X-RateLimit-Reset already passed: nothing to wait for but the backoff
      const deps = recordingSleep();
      expect((await alpaca({ deps, retry: { ...FAST, attempts: 5 } }).positions()).kind).toBe('ok');
      expect(deps.waits).toEqual([7.5, 15, 30]); // base 10ms doubling, random 0.5 -> 3/4 of each
    });

    it('gives up on 429 after the attempts, unavailable', async () => {
      fake.rateLimitNext = 100;
      const deps = recordingSleep();
      const reason = reasonOf(await alpaca({ deps }).openOrders());
      expect(reason).toMatch(/GET \/v2\/orders: rate limited \(HTTP 429\); gave up after 4 attempts/);
      expect(fake.requests).toHaveLength(4);
    });

    it('gives up at once when Retry-After is beyond the deadline', async () => {
      fake.rateLimitNext = 1;
      fake.retryAfter = '120';
      const deps = recordingSleep();
      const reason = reasonOf(await alpaca({ deps }).account());
      expect(reason).toMatch(/rate limited.*deadline/);
      expect(deps.waits).toEqual([]);
      expect(fake.requests).toHaveLength(1);
    });

    it('retries 5xx and answers once Alpaca is back', async () => {
      fake.addOrders(3);
      await fake.goDown('503');
      const deps = recordingSleep(async (_ms, n) => {
        if (n === 2) await fake.goUp();
      });
      expect(value(await alpaca({ deps }).openOrders())).toHaveLength(3);
      expect(fake.requests).toHaveLength(3);
    });

    it('is unavailable, never empty, when Alpaca answers 503 to everything', async () => {
      fake.addOrders(3);
      fake.positions = [{ symbol: 'AAPL', qty: 10 }];
      await fake.goDown('503');
      const broker = alpaca();
      const reads: BrokerRead<unknown>[] = [await broker.openOrders(), await broker.positions(), await broker.cancelAllOrders(), await broker.account(), await broker.clock()];
      for (const read of reads) {
        expect(reasonOf(read)).toMatch(/HTTP 503.*gave up after 4 attempts/);
      }
      expect(await broker.cancelOrder('x')).toMatchObject({ ok: false, status: 0 });
    });

    it('is unavailable, never empty, when the connection is refused', async () => {
      fake.addOrders(3);
      await fake.goDown('refused');
      const broker = alpaca();
      const reason = reasonOf(await broker.openOrders());
      expect(reason).toMatch(/network error \(ECONNREFUSED\); gave up after 4 attempts/);
      expect(reason).not.toContain('127.0.0.1');
      expect(reasonOf(await broker.positions())).toContain('ECONNREFUSED');
      expect(reasonOf(await broker.cancelAllOrders())).toContain('ECONNREFUSED');
      await fake.goUp();
      expect(value(await broker.openOrders())).toHaveLength(3);
    });

    it('is unavailable when an answer does not look like Alpaca', async () => {
      fake.clock = { is_open: 'yes' };
      expect(reasonOf(await alpaca().clock())).toMatch(/GET \/v2\/clock: unexpected answer/);
    });
  });

  describe('open orders paging', () => {
    it('pages through more than 500 open orders, including a same-millisecond group across the boundary', async () => {
      fake.addOrders(495);
      fake.addOrders(12, { sameMillisecond: true }); // straddles the first 500
      fake.addOrders(700);
      const orders = value(await alpaca().openOrders());
      expect(orders).toHaveLength(1207);
      expect(new Set(orders.map((o) => o.id)).size).toBe(1207);
      const listing = fake.calls().filter((c) => c.startsWith('GET /v2/orders'));
      expect(listing.length).toBeGreaterThanOrEqual(3);
      expect(listing[0]).toBe('GET /v2/orders?status=open&limit=500&direction=asc');
      expect(listing[1]).toMatch(/&after=\d{4}-\d{2}-\d{2}T/);
    });

    it('is unavailable when more than a page of orders share one millisecond', async () => {
      fake.addOrders(8, { sameMillisecond: true });
      const reason = reasonOf(await alpaca({ pageSize: 5 }).openOrders());
      expect(reason).toMatch(/more than 5 open orders were submitted within one millisecond/);
    });

    it('is unavailable, not truncated, beyond the page limit', async () => {
      fake.addOrders(30);
      expect(reasonOf(await alpaca({ pageSize: 5, maxPages: 3 }).openOrders())).toMatch(/more than 3 pages of open orders/);
      expect(value(await alpaca({ pageSize: 5, maxPages: 10 }).openOrders())).toHaveLength(30);
    });

    it('does not list canceled or filled orders', async () => {
      fake.addOrders(2);
      fake.addOrders(2, { status: 'filled' });
      fake.addOrders(1, { status: 'partially_filled' });
      const statuses = value(await alpaca().openOrders()).map((o: BrokerOrder) => o.status);
      expect(statuses.sort()).toEqual(['new', 'new', 'partially_filled']);
    });
  });

  describe('positions', () => {
    it('converts string quantities; a short position is negative', async () => {
      fake.positions = [
        { symbol: 'AAPL', qty: 10 },
        { symbol: 'TSLA', qty: -5 },
        { symbol: 'SPY', qty: 0.5 },
      ];
      expect(value(await alpaca().positions())).toEqual([
        { symbol: 'AAPL', qty: 10 },
        { symbol: 'TSLA', qty: -5 },
        { symbol: 'SPY', qty: 0.5 },
      ]);
      fake.shortQtyPositive = true; // side "short" with qty "5": still -5
      expect(value(await alpaca().positions())).toContainEqual({ symbol: 'TSLA', qty: -5 });
    });

    it('flat is an empty list only when Alpaca says so', async () => {
      expect(value(await alpaca().positions())).toEqual([]);
    });

    it('closes all positions, reporting per symbol', async () => {
      fake.positions = [
        { symbol: 'AAPL', qty: 10 },
        { symbol: 'TSLA', qty: -5 },
        { symbol: 'NVDA', qty: 3 },
      ];
      fake.closeFailures.set('NVDA', { status: 403, message: 'insufficient qty available for order (requested: 3, available: 0)' });
      const results = value(await alpaca().closeAllPositions());
      expect(results).toHaveLength(3);
      expect(results.find((r) => r.symbol === 'AAPL')).toMatchObject({ ok: true, status: 200, orderId: expect.any(String) });
      expect(results.find((r) => r.symbol === 'TSLA')).toMatchObject({ ok: true, status: 200 });
      expect(results.find((r) => r.symbol === 'NVDA')).toEqual({ symbol: 'NVDA', ok: false, status: 403, reason: 'insufficient qty available for order (requested: 3, available: 0)' });
      expect(value(await alpaca().positions())).toEqual([{ symbol: 'NVDA', qty: 3 }]);
      expect(fake.calls()).toContain('DELETE /v2/positions');
    });

    it('passes cancel_orders=true when asked', async () => {
      fake.positions = [{ symbol: 'AAPL', qty: 10 }];
      fake.addOrders(4);
      expect(value(await alpaca().closeAllPositions({ cancelOrders: true }))).toHaveLength(1);
      expect(fake.calls()).toContain('DELETE /v2/positions?cancel_orders=true');
      expect(value(await alpaca().openOrders())).toEqual([]);
    });

    it('does not resend a close after a 5xx (it may have placed orders)', async () => {
      fake.positions = [{ symbol: 'AAPL', qty: 10 }];
      await fake.goDown('503');
      const reason = reasonOf(await alpaca().closeAllPositions());
      expect(reason).toMatch(/DELETE \/v2\/positions: HTTP 503; not retried/);
      expect(fake.requests).toHaveLength(1);
    });

    it('does resend a close after a 429 (Alpaca did nothing)', async () => {
      fake.positions = [{ symbol: 'AAPL', qty: 10 }];
      fake.rateLimitNext = 1;
      const deps = recordingSleep();
      expect(value(await alpaca({ deps }).closeAllPositions())).toHaveLength(1);
      expect(fake.calls().filter((c) => c.startsWith('DELETE /v2/positions'))).toHaveLength(2);
    });
  });

  describe('clock and calendar', () => {
    it('parses the clock', async () => {
      expect(value(await alpaca().clock())).toEqual({ isOpen: false, nextOpen: '2024-03-25T09:30:00-04:00', nextClose: '2024-03-25T16:00:00-04:00' });
      fake.clock = { ...fake.clock, is_open: true };
      expect(value(await alpaca().clock()).isOpen).toBe(true);
    });

    it('parses the calendar between start and end, early closes included', async () => {
      const days = value(await alpaca().calendar('2024-11-28', '2024-12-31'));
      expect(days).toEqual([
        { date: '2024-11-29', open: '09:30', close: '13:00' },
        { date: '2024-12-02', open: '09:30', close: '16:00' },
      ]);
      expect(fake.calls()).toEqual(['GET /v2/calendar?start=2024-11-28&end=2024-12-31']);
    });

    it('refuses malformed dates without asking', async () => {
      expect(reasonOf(await alpaca().calendar('2024/11/28', '2024-12-31'))).toMatch(/YYYY-MM-DD/);
      expect(fake.requests).toHaveLength(0);
    });
  });

  describe('factory', () => {
    it('builds an Alpaca broker from the config, with the variables the config names', async () => {
      const broker = createBroker(
        { type: 'alpaca', mode: 'paper', baseUrl: fake.url, keyIdEnv: 'MY_KEY', secretKeyEnv: 'MY_SECRET' },
        { MY_KEY: fake.keyId, MY_SECRET: fake.secretKey },
        { retry: FAST },
      );
      expect(broker.name).toBe('alpaca (paper)');
      expect(value(await broker.account()).status).toBe('ACTIVE');
      expect(typeof broker.clock).toBe('function');
    });

    it('a live broker without credentials is unavailable before any request', async () => {
      const broker = createBroker({ type: 'alpaca', mode: 'live', keyIdEnv: 'APCA_API_KEY_ID', secretKeyEnv: 'APCA_API_SECRET_KEY' }, {});
      expect(broker.name).toBe('alpaca (live)');
      expect(reasonOf(await broker.openOrders())).toContain('APCA_API_KEY_ID and APCA_API_SECRET_KEY');
    });
  });
});

describe('paper adapter against the sample stack', () => {
  let child: ChildProcess | undefined;
  let url: string;
  let output = '';
  let broker: Broker;

  beforeAll(async () => {
    const port = await closedPort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(process.execPath, [path.join(repoRoot, 'demo/stack/base/execution_gateway/main.mjs')], {
      env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + scaled(10_000);
    for (;;) {
      if (child.exitCode !== null) throw new Error(`execution_gateway exited early:\n${output}`);
      try {
        if ((await fetch(`${url}/health`)).ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`execution_gateway did not come up:\n${output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    broker = createBroker({ type: 'paper', url }, {}, { retry: FAST });
  });

  afterAll(async () => {
    const running = child;
    if (running === undefined || running.exitCode !== null || running.signalCode !== null || running.pid === undefined) return;
    const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
    process.kill(running.pid, 'SIGTERM');
    const timer = setTimeout(() => running.pid !== undefined && running.exitCode === null && process.kill(running.pid, 'SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  });

  it('lists placed orders, cancels them all, and none are left', async () => {
    expect(broker).toBeInstanceOf(PaperBroker);
    const placed: string[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ symbol: i % 2 ? 'AAPL' : 'MSFT', qty: 10 + i, side: i % 3 ? 'buy' : 'sell', type: 'limit', limit_price: 100 }),
      });
      expect(res.status).toBe(201);
      placed.push(((await res.json()) as { id: string }).id);
    }

    const open = value(await broker.openOrders());
    expect(open.map((o) => o.id).sort()).toEqual([...placed].sort());
    expect(open.find((o) => o.id === placed[1])).toMatchObject({ symbol: 'AAPL', qty: 11, side: 'buy', status: 'open', submittedAt: expect.any(String) });

    const results = value(await broker.cancelAllOrders());
    expect(results).toHaveLength(12);
    expect(results.every((r) => r.ok && r.status === 200)).toBe(true);
    expect(value(await broker.openOrders())).toEqual([]);

    // Per-order cancel: a canceled order is not cancelable; an unknown one is not found.
    const again = await broker.cancelOrder(placed[0]!);
    expect(again).toMatchObject({ id: placed[0], ok: false, status: 422 });
    expect(again.reason).toContain('canceled');
    expect(await broker.cancelOrder('no-such-order')).toMatchObject({ ok: false, status: 404, reason: 'order no-such-order not found' });
  });

  it('cancels one order by id', async () => {
    const res = await fetch(`${url}/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol: 'SPY', qty: 1, side: 'buy' }) });
    const { id } = (await res.json()) as { id: string };
    expect(await broker.cancelOrder(id)).toEqual({ id, ok: true, status: 204 });
    expect(value(await broker.openOrders())).toEqual([]);
  });

  it('reports positions (never any), close-all as nothing to do, and the account from health', async () => {
    expect(value(await broker.positions())).toEqual([]);
    expect(value(await broker.closeAllPositions())).toEqual([]);
    expect(value(await broker.account())).toEqual({ id: 'paper', status: 'ACTIVE', tradingBlocked: false });
    expect(broker.clock).toBeUndefined();
  });

  it('is unavailable, never empty, when the paper broker is not there', async () => {
    const gone = new PaperBroker({ url: `http://127.0.0.1:${await closedPort()}`, retry: { ...FAST, attempts: 2 } });
    expect(reasonOf(await gone.openOrders())).toMatch(/paper broker: GET \/orders: network error \(ECONNREFUSED\)/);
    expect(reasonOf(await gone.positions())).toContain('ECONNREFUSED');
    expect(reasonOf(await gone.closeAllPositions())).toContain('ECONNREFUSED');
    expect(await gone.cancelOrder('x')).toMatchObject({ ok: false, status: 0 });
  });
});
