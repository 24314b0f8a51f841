// The evaluation loop on real processes: the production monitor rolling back a release that only
// breaks with live trading, and `shipgate serve` as a daemon that survives being killed.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import { isAlive } from '../src/adapters/targets/process/pids.js';
import type { SoakData } from '../src/app/analysis/watch-data.js';
import { BIN } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { load, ok, promoteCleared, shortWatches as sharedShortWatches } from './harness/watches.js';
import type { LoadSummary } from '../demo/stack/base/loadgen.mjs';
import { scaled } from './harness/pace.js';

const shortWatches = (soak: { standard?: string; maxInconclusive?: string } = {}) => sharedShortWatches(soak, '8s');


async function watch(ws: StackWorkspace): Promise<any[]> {
  const res = await ws.run(['watch', '--json']);
  expect(res.code, `shipgate watch\n${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

const gate = (soak: any, name: string) => soak.gates.find((g: any) => g.name === name);
const audit = async (ws: StackWorkspace): Promise<any[]> => (await ok(ws, ['audit', '--json'])).events;

async function healthVersion(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    return ((await res.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}; last: ${JSON.stringify(v)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

let ws: StackWorkspace | undefined;
const daemons: ChildProcess[] = [];
afterEach(async () => {
  for (const d of daemons.splice(0)) if (d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
  await ws?.cleanup();
  ws = undefined;
});

interface Daemon {
  child: ChildProcess;
  output(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function serve(dir: string): Daemon {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(pattern, timeoutMs = 40_000) {
      const deadline = Date.now() + scaled(timeoutMs);
      while (!pattern.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`serve exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`serve did not print ${pattern} within ${timeoutMs / 1000}s:\n${out}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

async function withStore<T>(dir: string, read: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(dir, '.shipgate', 'state.db') });
  try {
    return await read(store);
  } finally {
    await store.close();
  }
}

async function controllerLease(dir: string) {
  const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(dir, '.shipgate', 'state.db') });
  try {
    return await store.controllers.getLeader();
  } finally {
    await store.close();
  }
}

/** The newest watch of a kind and version, read from the store (no CLI start-up in a polling loop). */
async function storedWatch(dir: string, kind: 'soak' | 'monitor', version: string) {
  const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(dir, '.shipgate', 'state.db') });
  try {
    return (await store.listWatches({ kind, limit: 20 })).find((w) => w.version === version);
  } finally {
    await store.close();
  }
}

const finishedWatch = (dir: string, kind: 'soak' | 'monitor', version: string, timeoutMs = 60_000) =>
  until(`the ${kind} of ${version} to finish`, () => storedWatch(dir, kind, version), (w) => w !== undefined && w.state !== 'running', timeoutMs);

async function storedSoak(dir: string, id: number) {
  const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(dir, '.shipgate', 'state.db') });
  try {
    const w = await store.getWatch(id);
    return w && { state: w.state, startedAt: w.startedAt, data: w.data as SoakData };
  } finally {
    await store.close();
  }
}

describe('production monitor: automatic rollback on real processes', () => {
  it('promotes v1.2.0 after a clean paper-trading soak, detects its live-only errors and rolls production back to v1.0.0', async () => {
    ws = await stackWorkspace(['staging', 'production'], ['v1.0.0', 'v1.1.0', 'v1.2.0'], { analysis: true, patch: shortWatches() });
    const dir = ws.dir;
    const prod = ws.ports.production!;
    const stagingTraffic = load(ws.ports.staging!.gateway);
    const prodTraffic = load(prod.gateway);
    let prodSent: LoadSummary | undefined;
    try {
      // The staging soaks run under the daemon, which is already watching when each soak starts.
      const daemon = serve(dir);
      await daemon.waitFor(/controller running/);
      await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
      expect(await finishedWatch(dir, 'soak', 'v1.0.0')).toMatchObject({ state: 'passed' });
      expect(await promoteCleared(ws, 'v1.0.0')).toMatchObject({ ok: true, version: 'v1.0.0' });

      // v1.2.0 soaks on paper trading while production's v1.0.0 monitor sees healthy live traffic.
      await ok(ws, ['deploy', 'staging', '--version', 'v1.2.0', '--json']);
      expect(await finishedWatch(dir, 'soak', 'v1.2.0')).toMatchObject({ state: 'passed' });
      expect(await finishedWatch(dir, 'monitor', 'v1.0.0')).toMatchObject({ env: 'production', state: 'passed' });
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toEqual({ code: 0, signal: null });

      const promoted = await promoteCleared(ws, 'v1.2.0');
      expect(promoted).toMatchObject({ ok: true, env: 'production', version: 'v1.2.0', fromVersion: 'v1.0.0' });
      for (const port of [prod.signal, prod.gateway, prod.orchestrator]) expect(await healthVersion(port)).toBe('v1.2.0');

      // The production monitor, evaluated in the foreground until it is done.
      const finished = await watch(ws);
      expect(finished).toEqual([expect.objectContaining({ kind: 'monitor', env: 'production', version: 'v1.2.0', state: 'rolled-back' })]);
    } finally {
      await stagingTraffic.stop();
      prodSent = await prodTraffic.stop();
    }
    // Live trading really erred (V and MA orders), so the trigger had something to see.
    expect(prodSent.byStatus['500'] ?? 0).toBeGreaterThan(0);

    const [monitor, previous] = (await ok(ws, ['monitors', '--json'])).monitors;
    expect(previous).toMatchObject({ env: 'production', version: 'v1.0.0', state: 'passed' });
    expect(monitor).toMatchObject({ env: 'production', version: 'v1.2.0', state: 'rolled-back', autoRollback: true, incidentId: expect.any(Number) });
    expect(monitor.trigger.check).toBe('error-rate');
    expect(monitor.trigger.reason).toMatch(/error rate [\d.]+% over \d+ requests: the sequential test favours >= 5\.00%/);
    const evidence = monitor.trigger.evidence;
    expect(evidence).toMatchObject({ requests: expect.any(Number), errors: expect.any(Number), llr: expect.any(Number), upper: expect.any(Number), p1: 0.05 });
    expect(evidence.errors).toBeGreaterThan(0);
    expect(evidence.requests).toBeGreaterThanOrEqual(evidence.errors);
    expect(evidence.llr).toBeGreaterThanOrEqual(evidence.upper);
    // The baseline was v1.0.0 measured in production just before the switch, with real traffic.
    expect(evidence.baseline).toBeLessThan(0.01);
    expect(monitor.rollback).toMatchObject({ ok: true, version: 'v1.0.0' });
    expect(monitor.reason).toMatch(/^rolled back to v1\.0\.0: error-rate/);

    // Every evaluation left its readings: the time series the control room charts, ending in the failing one.
    const readings = await withStore(ws.dir, (store) => store.listReadings(monitor.id));
    const errorRate = readings.filter((r) => r.check === 'error-rate');
    expect(errorRate.length).toBeGreaterThan(1);
    expect(errorRate.at(-1)).toMatchObject({ verdict: 'fail', value: expect.any(Number), evidence: { llr: expect.any(Number), upper: expect.any(Number) } });
    expect(errorRate.map((r) => r.at)).toEqual([...errorRate.map((r) => r.at)].sort());

    // Production runs v1.0.0 again, and says so on /health.
    for (const port of [prod.signal, prod.gateway, prod.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');
    const status = (await ok(ws, ['status', '--env', 'production', '--json'])).environments[0];
    expect(status.currentVersion).toBe('v1.0.0');
    expect(status.deployment).toMatchObject({ kind: 'rollback', version: 'v1.0.0', state: 'succeeded' });
    // Staging is untouched by production's rollback.
    expect((await ok(ws, ['status', '--env', 'staging', '--json'])).environments[0].currentVersion).toBe('v1.2.0');

    const events = await audit(ws);
    expect(events.find((e) => e.action === 'monitor.trigger')).toMatchObject({ env: 'production', version: 'v1.2.0', outcome: 'rolling-back', reason: expect.stringMatching(/^error-rate: /) });
    expect(events.find((e) => e.action === 'rollback.start')).toMatchObject({ env: 'production', version: 'v1.0.0', reason: expect.stringMatching(/^automatic: error-rate/) });
    expect(events.find((e) => e.action === 'incident.open')).toMatchObject({ env: 'production', version: 'v1.2.0', outcome: 'open', detail: { incidentId: monitor.incidentId, trigger: 'error-rate' } });
    expect((await ok(ws, ['audit', '--verify', '--json'])).ok).toBe(true);

    // v1.2.0 is bad in production now: its passed staging soak does not get it promoted again.
    const again = await ws.run(['promote', 'production', '--version', 'v1.2.0', '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(3);
    const error = again.json().error;
    expect(error.message).toMatch(/v1\.2\.0 was marked bad in production/);
    expect(error.checks).toEqual(expect.arrayContaining([
      expect.objectContaining({ requirement: 'staging soak passed', met: true }),
      expect.objectContaining({ requirement: 'v1.2.0 not rolled back from production', met: false }),
    ]));
    expect((await audit(ws)).filter((e) => e.action === 'promote.refused' && e.version === 'v1.2.0' && /marked bad in production/.test(e.reason))).toHaveLength(1);
    // Nor does a plain deploy, which skips promote's gates: it too refuses a release marked bad there.
    const plain = await ws.run(['deploy', 'production', '--version', 'v1.2.0', '--json']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(3);
    expect(plain.json().error.message).toMatch(/^v1\.2\.0 is marked bad in production since \S+: rolled back: automatic: error-rate/);
    expect(plain.json().error.hint).toContain('--allow-bad --reason');
    expect((await audit(ws)).filter((e) => e.env === 'production' && e.action === 'deploy.start' && e.version === 'v1.2.0')).toHaveLength(1);
    expect(await healthVersion(prod.gateway)).toBe('v1.0.0');
  }, scaled(360_000));
});

describe('shipgate serve: the controller daemon', () => {
  it('leads the store (a `watch` beside it is refused), and a restarted daemon resumes the same soak after the first was SIGKILLed', async () => {
    // The soak is long enough to hold a deliberate outage of the controller (counted as inconclusive).
    ws = await stackWorkspace(['staging'], ['v1.0.0'], { analysis: true, patch: shortWatches({ standard: '24s', maxInconclusive: '75%' }) });
    const dir = ws.dir;
    const first = serve(dir);
    await first.waitFor(/controller running \(pid \d+\)/);
    expect(first.output()).toContain(`pid ${first.child.pid}`);
    await first.waitFor(/leading as generation 1\b/);

    // A second `serve` would stand by (test/ha-controller.test.ts); a foreground `watch` is refused.
    const second = await ws.run(['watch', '--json']);
    expect(second.code, second.stdout + second.stderr).toBe(3);
    expect(second.json().error.message).toMatch(/a controller already runs on this store/);
    expect(isAlive(first.child.pid!)).toBe(true);

    const traffic = load(ws.ports.staging!.gateway);
    let restarted: Daemon | undefined;
    try {
      await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
      const evaluating = await until('the daemon to evaluate 2 s of the soak', () => storedWatch(dir, 'soak', 'v1.0.0'), (w) => ((w?.data as SoakData | undefined)?.evaluatedMs ?? 0) >= 2000, 40_000);
      expect(evaluating!.state).toBe('running');

      // Killed in the middle of the soak, with no chance to clean up.
      first.child.kill('SIGKILL');
      expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const frozen = (await storedSoak(dir, evaluating!.id))!;
      expect(frozen.state).toBe('running');
      const evaluationsBefore = frozen.data.checks['error-rate']!.history.reduce((n, h) => n + h.count, 0);
      // The lease still names the dead daemon.
      expect(await controllerLease(dir)).toMatchObject({ pid: first.child.pid });

      // Nobody watches for at least 3 s (more than 5 evaluation intervals), which must count as
      // inconclusive; meanwhile, what `soak status` says of the orphaned soak.
      const lastLook = frozen.data.lastEvaluatedRealMs!;
      const [statusNow] = await Promise.all([ok(ws, ['soak', 'status', '--json']), new Promise((r) => setTimeout(r, Math.max(0, lastLook + 3000 - Date.now())))]);
      const outageMs = Date.now() - lastLook;
      const [soak] = statusNow.soaks;
      expect(soak).toMatchObject({ id: evaluating!.id, version: 'v1.0.0', state: 'running', requiredMs: 24_000, startedAt: frozen.startedAt });
      expect(soak.inconclusiveShare).toBeCloseTo(frozen.data.inconclusiveMs / frozen.data.evaluatedMs, 6);
      expect(soak.inconclusiveShare).toBeLessThan(1);
      expect(gate(soak, 'error-rate').history.some((h: any) => h.verdict === 'pass')).toBe(true);

      restarted = serve(dir);
      await restarted.waitFor(/controller running \(pid \d+\)/);
      await restarted.waitFor(/leading as generation 2 \(took over from /);
      expect(await controllerLease(dir)).toMatchObject({ pid: restarted.child.pid, generation: 2 });
      await restarted.waitFor(new RegExp(`soak #${soak.id} staging v1\\.0\\.0: (passed|failed|aborted)`), 60_000);
      expect(restarted.output()).toMatch(new RegExp(`soak #${soak.id} staging v1\\.0\\.0: passed`));

      const done = (await storedSoak(dir, soak.id))!;
      expect(done.state).toBe('passed');
      expect(done.startedAt).toBe(soak.startedAt);
      // Resumed, not restarted: the evaluated time, the counters' starting point and the verdict
      // history carry on from where the killed daemon left them.
      expect(done.data.checks['error-rate']!.start).toEqual(frozen.data.checks['error-rate']!.start);
      expect(done.data.checks['error-rate']!.history.reduce((n, h) => n + h.count, 0)).toBeGreaterThan(evaluationsBefore);
      expect(done.data.evaluatedMs).toBeGreaterThanOrEqual(frozen.data.evaluatedMs + outageMs);
      expect(done.data.inconclusiveMs - frozen.data.inconclusiveMs).toBeGreaterThanOrEqual(outageMs);
    } finally {
      await traffic.stop();
    }

    const soaks = (await ok(ws, ['soak', 'status', '--json'])).soaks;
    expect(soaks).toHaveLength(1);
    expect(soaks[0]).toMatchObject({ state: 'passed', verdict: 'passed' });
    expect(soaks[0].elapsedMs).toBeGreaterThanOrEqual(24_000);

    restarted!.child.kill('SIGTERM');
    expect(await restarted!.exited).toEqual({ code: 0, signal: null });
    // A clean stop gives the lease up (it ends now), keeping the generation for the next leader.
    const lease = await controllerLease(dir);
    expect(lease).toMatchObject({ pid: restarted!.child.pid, generation: 2 });
    expect(Date.parse(lease!.leaseUntil)).toBeLessThanOrEqual(Date.now());

    const events = await audit(ws);
    const controller = events.filter((e) => e.action.startsWith('controller.'));
    expect(controller.map((e) => [e.action, e.detail.pid, e.detail.previousPid ?? null])).toEqual([
      ['controller.start', first.child.pid, null],
      ['controller.lead', first.child.pid, null],
      ['controller.start', restarted!.child.pid, null],
      // The restarted daemon records that it took the dead one's lease.
      ['controller.lead', restarted!.child.pid, first.child.pid],
      ['controller.stop', restarted!.child.pid, null],
    ]);
    expect(events.filter((e) => e.action === 'soak.finish')).toEqual([expect.objectContaining({ outcome: 'passed', detail: expect.objectContaining({ soakId: soaks[0].id }) })]);
  }, scaled(180_000));
});
