// The trading side of a platform, for the runbook tests: a real redis-server for the test file,
// and for each test a fresh fake Alpaca API, a stand-in for the platform's own HTTP side, a temp
// workspace with a shipgate.yml, and `run`, which drives the CLI there with the broker's keys set
// and SHIPGATE_REDIS_URL unset (the config names Redis). Each call registers its own hooks.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { FakeAlpaca } from '../fakes/alpaca.js';
import { shipgate, type CliResult } from './cli.js';
import { startRedis, type RedisServer } from './redis.js';

export type RedisClient = ReturnType<typeof createClient>;

export interface SharedRedis {
  /** Set once the file's beforeAll has run. */
  server: RedisServer;
  db: RedisClient;
}

/** A redis-server and a connected client for the file (or describe) this is called in; stopped by PID after it. */
export function useRedis(): SharedRedis {
  const shared = {} as SharedRedis;
  beforeAll(async () => {
    shared.server = await startRedis();
    shared.db = createClient({ url: shared.server.url });
    shared.db.on('error', () => undefined);
    await shared.db.connect();
  });
  afterAll(async () => {
    if (shared.db?.isOpen) await shared.db.quit().catch(() => undefined);
    await shared.server?.stop();
  });
  return shared;
}

/** The platform's read side: its positions (GET /positions, sent exactly as set) and the breaker-reset gauges (GET /metrics). */
export interface PlatformData {
  url: string;
  positions: unknown[];
  drawdown: number;
  marketDataAgeSeconds: number;
  close(): Promise<void>;
}

export async function startPlatformData(): Promise<PlatformData> {
  const platform: PlatformData = { url: '', positions: [], drawdown: 0.01, marketDataAgeSeconds: 1, close: async () => undefined };
  const server = http.createServer((req, res) => {
    if (req.url === '/positions') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(platform.positions));
    } else if (req.url === '/metrics') {
      const ts = Date.now() / 1000 - platform.marketDataAgeSeconds;
      res
        .writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        .end(`# TYPE drawdown_ratio gauge\ndrawdown_ratio ${platform.drawdown}\n# TYPE market_data_last_update_timestamp_seconds gauge\nmarket_data_last_update_timestamp_seconds ${ts}\n`);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  platform.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  platform.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  return platform;
}

export interface TradingStackOptions<P> {
  /** Prefix of the temp workspace's name. */
  name: string;
  /** The variables the config's broker reads its key id and secret from. */
  brokerKeyEnv: string;
  brokerSecretEnv: string;
  /** The platform's HTTP side (its own fake, or startPlatformData). */
  platform: (redisUrl: string) => Promise<P>;
  config: (urls: { redisUrl: string; brokerUrl: string; platformUrl: string }) => string;
  /** Added to every run's environment (before the run's own). */
  env?: NodeJS.ProcessEnv;
  /** Appended to every run's arguments, e.g. ['--env', 'live']. */
  args?: string[];
}

export interface TradingStack<P> {
  dir: string;
  broker: FakeAlpaca;
  platform: P;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** Every result of `run` in the current test (to scan them all for secrets). */
  outputs: CliResult[];
}

/** Before each test: Redis flushed, a fresh broker, platform and workspace; after it, all stopped and removed. */
export function useTradingStack<P extends { url: string; close(): Promise<void> }>(redis: SharedRedis, options: TradingStackOptions<P>): TradingStack<P> {
  const stack = {
    outputs: [] as CliResult[],
    async run(args: string[], env: NodeJS.ProcessEnv = {}) {
      const r = await shipgate([...args, ...(options.args ?? [])], {
        cwd: stack.dir,
        env: { [options.brokerKeyEnv]: stack.broker.keyId, [options.brokerSecretEnv]: stack.broker.secretKey, SHIPGATE_REDIS_URL: undefined, ...options.env, ...env },
      });
      stack.outputs.push(r);
      return r;
    },
  } as TradingStack<P>;
  beforeEach(async () => {
    await redis.db.flushDb();
    stack.broker = await FakeAlpaca.start();
    stack.platform = await options.platform(redis.server.url);
    stack.dir = mkdtempSync(path.join(os.tmpdir(), `${options.name}-`));
    writeFileSync(path.join(stack.dir, 'shipgate.yml'), options.config({ redisUrl: redis.server.url, brokerUrl: stack.broker.url, platformUrl: stack.platform.url }));
    stack.outputs.length = 0;
  });
  afterEach(async () => {
    await stack.broker?.close();
    await stack.platform?.close();
    if (stack.dir) rmSync(stack.dir, { recursive: true, force: true });
  });
  return stack;
}
