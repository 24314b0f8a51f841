// Deploys stop while trading is halted (kill switch on, or circuit breaker TRIPPED), with the
// sample stack deployed for real: against a real Redis (staging's `trading` section) and against
// shipgate's embedded store when no Redis is configured. `--allow-tripped --reason` lets the fix
// ship and is audited; a rollback is never blocked.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../src/demo/free-port.js';
import type { CliResult } from './harness/cli.js';
import { startRedis, type RedisServer } from './harness/redis.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const PREFIX = 'staging:';

/** Adds `trading` to the staging environment of the generated shipgate.yml. */
function withTrading(redisUrl: string) {
  return (yaml: string) => {
    const from = '  staging:\n    target: { type: process }';
    if (!yaml.includes(from)) throw new Error(`the generated shipgate.yml no longer contains ${JSON.stringify(from)}; update the test's patch`);
    return yaml.replace(from, `  staging:\n    trading: { redisUrl: ${JSON.stringify(redisUrl)}, keyPrefix: ${JSON.stringify(PREFIX)} }\n    target: { type: process }`);
  };
}

const output = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

interface AuditEvent {
  action: string;
  outcome: string;
  env: string | null;
  reason: string | null;
  detail: Record<string, unknown>;
}

/** Only the process's own environment minus SHIPGATE_REDIS_URL: the config alone decides where the state is. */
const NO_REDIS_ENV: NodeJS.ProcessEnv = { SHIPGATE_REDIS_URL: undefined };

describe('trading interlock with Redis (staging trading.redisUrl, keyPrefix "staging:")', { timeout: scaled(240_000) }, () => {
  let redis: RedisServer;
  let db: ReturnType<typeof createClient>;
  let ws: StackWorkspace;
  const run = (args: string[]) => ws.run(args, NO_REDIS_ENV);
  /** What staging runs, from shipgate's own records. */
  const current = async (): Promise<string | null> => {
    const r = await run(['status', '--env', 'staging', '--json']);
    expect(r.code, output(r)).toBe(0);
    return (r.json().environments as { currentVersion: string | null }[])[0]!.currentVersion;
  };

  beforeAll(async () => {
    redis = await startRedis();
    db = createClient({ url: redis.url });
    db.on('error', () => undefined);
    await db.connect();
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { patch: withTrading(redis.url) });
  });

  afterAll(async () => {
    await ws?.cleanup();
    if (db?.isOpen) await db.quit().catch(() => undefined);
    await redis?.stop();
  });

  it('deploys while trading runs normally', async () => {
    const r = await run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).not.toMatch(/last written by/);
    expect(await current()).toBe('v1.0.0');
  });

  it('refuses a deploy while the kill switch is on, naming it; --allow-tripped needs --reason and is audited', async () => {
    const on = await run(['killswitch', 'on', '--env', 'staging', '--reason', 'drill']);
    expect(on.code, output(on)).toBe(1); // no broker configured for staging: nothing cancelled, but the switch is on
    expect(on.stdout).toContain('NOT cancelled');
    expect(await db.get(`${PREFIX}killswitch:active`)).toBe('true');
    expect(await db.get(`${PREFIX}cb:state`)).toBe('TRIPPED');
    expect(await db.get('killswitch:active')).toBeNull();

    const blocked = await run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(blocked.code, output(blocked)).toBe(3);
    expect(blocked.stderr).toContain('staging: the kill switch is active (killswitch:active is true); deploys are stopped while trading is halted');
    expect(blocked.stderr).toContain('--allow-tripped');
    expect(await current()).toBe('v1.0.0');

    const noReason = await run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-tripped']);
    expect(noReason.code, output(noReason)).toBe(2);
    expect(noReason.stderr).toContain('--allow-tripped needs --reason');

    const allowed = await run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-tripped', '--reason', 'ship the fix']);
    expect(allowed.code, output(allowed)).toBe(0);
    expect(await current()).toBe('v1.1.0');
    const audit = await run(['audit', '--json']);
    const events = audit.json().events as AuditEvent[];
    const override = events.find((e) => e.action === 'interlock.override');
    expect(override).toMatchObject({ outcome: 'allowed', env: 'staging', reason: 'ship the fix' });
    expect(String(override!.detail.halted)).toContain('kill switch is active');
    // The override does not turn anything off.
    expect(await db.get(`${PREFIX}killswitch:active`)).toBe('true');
  });

  it('never blocks a rollback', async () => {
    const r = await run(['rollback', 'staging', '--reason', 'drill: back to v1.0.0 while halted']);
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout).toMatch(/rollback #\d+ of v1\.0\.0 to staging succeeded/);
    expect(await current()).toBe('v1.0.0');
  });

  it('refuses a deploy while only the breaker is TRIPPED', async () => {
    await db.del([`${PREFIX}killswitch:active`, `${PREFIX}cb:state`, `${PREFIX}cb:trip_reason`]);
    const trip = await run(['breaker', 'trip', '--env', 'staging', '--reason', 'drawdown 6% > 5% limit']);
    expect(trip.code, output(trip)).toBe(0);
    const status = await run(['breaker', 'status', '--env', 'staging', '--json']);
    expect(status.json()).toMatchObject({ breaker: 'TRIPPED', killswitch: false });

    const blocked = await run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(blocked.code, output(blocked)).toBe(3);
    expect(blocked.stderr).toContain('the circuit breaker is TRIPPED (drawdown 6% > 5% limit)');
    expect(blocked.stderr).not.toContain('kill switch is active');
    expect(await current()).toBe('v1.0.0');
  });

  it('warns when staging\'s keys were last written by another environment', async () => {
    await db.set(`${PREFIX}cb:state`, 'OPEN');
    await db.set(`${PREFIX}killswitch:active`, 'false');
    await db.set(`${PREFIX}shipgate:last_writer`, 'production');

    // v1.1.0 was rolled back by the drill above, which marked it bad: deploying it again is stated.
    const r = await run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad', '--reason', 'rolled back only as a drill']);
    expect(r.code, output(r)).toBe(0);
    expect(r.stdout + r.stderr).toMatch(/staging's safety keys were last written by production \(state carried over from another environment\?\)/);
    expect(await current()).toBe('v1.1.0');
    // shipgate's own writes claim the keys for staging again.
    expect((await run(['breaker', 'trip', '--env', 'staging', '--reason', 'drill'])).code).toBe(0);
    expect(await db.get(`${PREFIX}shipgate:last_writer`)).toBe('staging');
  });

  it('refuses a deploy when the configured Redis cannot be read, but still rolls back', async () => {
    const file = path.join(ws.dir, 'shipgate.yml');
    const original = readFileSync(file, 'utf8');
    const closed = `redis://127.0.0.1:${await freePort()}`;
    writeFileSync(file, original.replace(JSON.stringify(redis.url), JSON.stringify(closed)));
    try {
      const blocked = await run(['deploy', 'staging', '--version', 'v1.0.0']);
      expect(blocked.code, output(blocked)).toBe(3);
      expect(blocked.stderr).toContain('cannot read the trading safety state of staging');
      const back = await run(['rollback', 'staging', '--reason', 'redis down, roll back anyway']);
      expect(back.code, output(back)).toBe(0);
    } finally {
      writeFileSync(file, original);
    }
  });
});

describe('trading interlock with the embedded store (no Redis configured)', { timeout: scaled(240_000) }, () => {
  let ws: StackWorkspace;
  const run = (args: string[]) => ws.run(args, NO_REDIS_ENV);

  beforeAll(async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0']);
  });

  afterAll(async () => {
    await ws?.cleanup();
  });

  it('a kill switch engaged without Redis stops deploys too', async () => {
    const on = await run(['killswitch', 'on', '--env', 'staging', '--reason', 'drill']);
    expect(on.code, output(on)).toBe(1);
    const status = await run(['breaker', 'status', '--env', 'staging', '--json']);
    expect(status.code, output(status)).toBe(0);
    expect(status.json()).toMatchObject({ killswitch: true, breaker: 'TRIPPED' });
    expect(status.json().source).toContain('embedded');

    const blocked = await run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(blocked.code, output(blocked)).toBe(3);
    expect(blocked.stderr).toContain('the kill switch is active');

    const allowed = await run(['deploy', 'staging', '--version', 'v1.0.0', '--allow-tripped', '--reason', 'ship the fix']);
    expect(allowed.code, output(allowed)).toBe(0);
  });
});
