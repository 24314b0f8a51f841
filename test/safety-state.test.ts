// The platform's own safety state: a breaker and a kill switch kept as JSON objects under the
// platform's keys (risk:breaker, risk:halt_all) with its own words (RUNNING/HALTED, OFF/ON), a
// missing key meaning halted. The sample stack deployed for real against a real redis-server;
// a halted value, an unknown value and a missing key each stop `deploy` (exit 3), and shipgate's
// writes keep every other field of the platform's objects, as a Python reader confirms.
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { CliResult } from './harness/cli.js';
import { pythonField, pythonList } from './harness/python-redis.js';
import { startRedis, type RedisServer } from './harness/redis.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const output = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

function withPlatformState(redisUrl: string) {
  return (yaml: string) => {
    const from = '  staging:\n    target: { type: process }';
    if (!yaml.includes(from)) throw new Error(`the generated shipgate.yml no longer contains ${JSON.stringify(from)}; update the test's patch`);
    return yaml.replace(from, `  staging:
    trading:
      redisUrl: ${JSON.stringify(redisUrl)}
      breaker: { key: risk:breaker, field: status, trading: [RUNNING], halted: [HALTED], missing: halted, reasonField: reason, atField: updated_at, byField: updated_by, history: risk:breaker:history }
      killSwitch: { key: risk:halt_all, field: status, trading: [OFF], halted: [ON], reasonField: reason, atField: changed_at, byField: changed_by }
    target: { type: process }`);
  };
}

const RUNNING = { status: 'RUNNING', limits: { max_drawdown: 0.05, max_position: 1000 }, revision: 7 };
const OFF = { status: 'OFF', since: '2026-01-05T14:30:00Z', scope: ['equities', 'options'] };

describe('safety state as JSON under the platform\'s own keys and words', { timeout: scaled(300_000) }, () => {
  let redis: RedisServer;
  let db: ReturnType<typeof createClient>;
  let ws: StackWorkspace;
  const run = (args: string[]) => ws.run(args, { SHIPGATE_REDIS_URL: undefined });
  const object = async (key: string) => JSON.parse((await db.get(key))!) as Record<string, unknown>;
  const setBoth = async (breaker: unknown, killSwitch: unknown) => {
    await db.set('risk:breaker', typeof breaker === 'string' ? breaker : JSON.stringify(breaker));
    await db.set('risk:halt_all', typeof killSwitch === 'string' ? killSwitch : JSON.stringify(killSwitch));
  };
  const refusedDeploy = async (expected: RegExp) => {
    const r = await run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(r.code, output(r)).toBe(3);
    expect(r.stderr).toMatch(expected);
    expect(r.stderr).toContain('--allow-tripped');
  };

  beforeAll(async () => {
    redis = await startRedis();
    db = createClient({ url: redis.url });
    db.on('error', () => undefined);
    await db.connect();
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { patch: withPlatformState(redis.url) });
  });

  afterAll(async () => {
    await ws?.cleanup();
    if (db?.isOpen) await db.quit().catch(() => undefined);
    await redis?.stop();
  });

  beforeEach(async () => {
    await db.flushDb();
  });

  it('missing keys block deploy (missing: halted is the default once configured), and status says so in its own words', async () => {
    await refusedDeploy(/staging: the kill switch state is missing, which counts as halted \(risk:halt_all status is absent; configured missing: halted\)/);
    await db.set('risk:halt_all', JSON.stringify(OFF));
    await refusedDeploy(/the circuit breaker state is missing, which counts as halted \(risk:breaker status is absent/);
    // A JSON object without the field is as missing as no key.
    await db.set('risk:breaker', JSON.stringify({ limits: RUNNING.limits }));
    await refusedDeploy(/circuit breaker state is missing/);

    const status = await run(['breaker', 'status', '--env', 'staging']);
    expect(status.code, output(status)).toBe(0);
    expect(status.stdout).toContain('breaker absent (halted)');
    expect(status.stdout).toContain('kill switch OFF (trading)');
    const json = (await run(['breaker', 'status', '--env', 'staging', '--json'])).json();
    expect(json.state.breaker).toMatchObject({ key: 'risk:breaker', field: 'status', value: null, meaning: 'halted' });
    expect(json).toMatchObject({ breaker: 'unset', killswitch: false, halted: true });
  });

  it('a key of another Redis type (a hash) is unreadable, never "absent": the deploy is refused naming its type', async () => {
    await db.set('risk:halt_all', JSON.stringify(OFF));
    await db.hSet('risk:breaker', { status: 'RUNNING' });
    const r = await run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(r.code, output(r)).toBe(3);
    expect(r.stderr).toMatch(/risk:breaker is a hash, not a string; shipgate reads a plain string or a JSON object kept as a string \(SET\), so the state is unknown/);
    const status = await run(['breaker', 'status', '--env', 'staging', '--json']);
    expect(status.stdout + status.stderr).toMatch(/risk:breaker is a hash, not a string/);
  });

  it('deploys while the platform says RUNNING and OFF; HALTED or ON stop the next deploy', async () => {
    await setBoth(RUNNING, OFF);
    const ok = await run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(ok.code, output(ok)).toBe(0);

    await setBoth({ ...RUNNING, status: 'HALTED', reason: 'daily loss limit' }, OFF);
    await refusedDeploy(/staging: the circuit breaker is HALTED \(daily loss limit\); deploys are stopped/);
    const status = await run(['breaker', 'status', '--env', 'staging']);
    expect(status.stdout).toContain('breaker HALTED (halted) (daily loss limit)');

    await setBoth(RUNNING, { ...OFF, status: 'ON' });
    await refusedDeploy(/staging: the kill switch is active \(risk:halt_all status is ON\)/);
    expect((await run(['killswitch', 'status', '--env', 'staging'])).stdout).toContain('kill switch ON (halted)');
  });

  it('an unknown value fails closed like halted: a word in neither list, or a value that is not a JSON object', async () => {
    await setBoth({ ...RUNNING, status: 'PAUSED' }, OFF);
    await refusedDeploy(/the circuit breaker state is unknown \(risk:breaker status is "PAUSED", in neither trading \[RUNNING\] nor halted \[HALTED\]\)/);
    const status = await run(['breaker', 'status', '--env', 'staging']);
    expect(status.stdout).toContain('breaker PAUSED (unknown)');
    expect(status.stdout).not.toMatch(/OPEN|TRIPPED/);

    // Case matters: the platform's word is "ON", "on" is something else.
    await setBoth(RUNNING, { ...OFF, status: 'on' });
    await refusedDeploy(/the kill switch state is unknown \(risk:halt_all status is "on"/);

    await setBoth(RUNNING, 'OFF');
    await refusedDeploy(/the kill switch state is unknown \(risk:halt_all is not a JSON object \(field status expected\)\)/);

    // The fix itself may ship, with a reason, and it is audited.
    const allowed = await run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-tripped', '--reason', 'ship the fix for the halt flag']);
    expect(allowed.code, output(allowed)).toBe(0);
    const events = (await run(['audit', '--json'])).json().events as { action: string; reason: string; detail: { halted?: string } }[];
    expect(events.find((e) => e.action === 'interlock.override' && e.reason === 'ship the fix for the halt flag')?.detail.halted).toContain('kill switch state is unknown');
  });

  it('breaker trip and reset write the platform\'s format, keep every other field, append the history; Python reads the change', async () => {
    await setBoth(RUNNING, OFF);
    const trip = await run(['breaker', 'trip', '--env', 'staging', '--reason', 'drawdown 6% > 5% limit']);
    expect(trip.code, output(trip)).toBe(0);
    expect(trip.stdout).toContain('breaker HALTED (halted) (drawdown 6% > 5% limit)');
    const tripped = await object('risk:breaker');
    expect(tripped).toMatchObject({ status: 'HALTED', reason: 'drawdown 6% > 5% limit', updated_by: 'tester', limits: RUNNING.limits, revision: 7 });
    expect(tripped.updated_at).toMatch(ISO_8601);
    expect(Object.keys(tripped).sort()).toEqual(['limits', 'reason', 'revision', 'status', 'updated_at', 'updated_by']);
    expect(pythonField(redis.port, 'risk:breaker', 'status')).toBe('HALTED');
    expect(pythonField(redis.port, 'risk:breaker', 'limits')).toEqual(RUNNING.limits);
    // The kill switch was not touched.
    expect(await object('risk:halt_all')).toEqual(OFF);
    await refusedDeploy(/circuit breaker is HALTED \(drawdown 6% > 5% limit\)/);

    const ask = await run(['breaker', 'reset', '--env', 'staging']);
    expect(ask.code, output(ask)).toBe(3);
    const request = ((await run(['approvals', '--json'])).json().approvals as { id: number; subject: string }[])[0]!;
    expect(request.subject).toBe('risk:breaker');
    expect((await run(['approve', String(request.id), '--by', 'bob'])).code).toBe(0);
    const reset = await run(['breaker', 'reset', '--env', 'staging', '--reason', 'drawdown back to 2%']);
    expect(reset.code, output(reset)).toBe(0);
    expect(reset.stdout).toContain('breaker RUNNING (trading)');
    expect(await object('risk:breaker')).toMatchObject({ status: 'RUNNING', reason: 'drawdown back to 2%', updated_by: 'tester', limits: RUNNING.limits, revision: 7 });
    expect(pythonField(redis.port, 'risk:breaker', 'status')).toBe('RUNNING');

    const history = pythonList(redis.port, 'risk:breaker:history') as Record<string, unknown>[];
    expect(history).toHaveLength(2);
    expect(history[0]).toMatchObject({ status: 'HALTED', reason: 'drawdown 6% > 5% limit', by: 'tester', env: 'staging', source: 'shipgate' });
    expect(history[1]).toMatchObject({ status: 'RUNNING', reason: 'drawdown back to 2%' });
  });

  it('killswitch on writes ON in the platform\'s object and trips the breaker in its own, keeping their other fields', async () => {
    await setBoth(RUNNING, OFF);
    const on = await run(['killswitch', 'on', '--env', 'staging', '--reason', 'runaway strategy']);
    expect(on.code, output(on)).toBe(1); // no broker configured for staging: orders were not cancelled
    expect(on.stdout).toContain('NOT cancelled');
    expect(on.stdout).toContain('kill switch ON (halted)');
    expect(await object('risk:halt_all')).toMatchObject({ ...OFF, status: 'ON', reason: 'runaway strategy', changed_by: 'tester' });
    expect(await object('risk:breaker')).toMatchObject({ ...RUNNING, status: 'HALTED', reason: 'kill switch: runaway strategy' });
    expect(pythonField(redis.port, 'risk:halt_all', 'status')).toBe('ON');
    expect(pythonField(redis.port, 'risk:halt_all', 'scope')).toEqual(OFF.scope);
    // Nothing under the seed's keys.
    expect(await db.exists(['killswitch:active', 'cb:state'])).toBe(0);
  });

  it('refuses to overwrite a key that is not a JSON object, and leaves it as it was', async () => {
    await setBoth(RUNNING, 'legacy-flag');
    const on = await run(['killswitch', 'on', '--env', 'staging', '--reason', 'drill', '--json']);
    expect(on.code, output(on)).toBe(1);
    const steps = on.json().steps as { step: string; ok: boolean; detail: string }[];
    expect(steps.find((s) => s.step === 'write kill switch')).toMatchObject({ ok: false });
    expect(steps.find((s) => s.step === 'write kill switch')!.detail).toContain('risk:halt_all holds a value that is not a JSON object');
    expect(await db.get('risk:halt_all')).toBe('legacy-flag');

    // A key of another type would be replaced whole by SET: refused, the platform's hash kept.
    await db.del('risk:halt_all');
    await db.hSet('risk:halt_all', { status: 'OFF', scope: 'equities' });
    const again = await run(['killswitch', 'on', '--env', 'staging', '--reason', 'drill', '--json']);
    expect(again.code, output(again)).toBe(1);
    expect((again.json().steps as { step: string; detail: string }[]).find((s) => s.step === 'write kill switch')!.detail).toContain('risk:halt_all is a hash, not a string: shipgate would replace it whole');
    expect(await db.hGetAll('risk:halt_all')).toEqual({ status: 'OFF', scope: 'equities' });
  });
});
