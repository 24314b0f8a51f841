// A trading platform shaped unlike the demo's, for the control room's safety controls: production's
// breaker is a JSON object at risk:breaker with RUNNING/HALTED (absent = halted), its kill switch a
// plain string at risk:kill with disarmed/FIRED; a fake Alpaca broker and a fake platform serve the
// reset preconditions (drawdown, market data, positions). Staging keeps the seed's keys, and its
// drawdown gauge cannot be read (the URL answers 404): that precondition is unknown.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createContext, type AppContext } from '../../src/app/context.js';
import { createToken } from '../../src/app/tokens.js';
import { configSchema } from '../../src/config/schema.js';
import type { Role } from '../../src/core/roles.js';
import { startApiServer, type RunningApi } from '../../src/server/start.js';
import { FakeAlpaca } from '../fakes/alpaca.js';
import { startPlatformData, type PlatformData } from './trading-stack.js';

export interface SafetyPlatform {
  dir: string;
  ctx: AppContext;
  api: RunningApi;
  broker: FakeAlpaca;
  platform: PlatformData;
  /** Each user's token, by name. */
  tokens: Record<string, string>;
  /** The variables the CLI needs to reach the broker. */
  env: NodeJS.ProcessEnv;
  close(): Promise<void>;
}

export function platformConfig(platformUrl: string, brokerUrl: string): Record<string, unknown> {
  return {
    version: 1, project: 'safety-platform', services: { web: { command: ['true'] } },
    environments: {
      production: {
        trading: {
          keyPrefix: 'live:',
          broker: { type: 'alpaca', mode: 'paper', baseUrl: brokerUrl, keyIdEnv: 'DASH_ALPACA_KEY', secretKeyEnv: 'DASH_ALPACA_SECRET' },
          cancelTimeout: '5s',
          reconciliation: { positionsUrl: `${platformUrl}/positions`, tolerance: 0 },
          breakerReset: { maxDrawdown: 0.05, drawdownUrl: `${platformUrl}/metrics`, marketDataUrl: `${platformUrl}/metrics`, maxStaleness: '30s' },
          breaker: { key: 'risk:breaker', field: 'status', trading: ['RUNNING'], halted: ['HALTED'], missing: 'halted', reasonField: 'reason', atField: 'updated_at', byField: 'updated_by' },
          killSwitch: { key: 'risk:kill', trading: ['disarmed'], halted: ['FIRED'], missing: 'trading', reasonField: 'risk:kill:reason' },
        },
      },
      staging: { trading: { keyPrefix: 'stg:', breakerReset: { maxDrawdown: 0.05, drawdownUrl: `${platformUrl}/no-such-metrics` } } },
    },
  };
}

/** The platform, its fakes, a store in a temp dir, the API on a free loopback port, and a token per user. */
export async function startSafetyPlatform(users: Record<string, Role>): Promise<SafetyPlatform> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-safety-'));
  const broker = await FakeAlpaca.start();
  const platform = await startPlatformData();
  // The API runs in this process: its broker reads the key from here.
  process.env.DASH_ALPACA_KEY = broker.keyId;
  process.env.DASH_ALPACA_SECRET = broker.secretKey;
  const raw = platformConfig(platform.url, broker.url);
  // JSON is YAML: the same config on disk, for the CLI.
  writeFileSync(path.join(dir, 'shipgate.yml'), JSON.stringify(raw, null, 2));
  const ctx = await createContext({ file: path.join(dir, 'shipgate.yml'), dir, config: configSchema.parse(raw) }, { env: { ...process.env, SHIPGATE_ACTOR: 'operator', SHIPGATE_DATABASE_URL: '' } });
  const tokens: Record<string, string> = {};
  for (const [name, role] of Object.entries(users)) tokens[name] = (await createToken(ctx, { name, role })).token;
  const api = await startApiServer(ctx, { address: { host: '127.0.0.1', port: 0 }, version: 'test', eventPollMs: 100, loginAttemptsPerMinute: 1000 });
  return {
    dir, ctx, api, broker, platform, tokens,
    env: { DASH_ALPACA_KEY: broker.keyId, DASH_ALPACA_SECRET: broker.secretKey, SHIPGATE_DATABASE_URL: '' },
    close: async () => {
      await api.close();
      await ctx.store.close();
      await broker.close();
      await platform.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A JSON call to the API with a bearer token. */
export async function apiCall(base: string, method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${url}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, json: await res.json() };
}
