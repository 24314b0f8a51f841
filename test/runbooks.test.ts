// The seed's emergency runbooks (Circuit Breaker Trip, Kill Switch Activation) through the CLI,
// against a real Redis (our own redis-server child), the scriptable fake Alpaca API and a tiny
// HTTP server standing in for the platform's positions and metrics. Nothing is mocked inside
// shipgate: every assertion reads Redis, the fake broker or shipgate's own JSON output.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { findConfigFile } from '../src/config/load.js';
import { freePort } from '../src/demo/free-port.js';
import type { FakeAlpaca } from './fakes/alpaca.js';
import { shipgate, type CliResult } from './harness/cli.js';
import type { RedisServer } from './harness/redis.js';
import { startPlatformData, useRedis, useTradingStack, type PlatformData, type RedisClient, type TradingStack } from './harness/trading-stack.js';
import { scaled } from './harness/pace.js';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const shared = useRedis();
let redis: RedisServer;
let db: RedisClient;
beforeAll(() => ({ server: redis, db } = shared));

const auditActions = (r: CliResult) => (r.json().events as { action: string; outcome: string; env: string | null; reason: string | null; detail: Record<string, unknown> }[]);

// Each test is a runbook of many CLI steps (~1 s each, several on a loaded machine).
describe('runbooks with a shipgate.yml: real Redis, fake Alpaca, platform positions', { timeout: scaled(300_000) }, () => {
  const stack = useTradingStack(shared, {
    name: 'shipgate-runbooks',
    brokerKeyEnv: 'PROD_ALPACA_KEY',
    brokerSecretEnv: 'PROD_ALPACA_SECRET',
    platform: startPlatformData,
    config: ({ redisUrl, brokerUrl, platformUrl }) => `version: 1
project: runbooks-test
approvals: { identity: trust-local }
services:
  platform: { command: ["true"] }
environments:
  production:
    trading:
      redisUrl: ${redisUrl}
      keyPrefix: "prod:"
      broker: { type: alpaca, mode: paper, baseUrl: ${brokerUrl}, keyIdEnv: PROD_ALPACA_KEY, secretKeyEnv: PROD_ALPACA_SECRET }
      cancelTimeout: 10s
      reconciliation: { positionsUrl: ${platformUrl}/positions, tolerance: 0 }
      breakerReset:
        maxDrawdown: 0.05
        drawdownUrl: ${platformUrl}/metrics
        marketDataUrl: ${platformUrl}/metrics
        maxStaleness: 30s
`,
  });
  let fake: FakeAlpaca;
  let platform: PlatformData;
  /** Runs shipgate in the workspace as `tester` (SHIPGATE_ACTOR), with the broker keys set. */
  let run: TradingStack<PlatformData>['run'];

  const held = [
    { symbol: 'AAPL', qty: 10 },
    { symbol: 'MSFT', qty: -5 },
  ];

  beforeEach(() => {
    ({ broker: fake, platform, run } = stack);
    fake.positions = held.map((p) => ({ ...p }));
    // Alpaca sends quantities as strings; the platform may too.
    platform.positions = [
      { symbol: 'AAPL', qty: '10' },
      { symbol: 'MSFT', qty: -5 },
    ];
  });

  const get = (key: string) => db.get(key);
  const approvals = async (all = false) => {
    const r = await run(['approvals', '--json', ...(all ? ['--all'] : [])]);
    expect(r.code, r.stderr).toBe(0);
    return r.json().approvals as { id: number; action: string; subject: string; requester: string; required: number; state: string; approvers: { by: string }[] }[];
  };
  const audit = async () => {
    const r = await run(['audit', '--json']);
    expect(r.code, r.stderr).toBe(0);
    return auditActions(r);
  };

  describe('breaker', () => {
    it('trip sets prod:cb:state TRIPPED with the reason and time; status shows it', async () => {
      const trip = await run(['breaker', 'trip', '--env', 'production', '--reason', 'drawdown 6% > 5% limit']);
      expect(trip.code, trip.stderr).toBe(0);
      expect(trip.stdout).toContain('TRIPPED');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      expect(await get('prod:cb:trip_reason')).toBe('drawdown 6% > 5% limit');
      expect(await get('prod:cb:tripped_at')).toMatch(ISO_8601);
      expect(await get('prod:shipgate:last_writer')).toBe('production');
      // The prefix is honoured: nothing written to the bare seed keys.
      expect(await get('cb:state')).toBeNull();

      const status = await run(['breaker', 'status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.json()).toMatchObject({ env: 'production', breaker: 'TRIPPED', tripReason: 'drawdown 6% > 5% limit', killswitch: false });
      expect(status.json().source).toContain('prefix "prod:"');

      expect((await audit()).find((e) => e.action === 'breaker.trip')).toMatchObject({ outcome: 'TRIPPED', env: 'production', reason: 'drawdown 6% > 5% limit' });

      const noReason = await run(['breaker', 'trip', '--reason', '  ']);
      expect(noReason.code).toBe(2);
    });

    it('reset needs preconditions and a second person: own approval refused, bob\'s approval resets to OPEN', async () => {
      await db.set('prod:cb:last_reset', 'never');
      expect((await run(['breaker', 'trip', '--reason', 'drawdown 6% > 5% limit'])).code).toBe(0);

      const first = await run(['breaker', 'reset', '--json']);
      expect(first.code, first.stdout + first.stderr).toBe(3);
      expect(first.json().error.message).toMatch(/needs 1 approval from people other than tester/);
      // The requester and the approver both see what was checked.
      expect(first.json().error.message).toMatch(/; preconditions: \d+ met/);
      expect(first.json().error.preconditions.map((p: { name: string }) => p.name)).toContain('reconciliation clean');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      expect(await get('prod:cb:last_reset')).toBe('never');

      const open = await approvals();
      expect(open).toHaveLength(1);
      const request = open[0]!;
      expect(request).toMatchObject({ action: 'breaker-reset', subject: 'cb:state', requester: 'tester', required: 1, state: 'pending' });
      expect((request as typeof request & { reason: string }).reason).toMatch(/; preconditions: \d+ met/);
      expect(first.json().error.approval.id).toBe(request.id);

      // Running it again while the request is open does not open a second one.
      expect((await run(['breaker', 'reset'])).code).toBe(3);
      expect(await approvals()).toHaveLength(1);

      const own = await run(['approve', String(request.id), '--by', 'tester']);
      expect(own.code).toBe(3);
      expect(own.stderr).toMatch(/tester requested #\d+ and cannot approve it/);
      expect(await get('prod:cb:state')).toBe('TRIPPED');

      const bob = await run(['approve', String(request.id), '--by', 'bob']);
      expect(bob.code, bob.stderr).toBe(0);

      const before = Date.now();
      const reset = await run(['breaker', 'reset', '--json']);
      expect(reset.code, reset.stdout + reset.stderr).toBe(0);
      const result = reset.json();
      expect(result).toMatchObject({ forced: false, approvalId: request.id, alreadyOpen: false, status: { breaker: 'OPEN' } });
      // Every precondition of the seed was checked and met.
      expect(Object.fromEntries((result.preconditions as { name: string; state: string }[]).map((p) => [p.name, p.state]))).toEqual({
        'drawdown normalized': 'met',
        'broker API healthy': 'met',
        'market data fresh': 'met',
        'reconciliation clean': 'met',
      });
      expect(await get('prod:cb:state')).toBe('OPEN');
      const lastReset = await get('prod:cb:last_reset');
      expect(lastReset).toMatch(ISO_8601);
      expect(Math.abs(Date.parse(lastReset!) - before)).toBeLessThan(60_000);

      // The approval is used up: the next reset (after another trip) needs a new one.
      expect((await approvals(true)).find((a) => a.id === request.id)?.state).toBe('used');
      const events = await audit();
      expect(events.find((e) => e.action === 'breaker.reset' && e.outcome === 'OPEN')?.detail).toMatchObject({ approvalId: request.id, approvers: ['bob'] });

      // Not TRIPPED: nothing to reset, nothing asked.
      const again = await run(['breaker', 'reset', '--json']);
      expect(again.code).toBe(0);
      expect(again.json().alreadyOpen).toBe(true);
      expect(await approvals()).toHaveLength(0);
    });

    it('two resets racing on one approval: exactly one resets and uses it, the other does nothing', async () => {
      expect((await run(['breaker', 'trip', '--reason', 'drawdown 6% > 5% limit'])).code).toBe(0);
      expect((await run(['breaker', 'reset'])).code).toBe(3);
      const request = (await approvals()).find((a) => a.action === 'breaker-reset')!;
      expect((await run(['approve', String(request.id), '--by', 'bob'])).code).toBe(0);

      const both = await Promise.all([run(['breaker', 'reset', '--json']), run(['breaker', 'reset', '--json'])]);
      const acted = both.filter((r) => r.code === 0 && r.json().alreadyOpen === false);
      expect(acted, both.map((r) => r.stdout + r.stderr).join('\n')).toHaveLength(1);
      // The other found the approval taken (refused, exit 3); or it read TRIPPED before the first
      // reset wrote OPEN but looked for an approval after it was used, and so asked for a new one
      // (refused, exit 3, nothing reset); or, starting later, it found the breaker already OPEN.
      const other = both.find((r) => r !== acted[0])!;
      if (other.code === 3) {
        expect(other.json().error.message).toMatch(new RegExp(`approval #${request.id} .* was just used by another run|breaker-reset .* needs 1 approval .*; request #(?!${request.id}\\b)\\d+ has 0`));
      } else expect(other.json()).toMatchObject({ alreadyOpen: true });
      expect(await get('prod:cb:state')).toBe('OPEN');
      const events = (await audit()).filter((e) => e.detail.approvalId === request.id);
      expect(events.filter((e) => e.action === 'approval.use')).toHaveLength(1);
      expect(events.filter((e) => e.action === 'breaker.reset' && e.outcome === 'OPEN')).toHaveLength(1);
      expect((await approvals(true)).find((a) => a.id === request.id)?.state).toBe('used');
    });

    it('reset is refused listing the precondition when positions drift; --force needs two other approvers and is recorded as forced', async () => {
      expect((await run(['breaker', 'trip', '--reason', 'fills not booked'])).code).toBe(0);
      platform.positions = [
        { symbol: 'AAPL', qty: 7 },
        { symbol: 'MSFT', qty: -5 },
      ];

      const refusedReset = await run(['breaker', 'reset']);
      expect(refusedReset.code, refusedReset.stdout + refusedReset.stderr).toBe(3);
      expect(refusedReset.stderr).toContain('reconciliation clean (unmet');
      expect(refusedReset.stderr).toContain('AAPL platform 7 broker 10');
      expect(refusedReset.stderr).not.toContain('drawdown normalized');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      // Refused on the preconditions: no approval request for a reset that cannot happen.
      expect(await approvals()).toHaveLength(0);
      const json = await run(['breaker', 'reset', '--json']);
      expect(json.code).toBe(3);
      expect((json.json().error.preconditions as { name: string; state: string }[]).find((p) => p.name === 'reconciliation clean')?.state).toBe('unmet');

      expect((await run(['breaker', 'reset', '--force'])).code).toBe(2);

      const forced = await run(['breaker', 'reset', '--force', '--reason', 'platform positions service is stale; broker is the truth']);
      expect(forced.code, forced.stdout + forced.stderr).toBe(3);
      const [request] = await approvals();
      expect(request).toMatchObject({ action: 'breaker-reset-force', required: 2, requester: 'tester', state: 'pending' });

      expect((await run(['approve', String(request!.id), '--by', 'tester'])).code).toBe(3);
      expect((await run(['approve', String(request!.id), '--by', 'bob'])).code).toBe(0);
      // One emergency approval is not enough.
      expect((await run(['breaker', 'reset', '--force', '--reason', 'platform positions service is stale; broker is the truth'])).code).toBe(3);
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      const twice = await run(['approve', String(request!.id), '--by', 'bob']);
      expect(twice.code).toBe(3);
      expect(twice.stderr).toContain('bob already approved');
      expect((await run(['approve', String(request!.id), '--by', 'carol'])).code).toBe(0);

      // A plain reset is still refused: the emergency approval covers only the forced one.
      expect((await run(['breaker', 'reset'])).code).toBe(3);
      expect(await get('prod:cb:state')).toBe('TRIPPED');

      const done = await run(['breaker', 'reset', '--force', '--reason', 'platform positions service is stale; broker is the truth', '--json']);
      expect(done.code, done.stdout + done.stderr).toBe(0);
      expect(done.json()).toMatchObject({ forced: true, approvalId: request!.id, status: { breaker: 'OPEN' } });
      expect(await get('prod:cb:state')).toBe('OPEN');
      expect(await get('prod:cb:last_reset')).toMatch(ISO_8601);

      const events = await audit();
      expect(events.some((e) => e.action === 'breaker.reset' && e.outcome === 'refused')).toBe(true);
      const forcedEvent = events.find((e) => e.action === 'breaker.reset' && e.outcome === 'forced');
      expect(forcedEvent).toBeDefined();
      expect(forcedEvent!.reason).toBe('platform positions service is stale; broker is the truth');
      expect((forcedEvent!.detail.approvers as string[]).sort()).toEqual(['bob', 'carol']);
    });

    it('reset is refused while the drawdown is over the limit or the market data is stale', async () => {
      expect((await run(['breaker', 'trip', '--reason', 'drawdown'])).code).toBe(0);
      platform.drawdown = 0.08;
      platform.marketDataAgeSeconds = 120;
      const r = await run(['breaker', 'reset']);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('drawdown normalized (unmet: drawdown_ratio 0.08 (limit 0.05))');
      expect(r.stderr).toMatch(/market data fresh \(unmet: last update/);
      expect(await get('prod:cb:state')).toBe('TRIPPED');
    });
  });

  describe('kill switch', () => {
    it('on: 50 open orders, 3 failing their first cancel, pending cancels and 429s; none left, flag set, breaker TRIPPED, incident and audit', async () => {
      const ids = fake.addOrders(50);
      const failing = [ids[3]!, ids[17]!, ids[41]!];
      for (const id of failing) fake.cancelFailures.set(id, 1);
      fake.cancelDelayMs = 600; // accepted cancels stay pending_cancel (still open) for a while
      fake.rateLimitNext = 2; // the first two requests are rate limited
      fake.retryAfter = '1';

      const on = await run(['killswitch', 'on', '--env', 'production', '--reason', 'runaway strategy on AAPL', '--json']);
      expect(on.code, on.stdout + on.stderr).toBe(0);
      const result = on.json();
      expect(result).toMatchObject({ ok: true, openAtStart: 50, openLeft: 0, stuck: [], problem: null, broker: 'alpaca (paper)' });
      expect(result.cancelRequested).toBe(50);
      expect(fake.openOrders()).toHaveLength(0);
      // The three failures got their own cancel.
      for (const id of failing) expect(fake.calls()).toContain(`DELETE /v2/orders/${id}`);
      expect(fake.requests.filter((r) => r.path === '/v2/orders' || r.path.startsWith('/v2/orders?')).length).toBeGreaterThan(0);

      expect(await get('prod:killswitch:active')).toBe('true');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      expect(await get('prod:cb:trip_reason')).toBe('kill switch: runaway strategy on AAPL');

      const incidents = await run(['incident', 'list', '--json']);
      expect(incidents.code, incidents.stderr).toBe(0);
      const incident = (incidents.json().incidents as { id: number; env: string; data: { title: string } }[]).find((i) => i.env === 'production');
      expect(incident?.data.title).toBe('kill switch engaged in production: runaway strategy on AAPL');
      expect(result.incidentId).toBe(incident!.id);

      const events = await audit();
      expect(events.find((e) => e.action === 'killswitch.engage')).toMatchObject({ outcome: 'active', env: 'production', reason: 'runaway strategy on AAPL' });
      expect(events.find((e) => e.action === 'killswitch.result')).toMatchObject({ outcome: 'no-open-orders', env: 'production' });

      // Idempotent: running it again is fine and finds nothing to cancel.
      const again = await run(['killswitch', 'on', '--reason', 'runaway strategy on AAPL', '--json']);
      expect(again.code, again.stdout + again.stderr).toBe(0);
      expect(again.json()).toMatchObject({ ok: true, openAtStart: 0, openLeft: 0 });
      expect(await get('prod:killswitch:active')).toBe('true');
      expect(await get('prod:cb:state')).toBe('TRIPPED');

      const status = await run(['killswitch', 'status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.json()).toMatchObject({ killswitch: true, breaker: 'TRIPPED', openOrders: 0, brokerProblem: null });
    });

    it('on: a permanently non-cancelable order exits 1 and is named in `stuck` with its reason', async () => {
      const ids = fake.addOrders(5);
      const stuck = ids[2]!;
      fake.notCancelable.add(stuck);

      const on = await run(['killswitch', 'on', '--reason', 'drill', '--timeout', '1500ms', '--json']);
      expect(on.code, on.stdout + on.stderr).toBe(1);
      const result = on.json();
      expect(result.ok).toBe(false);
      expect(result.openAtStart).toBe(5);
      expect(result.openLeft).toBe(1);
      expect(result.stuck).toEqual([{ id: stuck, symbol: expect.any(String), status: 'new', reason: 'order is not cancelable' }]);
      expect(fake.openOrders().map((o) => o.id)).toEqual([stuck]);
      // The switch is on regardless: trading stops even when an order will not go.
      expect(await get('prod:killswitch:active')).toBe('true');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      expect((await audit()).find((e) => e.action === 'killswitch.result')?.outcome).toBe('orders-left');

      // The human rendering names it too.
      const text = await run(['killswitch', 'on', '--reason', 'drill', '--timeout', '500ms']);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain(stuck);
      expect(text.stdout).toContain('order is not cancelable');
    });

    it('on: with the broker down it exits 1 saying the open orders are unknown', async () => {
      fake.addOrders(3);
      await fake.goDown('refused');
      const on = await run(['killswitch', 'on', '--reason', 'broker outage', '--json']);
      expect(on.code, on.stdout + on.stderr).toBe(1);
      const result = on.json();
      expect(result.ok).toBe(false);
      expect(result.openAtStart).toBeNull();
      expect(result.openLeft).toBeNull();
      expect(result.problem).toMatch(/broker unavailable: .*ECONNREFUSED.*open orders are unknown and were not confirmed cancelled/);
      expect(result.problem).not.toContain(fake.secretKey);
      expect(await get('prod:killswitch:active')).toBe('true');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
    });

    it('off needs a clean reconciliation and an approval; the breaker stays TRIPPED until its own reset', async () => {
      fake.addOrders(4);
      expect((await run(['killswitch', 'on', '--reason', 'drill'])).code).toBe(0);

      // The breaker cannot be reset under an active kill switch.
      const early = await run(['breaker', 'reset']);
      expect(early.code).toBe(3);
      expect(early.stderr).toContain('kill switch of production is active');

      // Drift: the kill switch stays on, and no approval is asked for.
      platform.positions = [{ symbol: 'AAPL', qty: 10 }];
      const drift = await run(['killswitch', 'off', '--reason', 'resolved']);
      expect(drift.code, drift.stdout + drift.stderr).toBe(3);
      expect(drift.stderr).toMatch(/reconciliation is drift .*MSFT platform 0 broker -5/);
      expect(await get('prod:killswitch:active')).toBe('true');
      expect(await approvals()).toHaveLength(0);

      platform.positions = held.map((p) => ({ ...p }));
      const ask = await run(['killswitch', 'off', '--reason', 'resolved']);
      expect(ask.code, ask.stdout + ask.stderr).toBe(3);
      expect(await get('prod:killswitch:active')).toBe('true');
      const [request] = await approvals();
      expect(request).toMatchObject({ action: 'killswitch-off', subject: 'killswitch:active', required: 1, requester: 'tester' });
      expect((await run(['approve', String(request!.id), '--by', 'tester'])).code).toBe(3);
      expect((await run(['approve', String(request!.id), '--by', 'bob'])).code).toBe(0);

      const off = await run(['killswitch', 'off', '--reason', 'resolved']);
      expect(off.code, off.stdout + off.stderr).toBe(0);
      expect(off.stdout).toContain('breaker stays TRIPPED');
      expect(await get('prod:killswitch:active')).toBe('false');
      expect(await get('prod:cb:state')).toBe('TRIPPED');
      const status = await run(['breaker', 'status', '--json']);
      expect(status.json()).toMatchObject({ killswitch: false, breaker: 'TRIPPED', tripReason: 'kill switch: drill' });
      expect((await audit()).find((e) => e.action === 'killswitch.release' && e.outcome === 'inactive')).toBeDefined();

      // Off again: nothing to do.
      const offAgain = await run(['killswitch', 'off', '--json']);
      expect(offAgain.code).toBe(0);
      expect(offAgain.json().alreadyOff).toBe(true);

      // Now the breaker's own reset, with its own approval.
      expect((await run(['breaker', 'reset'])).code).toBe(3);
      const resetRequest = (await approvals()).find((a) => a.action === 'breaker-reset');
      expect(resetRequest).toBeDefined();
      expect((await run(['approve', String(resetRequest!.id), '--by', 'bob'])).code).toBe(0);
      const reset = await run(['breaker', 'reset']);
      expect(reset.code, reset.stdout + reset.stderr).toBe(0);
      expect(await get('prod:cb:state')).toBe('OPEN');
      expect(await get('prod:killswitch:active')).toBe('false');
    });
  });
});

describe('runbook mode: no shipgate.yml, Redis from --redis-url / SHIPGATE_REDIS_URL', { timeout: scaled(180_000) }, () => {
  let dir: string;

  beforeEach(async () => {
    await db.flushDb();
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-runbook-mode-'));
  });

  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => shipgate(args, { cwd: dir, env: { SHIPGATE_REDIS_URL: undefined, ...env } });

  it('trips the breaker and shows it, with no configuration anywhere above the directory', async () => {
    expect(findConfigFile(dir)).toBeUndefined();

    // Nothing configured and no key: the seed's default (trading) applies, and is said, never silent.
    const unset = await run(['breaker', 'status', '--env', 'production', '--redis-url', redis.url]);
    expect(unset.code, unset.stdout + unset.stderr).toBe(0);
    expect(unset.stdout).toContain('breaker unset (treated as trading: no breaker configured)');
    expect(unset.stdout).toContain('kill switch unset (treated as trading: no kill switch configured)');
    expect(unset.stdout).toContain("cb:state is unset, treated as trading (no breaker configured: the seed's default");
    const unsetJson = (await run(['breaker', 'status', '--json', '--env', 'production', '--redis-url', redis.url])).json();
    expect(unsetJson).toMatchObject({ breaker: 'unset', killswitch: false, halted: false, state: { breaker: { value: null, meaning: 'trading', unconfigured: 'no breaker configured' } } });

    const trip = await run(['breaker', 'trip', '--env', 'production', '--redis-url', `redis://127.0.0.1:${redis.port}`, '--reason', 'X']);
    expect(trip.code, trip.stdout + trip.stderr).toBe(0);
    // No keyPrefix without a config: the seed's own keys.
    expect(await db.get('cb:state')).toBe('TRIPPED');
    expect(await db.get('cb:trip_reason')).toBe('X');

    const status = await run(['breaker', 'status', '--json', '--env', 'production', '--redis-url', redis.url]);
    expect(status.code, status.stderr).toBe(0);
    expect(status.json()).toMatchObject({ env: 'production', breaker: 'TRIPPED', tripReason: 'X', killswitch: false });
    expect(status.json().source).toContain(`redis redis://127.0.0.1:${redis.port}`);

    // SHIPGATE_REDIS_URL works the same.
    const viaEnv = await run(['breaker', 'status', '--json'], { SHIPGATE_REDIS_URL: redis.url });
    expect(viaEnv.code, viaEnv.stderr).toBe(0);
    expect(viaEnv.json()).toMatchObject({ breaker: 'TRIPPED', tripReason: 'X' });

    // Runbook mode keeps its own records in ./.shipgate and writes no shipgate.yml.
    expect(existsSync(path.join(dir, '.shipgate'))).toBe(true);
    expect(findConfigFile(dir)).toBeUndefined();
  });

  it('killswitch on without a broker exits 1 explaining that orders were NOT cancelled', async () => {
    const on = await run(['killswitch', 'on', '--env', 'production', '--redis-url', redis.url, '--reason', 'runaway strategy']);
    expect(on.code, on.stdout + on.stderr).toBe(1);
    expect(on.stdout).toMatch(/no broker configured for production .*open orders were NOT cancelled/);
    expect(await db.get('killswitch:active')).toBe('true');
    expect(await db.get('cb:state')).toBe('TRIPPED');
    expect(await db.get('cb:trip_reason')).toBe('kill switch: runaway strategy');

    const json = await run(['killswitch', 'on', '--redis-url', redis.url, '--reason', 'runaway strategy', '--json']);
    expect(json.code).toBe(1);
    expect(json.json()).toMatchObject({ ok: false, broker: null, openLeft: null });
    expect(json.json().problem).toContain('NOT cancelled');
  });

  it('an unreachable Redis is an error (exit 1), never reported as OPEN', async () => {
    const closed = await freePort();
    const status = await run(['breaker', 'status', '--json', '--redis-url', `redis://127.0.0.1:${closed}`]);
    expect(status.code).toBe(1);
    expect(status.json().error.message).toMatch(/cannot read the safety state/);
    expect(status.stdout).not.toContain('"OPEN"');

    const bad = await run(['breaker', 'status', '--redis-url', 'http://127.0.0.1:6379']);
    expect(bad.code).toBe(2);
  });
});
