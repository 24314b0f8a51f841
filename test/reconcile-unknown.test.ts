// `killswitch off` and `breaker reset` refuse (exit 3) when a position's quantity is unreadable on
// either side: real Redis, the fake Alpaca API and a platform positions endpoint, through the CLI.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeAlpaca } from './fakes/alpaca.js';
import { startPlatformData, useRedis, useTradingStack, type PlatformData, type RedisClient, type TradingStack } from './harness/trading-stack.js';
import { scaled } from './harness/pace.js';

const shared = useRedis();
let db: RedisClient;
beforeAll(() => ({ db } = shared));

describe('reconciliation with an unreadable quantity', { timeout: scaled(120_000) }, () => {
  const stack = useTradingStack(shared, {
    name: 'shipgate-reconcile',
    brokerKeyEnv: 'LIVE_KEY',
    brokerSecretEnv: 'LIVE_SECRET',
    platform: startPlatformData,
    args: ['--env', 'live'],
    config: ({ redisUrl, brokerUrl, platformUrl }) => `version: 1
project: reconcile-unknown
services:
  book: { command: ["true"] }
environments:
  live:
    trading:
      redisUrl: ${redisUrl}
      keyPrefix: "live:"
      broker: { type: alpaca, mode: paper, baseUrl: ${brokerUrl}, keyIdEnv: LIVE_KEY, secretKeyEnv: LIVE_SECRET }
      reconciliation: { positionsUrl: ${platformUrl}/positions, tolerance: 0 }
`,
  });
  let fake: FakeAlpaca;
  /** What the platform says it holds, sent as JSON exactly as written (positions). */
  let platform: PlatformData;
  let run: TradingStack<PlatformData>['run'];

  beforeEach(() => {
    ({ broker: fake, platform, run } = stack);
    fake.positions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: -5 }];
    platform.positions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: -5 }];
  });

  const approvals = async () => ((await run(['approvals', '--json'])).json().approvals as { action: string; state: string }[]).filter((a) => a.state === 'pending');

  it('killswitch off refuses when the platform reports a null quantity (not read as flat), and asks no approval', async () => {
    expect((await run(['killswitch', 'on', '--reason', 'drill'])).code).toBe(0);
    // The broker holds MSFT -5; a null on the platform side must not become 0 (drift) or vanish (clean).
    platform.positions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: null }];
    const off = await run(['killswitch', 'off', '--reason', 'resolved', '--json']);
    expect(off.code, off.stdout + off.stderr).toBe(3);
    const error = off.json().error;
    expect(error.message).toMatch(/reconciliation is unknown \(1 symbol without a readable quantity: MSFT \(platform reports qty null\)\)/);
    expect(error.reconciliation).toMatchObject({ state: 'unknown', rows: [{ symbol: 'MSFT', platform: null, broker: -5, diff: null, state: 'unknown' }] });
    expect(await db.get('live:killswitch:active')).toBe('true');
    expect(await approvals()).toHaveLength(0);
    const audit = (await run(['audit', '--json'])).json().events as { action: string; outcome: string; reason: string }[];
    expect(audit.find((e) => e.action === 'killswitch.release')).toMatchObject({ outcome: 'refused', reason: expect.stringMatching(/^reconciliation unknown: .*MSFT/) });

    // A quantity that is a word, and one that is missing, are unknown the same way.
    for (const row of [{ symbol: 'MSFT', qty: 'n/a' }, { symbol: 'MSFT' }]) {
      platform.positions = [{ symbol: 'AAPL', qty: 10 }, row];
      const again = await run(['killswitch', 'off', '--reason', 'resolved']);
      expect(again.code, again.stdout + again.stderr).toBe(3);
      expect(again.stderr).toMatch(/reconciliation is unknown .*MSFT \(platform reports (qty "n\/a"|no qty)\)/);
    }
  });

  it('breaker reset refuses with "reconciliation clean (unknown" when the broker side is unreadable', async () => {
    expect((await run(['breaker', 'trip', '--reason', 'fills not booked'])).code).toBe(0);
    fake.positions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: Number.NaN }];
    const reset = await run(['breaker', 'reset', '--json']);
    expect(reset.code, reset.stdout + reset.stderr).toBe(3);
    const rec = (reset.json().error.preconditions as { name: string; state: string; detail: string }[]).find((p) => p.name === 'reconciliation clean');
    expect(rec).toMatchObject({ state: 'unknown', detail: expect.stringMatching(/^broker positions: /) });
    expect(await db.get('live:cb:state')).toBe('TRIPPED');

    // The platform side unreadable, the broker fine: the same refusal, naming the symbol.
    fake.positions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: -5 }];
    platform.positions = [{ symbol: 'AAPL', qty: '' }, { symbol: 'MSFT', qty: -5 }];
    const human = await run(['breaker', 'reset']);
    expect(human.code, human.stdout + human.stderr).toBe(3);
    expect(human.stderr).toContain('reconciliation clean (unknown: 1 symbol without a readable quantity: AAPL (platform reports qty ""))');
    expect(await approvals()).toHaveLength(0);
  });
});
