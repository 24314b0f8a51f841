// `killswitch off` and `breaker reset` refuse (exit 3) when a position's quantity is unreadable on
// either side: real Redis, the fake Alpaca API and a platform positions endpoint, through the CLI.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeAlpaca } from './fakes/alpaca.js';
import { shipgate, type CliResult } from './harness/cli.js';
import { startRedis, type RedisServer } from './harness/redis.js';

let redis: RedisServer;
let db: ReturnType<typeof createClient>;
beforeAll(async () => {
  redis = await startRedis();
  db = createClient({ url: redis.url });
  db.on('error', () => undefined);
  await db.connect();
});
afterAll(async () => {
  if (db?.isOpen) await db.quit().catch(() => undefined);
  await redis?.stop();
});

describe('reconciliation with an unreadable quantity', { timeout: 120_000 }, () => {
  let dir: string;
  let fake: FakeAlpaca;
  let server: http.Server;
  /** What the platform says it holds, sent as JSON exactly as written here. */
  let platformPositions: unknown[];
  let run: (args: string[]) => Promise<CliResult>;

  beforeEach(async () => {
    await db.flushDb();
    fake = await FakeAlpaca.start();
    fake.positions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: -5 }];
    platformPositions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: -5 }];
    server = http.createServer((req, res) => {
      if (req.url === '/positions') res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(platformPositions));
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const platformUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-reconcile-'));
    writeFileSync(path.join(dir, 'shipgate.yml'), `version: 1
project: reconcile-unknown
services:
  book: { command: ["true"] }
environments:
  live:
    trading:
      redisUrl: ${redis.url}
      keyPrefix: "live:"
      broker: { type: alpaca, mode: paper, baseUrl: ${fake.url}, keyIdEnv: LIVE_KEY, secretKeyEnv: LIVE_SECRET }
      reconciliation: { positionsUrl: ${platformUrl}/positions, tolerance: 0 }
`);
    run = (args) => shipgate([...args, '--env', 'live'], { cwd: dir, env: { LIVE_KEY: fake.keyId, LIVE_SECRET: fake.secretKey, SHIPGATE_REDIS_URL: undefined } });
  });

  afterEach(async () => {
    await fake?.close();
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const approvals = async () => ((await run(['approvals', '--json'])).json().approvals as { action: string; state: string }[]).filter((a) => a.state === 'pending');

  it('killswitch off refuses when the platform reports a null quantity (not read as flat), and asks no approval', async () => {
    expect((await run(['killswitch', 'on', '--reason', 'drill'])).code).toBe(0);
    // The broker holds MSFT -5; a null on the platform side must not become 0 (drift) or vanish (clean).
    platformPositions = [{ symbol: 'AAPL', qty: 10 }, { symbol: 'MSFT', qty: null }];
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
      platformPositions = [{ symbol: 'AAPL', qty: 10 }, row];
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
    platformPositions = [{ symbol: 'AAPL', qty: '' }, { symbol: 'MSFT', qty: -5 }];
    const human = await run(['breaker', 'reset']);
    expect(human.code, human.stdout + human.stderr).toBe(3);
    expect(human.stderr).toContain('reconciliation clean (unknown: 1 symbol without a readable quantity: AAPL (platform reports qty ""))');
    expect(await approvals()).toHaveLength(0);
  });
});
