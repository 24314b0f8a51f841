// The platform's own runbook endpoints: `killswitch on` calls the platform's authenticated engage
// endpoint first (so the platform records the halt), verifies the state key, calls the platform's
// cancel-all and then cancels at the broker directly as the backstop. Real Redis, the fake
// platform (test/fakes/platform.ts) and the fake Alpaca API. The platform token must appear in
// no output, no audit event, no incident and no file shipgate keeps.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readJsonField } from '../src/adapters/metrics/http-json.js';
import { collectReadings } from '../src/app/analysis/readings.js';
import { checkConfigText } from '../src/config/load.js';
import { readRedisValue } from '../src/adapters/state/redis-client.js';
import type { FakeAlpaca } from './fakes/alpaca.js';
import { FakePlatform } from './fakes/platform.js';
import { shipgate, type CliResult } from './harness/cli.js';
import { pythonField } from './harness/python-redis.js';
import type { RedisServer } from './harness/redis.js';
import { useRedis, useTradingStack, type RedisClient, type TradingStack } from './harness/trading-stack.js';
import { scaled } from './harness/pace.js';

const TOKEN = 'tok-Zq81-platform-secret-7f3a';
const output = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
const auth = '{ Authorization: { env: PLATFORM_TOKEN, prefix: "Bearer " } }';

function config(redisUrl: string, brokerUrl: string, platformUrl: string): string {
  return `version: 1
project: platform-actions-test
approvals: { identity: trust-local }   # the test types --by; signatures are tested in approvals.test.ts
services:
  risk_manager: { command: ["true"] }
environments:
  live:
    trading:
      redisUrl: ${redisUrl}
      breaker: { key: risk:breaker, field: status, trading: [RUNNING], halted: [HALTED], reasonField: reason, atField: updated_at, byField: updated_by }
      killSwitch: { key: risk:halt_all, field: status, trading: [OFF], halted: [ON], reasonField: reason, byField: operator }
      broker: { type: alpaca, mode: paper, baseUrl: ${brokerUrl}, keyIdEnv: LIVE_ALPACA_KEY, secretKeyEnv: LIVE_ALPACA_SECRET }
      cancelTimeout: 10s
      reconciliation: { positionsUrl: ${platformUrl}/public/positions, tolerance: 0 }
      actions:
        engageKillSwitch: { method: POST, url: ${platformUrl}/api/v1/kill-switch/engage, headers: ${auth}, body: { reason: "{reason}", operator: "{actor}" }, expect: 200, verify: { field: status, equals: engaged } }
        disengageKillSwitch: { method: POST, url: ${platformUrl}/api/v1/kill-switch/disengage, headers: ${auth}, body: { reason: "{reason}", operator: "{actor}" }, expect: [200, 202], verify: { field: status, equals: disengaged } }
        cancelAll: { method: POST, url: ${platformUrl}/api/v1/orders/cancel-all, headers: ${auth} }
`;
}

/** Every file under dir (shipgate's store, logs, anything) that contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const name of readdirSync(dir)) {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) found.push(...filesContaining(file, needle));
    else if (readFileSync(file).includes(needle)) found.push(file);
  }
  return found;
}

const shared = useRedis();
let redis: RedisServer;
let db: RedisClient;
beforeAll(() => ({ server: redis, db } = shared));

describe('killswitch on|off through the platform\'s own endpoints', { timeout: scaled(300_000) }, () => {
  const stack = useTradingStack(shared, {
    name: 'shipgate-platform',
    brokerKeyEnv: 'LIVE_ALPACA_KEY',
    brokerSecretEnv: 'LIVE_ALPACA_SECRET',
    platform: (redisUrl) => FakePlatform.start({ redisUrl, token: TOKEN }),
    env: { PLATFORM_TOKEN: TOKEN },
    config: ({ redisUrl, brokerUrl, platformUrl }) => config(redisUrl, brokerUrl, platformUrl),
  });
  let dir: string;
  let broker: FakeAlpaca;
  let platform: FakePlatform;
  let outputs: CliResult[];
  let run: TradingStack<FakePlatform>['run'];
  const object = async (key: string) => JSON.parse((await db.get(key))!) as Record<string, unknown>;
  type Step = { step: string; ok: boolean; detail: string };
  const step = (steps: Step[], name: string) => steps.find((s) => s.step === name);

  beforeEach(async () => {
    ({ dir, broker, platform, outputs, run } = stack);
    await db.set('risk:breaker', JSON.stringify({ status: 'RUNNING', limits: { max_drawdown: 0.05 } }));
    await db.set('risk:halt_all', JSON.stringify({ status: 'OFF', scope: 'all' }));
    broker.positions = [{ symbol: 'AAPL', qty: 10 }];
    platform.positions = [{ symbol: 'AAPL', qty: 10 }];
  });

  it('on: the platform\'s engage endpoint is called with the token, the state verified, orders cancelled at the broker; off through disengage; the token is nowhere', async () => {
    broker.addOrders(6);
    const on = await run(['killswitch', 'on', '--env', 'live', '--reason', 'runaway strategy on AAPL', '--json']);
    expect(on.code, output(on)).toBe(0);
    const result = on.json();
    const steps = result.steps as Step[];
    expect(steps.map((s) => s.step)).toEqual(['platform engageKillSwitch', 'verify kill switch', 'write breaker', 'verify breaker', 'platform cancelAll', 'broker alpaca (paper) cancel all']);
    expect(steps.every((s) => s.ok)).toBe(true);
    expect(step(steps, 'platform engageKillSwitch')!.detail).toBe(`POST ${platform.url}/api/v1/kill-switch/engage: HTTP 200; status "engaged"`);
    expect(step(steps, 'verify kill switch')!.detail).toBe('ON (halted), set by the platform');
    expect(step(steps, 'broker alpaca (paper) cancel all')!.detail).toMatch(/^6 open at start, \d+ cancels accepted, 0 left$/);
    expect(result).toMatchObject({ ok: true, openAtStart: 6, openLeft: 0, status: { killswitch: true, state: { killSwitch: { value: 'ON', meaning: 'halted' } } } });

    // The platform got the token and the templated body, and recorded the halt itself.
    const engage = platform.calls('/api/v1/kill-switch/engage');
    expect(engage).toHaveLength(1);
    expect(engage[0]).toMatchObject({ method: 'POST', authorization: `Bearer ${TOKEN}`, body: { reason: 'runaway strategy on AAPL', operator: 'tester' } });
    expect(platform.calls('/api/v1/orders/cancel-all')[0]?.authorization).toBe(`Bearer ${TOKEN}`);
    expect(await object('risk:halt_all')).toMatchObject({ status: 'ON', scope: 'all', changed_by: 'platform-api', operator: 'tester' });
    expect(pythonField(redis.port, 'risk:halt_all', 'status')).toBe('ON');
    expect(await object('risk:breaker')).toMatchObject({ status: 'HALTED', limits: { max_drawdown: 0.05 }, reason: 'kill switch: runaway strategy on AAPL' });
    expect(broker.openOrders()).toHaveLength(0);

    // Human output: the same steps, the platform's words.
    const again = await run(['killswitch', 'on', '--env', 'live', '--reason', 'runaway strategy on AAPL']);
    expect(again.code, output(again)).toBe(0);
    expect(again.stdout).toMatch(/platform engageKillSwitch\s+yes\s+POST /);
    expect(again.stdout).toContain('kill switch ON (halted)');

    // Off: reconciliation clean, someone else approves, then the platform's disengage endpoint.
    expect((await run(['killswitch', 'off', '--env', 'live', '--reason', 'strategy fixed'])).code).toBe(3);
    const request = ((await run(['approvals', '--json'])).json().approvals as { id: number; subject: string }[])[0]!;
    expect(request.subject).toBe('risk:halt_all');
    expect((await run(['approve', String(request.id), '--by', 'bob'])).code).toBe(0);
    const off = await run(['killswitch', 'off', '--env', 'live', '--reason', 'strategy fixed', '--json']);
    expect(off.code, output(off)).toBe(0);
    expect((off.json().steps as Step[]).map((s) => `${s.step}: ${s.ok}`)).toEqual(['platform disengageKillSwitch: true', 'verify kill switch: true']);
    expect(platform.calls('/api/v1/kill-switch/disengage')[0]).toMatchObject({ authorization: `Bearer ${TOKEN}`, body: { reason: 'strategy fixed', operator: 'tester' } });
    expect(pythonField(redis.port, 'risk:halt_all', 'status')).toBe('OFF');
    expect(pythonField(redis.port, 'risk:breaker', 'status')).toBe('HALTED');

    // The token is in no output, no audit event, no incident and no file shipgate keeps.
    const audit = await run(['audit', '--json']);
    expect(audit.code).toBe(0);
    expect((audit.json().events as { action: string }[]).some((e) => e.action === 'killswitch.engage')).toBe(true);
    const incidents = await run(['incident', 'list', '--json']);
    expect(incidents.code, output(incidents)).toBe(0);
    const incidentId = result.incidentId as number;
    const incident = await run(['incident', 'show', String(incidentId), '--json']);
    expect(incident.code, output(incident)).toBe(0);
    expect(JSON.stringify(incident.json())).toContain('platform engageKillSwitch');
    for (const r of outputs) {
      expect(r.stdout).not.toContain(TOKEN);
      expect(r.stderr).not.toContain(TOKEN);
    }
    expect(filesContaining(dir, TOKEN)).toEqual([]);
    expect(filesContaining(dir, 'runaway strategy on AAPL').length).toBeGreaterThan(0); // the scan does see the store
  });

  it('on: a platform that refuses the token does not stop the kill switch: shipgate writes the state itself, cancels at the broker, and exits 1 saying why', async () => {
    broker.addOrders(3);
    const wrong = 'tok-WRONG-also-secret-91';
    const on = await run(['killswitch', 'on', '--env', 'live', '--reason', 'drill', '--json'], { PLATFORM_TOKEN: wrong });
    expect(on.code, output(on)).toBe(1);
    const r = on.json();
    const steps = r.steps as Step[];
    expect(step(steps, 'platform engageKillSwitch')).toMatchObject({ ok: false, detail: `POST ${platform.url}/api/v1/kill-switch/engage: HTTP 401, expected 200` });
    expect(step(steps, 'write kill switch')).toMatchObject({ ok: true, detail: 'risk:halt_all status = ON (the platform did not set it)' });
    expect(step(steps, 'verify kill switch')).toMatchObject({ ok: true, detail: 'ON (halted)' });
    expect(step(steps, 'broker alpaca (paper) cancel all')?.ok).toBe(true);
    expect(r.problem).toContain('platform engageKillSwitch (POST');
    expect(broker.openOrders()).toHaveLength(0);
    expect(await object('risk:halt_all')).toMatchObject({ status: 'ON', scope: 'all', reason: 'drill', operator: 'tester' });
    expect(platform.calls('/api/v1/kill-switch/engage')[0]?.authorization).toBe(`Bearer ${wrong}`);
    expect(on.stdout + on.stderr).not.toContain(wrong);
    expect(filesContaining(dir, wrong)).toEqual([]);
  });

  it('on: without the token variable the endpoint is not called, and the result names the variable', async () => {
    const on = await run(['killswitch', 'on', '--env', 'live', '--reason', 'drill', '--json'], { PLATFORM_TOKEN: undefined });
    expect(on.code, output(on)).toBe(1);
    expect(step(on.json().steps as Step[], 'platform engageKillSwitch')?.detail).toBe(`POST ${platform.url}/api/v1/kill-switch/engage: not called: PLATFORM_TOKEN is not set (header Authorization)`);
    expect(platform.calls('/api/v1/kill-switch/engage')).toHaveLength(0);
    expect(pythonField(redis.port, 'risk:halt_all', 'status')).toBe('ON');
  });

  it('off without a disengage endpoint: shipgate writes OFF in the platform\'s object itself, keeping its other fields; Python reads it', async () => {
    writeFileSync(path.join(dir, 'shipgate.yml'), config(redis.url, broker.url, platform.url).replace(/\n\s+disengageKillSwitch: [^\n]+/, ''));
    expect((await run(['killswitch', 'on', '--env', 'live', '--reason', 'drill'])).code).toBe(0);
    expect((await run(['killswitch', 'off', '--env', 'live', '--reason', 'drill over'])).code).toBe(3);
    const request = ((await run(['approvals', '--json'])).json().approvals as { id: number }[])[0]!;
    expect((await run(['approve', String(request.id), '--by', 'bob'])).code).toBe(0);
    const off = await run(['killswitch', 'off', '--env', 'live', '--reason', 'drill over', '--json']);
    expect(off.code, output(off)).toBe(0);
    expect((off.json().steps as Step[]).map((s) => `${s.step}: ${s.ok}`)).toEqual(['write kill switch: true', 'verify kill switch: true']);
    expect(platform.calls('/api/v1/kill-switch/disengage')).toHaveLength(0);
    // Only the state, reason and actor fields changed; the platform's own fields are kept.
    const after = await object('risk:halt_all');
    expect(after).toMatchObject({ status: 'OFF', reason: 'drill over', operator: 'tester', scope: 'all', changed_by: 'platform-api' });
    expect(pythonField(redis.port, 'risk:halt_all', 'status')).toBe('OFF');
    expect(pythonField(redis.port, 'risk:halt_all', 'scope')).toBe('all');
  });

  it('on: a platform that answers "engaged" without setting its state is caught by the verification', async () => {
    platform.writesState = false;
    const on = await run(['killswitch', 'on', '--env', 'live', '--reason', 'drill', '--json']);
    const steps = on.json().steps as Step[];
    expect(step(steps, 'platform engageKillSwitch')?.ok).toBe(true);
    expect(step(steps, 'write kill switch')?.detail).toContain('(the platform did not set it)');
    expect(pythonField(redis.port, 'risk:halt_all', 'status')).toBe('ON');
  });
});

describe('checks send the same secret headers; the redis check reads one JSON field', { timeout: scaled(60_000) }, () => {
  let platform: FakePlatform;
  const headers = { Authorization: { env: 'CHECK_TOKEN_FOR_TEST', prefix: 'Bearer ' } };

  beforeAll(async () => {
    platform = await FakePlatform.start({ redisUrl: redis.url, token: TOKEN });
  });
  afterAll(async () => {
    await platform?.close();
    delete process.env.CHECK_TOKEN_FOR_TEST;
  });

  it('http-json: with the token the field is read; without it or with a wrong one it is an error that never shows the token', async () => {
    await db.set('risk:halt_all', JSON.stringify({ status: 'OFF' }));
    const url = `${platform.url}/api/v1/kill-switch`;
    delete process.env.CHECK_TOKEN_FOR_TEST;
    expect(await readJsonField(url, 'status', 2000, headers)).toEqual({ kind: 'error', reason: `${url} not asked: CHECK_TOKEN_FOR_TEST is not set (header Authorization)` });
    process.env.CHECK_TOKEN_FOR_TEST = 'nope-wrong-token';
    expect(await readJsonField(url, 'status', 2000, headers)).toEqual({ kind: 'error', reason: `HTTP 401 from ${url}` });
    process.env.CHECK_TOKEN_FOR_TEST = TOKEN;
    expect(await readJsonField(url, 'status', 2000, headers)).toEqual({ kind: 'value', value: 'OFF' });
    expect(platform.requests.at(-1)?.authorization).toBe(`Bearer ${TOKEN}`);
  });

  it('as configured checks: an http-json check sends its secret header, a redis check reads its field', async () => {
    await db.set('risk:halt_all', JSON.stringify({ status: 'ON', scope: 'all' }));
    await db.set('risk:breaker', JSON.stringify({ status: 'HALTED', limits: { max: 1 } }));
    const { config, problems } = checkConfigText(`version: 1
services: { api: { command: ["true"] } }
environments:
  live:
    analysis:
      checks:
        - { name: platform-halt, type: http-json, url: "${platform.url}/api/v1/kill-switch", path: status, equals: "OFF", headers: { Authorization: { env: CHECK_TOKEN_FOR_TEST, prefix: "Bearer " } } }
        - { name: breaker, type: redis, url: "${redis.url}", key: risk:breaker, field: status, equals: RUNNING }
`, 'shipgate.yml');
    expect(problems).toEqual([]);
    const readings = await collectReadings(config!.environments.live!.analysis!, [], { CHECK_TOKEN_FOR_TEST: TOKEN });
    expect(readings.get('breaker')).toEqual({ kind: 'value', value: 'HALTED' });
    process.env.CHECK_TOKEN_FOR_TEST = TOKEN;
    const withToken = await collectReadings(config!.environments.live!.analysis!, []);
    expect(withToken.get('platform-halt')).toEqual({ kind: 'value', value: 'ON' });
    expect(platform.requests.at(-1)).toMatchObject({ path: '/api/v1/kill-switch', authorization: `Bearer ${TOKEN}` });
    delete process.env.CHECK_TOKEN_FOR_TEST;
    const without = await collectReadings(config!.environments.live!.analysis!, []);
    expect(without.get('platform-halt')).toMatchObject({ kind: 'error' });
    expect(JSON.stringify([...without.values()])).not.toContain(TOKEN);
  });

  it('redis: field reads one field of the JSON object; a missing field or a plain string is an error, never a value', async () => {
    await db.set('risk:breaker', JSON.stringify({ status: 'RUNNING', limits: { max: 1 } }));
    await db.set('plain', 'RUNNING');
    expect(await readRedisValue(redis.url, 'risk:breaker', 'status')).toEqual({ kind: 'value', value: 'RUNNING' });
    expect(await readRedisValue(redis.url, 'risk:breaker', 'state')).toEqual({ kind: 'error', reason: 'risk:breaker has no field state' });
    expect(await readRedisValue(redis.url, 'plain', 'status')).toEqual({ kind: 'error', reason: 'plain is not a JSON object (field status expected)' });
    expect(await readRedisValue(redis.url, 'plain')).toEqual({ kind: 'value', value: 'RUNNING' });
    expect(await readRedisValue(redis.url, 'absent', 'status')).toEqual({ kind: 'value', value: null });
  });
});

describe('config check: safety state that cannot work', { timeout: scaled(60_000) }, () => {
  const workspace = (yaml: string) => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), 'shipgate-safety-rules-'));
    writeFileSync(path.join(cwd, 'shipgate.yml'), yaml);
    return cwd;
  };
  const base = (trading: string) => `version: 1
services:
  api: { command: ["true"] }
environments:
  live:
    trading:
${trading}
`;

  it('a word in both trading and halted, and a secret header written in the file, each fail with their position', async () => {
    const cwd = workspace(base(`      killSwitch: { key: risk:halt_all, field: status, trading: [OFF], halted: [ON, OFF] }
      actions:
        cancelAll: { url: http://127.0.0.1:9/cancel, headers: { Authorization: "Bearer abc123" } }`));
    try {
      const r = await shipgate(['config', 'check', '--json'], { cwd });
      expect(r.code, output(r)).toBe(2);
      const problems = (r.json().problems as { line: number; col: number; path: string; message: string }[]).map((p) => `${p.line}:${p.col} ${p.path}: ${p.message}`);
      expect(problems).toEqual([
        expect.stringMatching(/^6:5 environments\.live\.trading: a breaker reset in live would check none of its preconditions/),
        expect.stringMatching(/^7:85 environments\.live\.trading\.killSwitch\.halted\.1: "OFF" is in both trading and halted/),
        expect.stringMatching(/^9:80 environments\.live\.trading\.actions\.cancelAll\.headers\.Authorization: header Authorization is written in the file; its value is a secret/),
      ]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('the configuration from the README passes', async () => {
    const cwd = workspace(base(`      breaker: { key: risk:breaker, field: status, trading: [RUNNING], halted: [HALTED], missing: halted }
      killSwitch: { key: risk:halt_all, field: status, trading: [OFF], halted: [ON], missing: halted }
      actions:
        cancelAll: { url: http://127.0.0.1:9/cancel, headers: { Authorization: { env: PLATFORM_TOKEN, prefix: "Bearer " }, X-Client: shipgate } }`));
    try {
      const r = await shipgate(['config', 'check'], { cwd });
      expect(r.code, output(r)).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});
