// Soaks and promotion on the real sample stack, through the built CLI: every command is its own
// process with a real clock, so the soak in shipgate.yml is seconds long instead of 24 hours.
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import { isAlive } from '../src/adapters/targets/process/pids.js';
import type { SoakData } from '../src/app/analysis/watch-data.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { load, ok, promoteCleared, shortWatches } from './harness/watches.js';
import type { LoadSummary } from '../demo/stack/base/loadgen.mjs';
import { scaled } from './harness/pace.js';

const GATES = ['error-rate', 'latency-p95', 'orchestrator'];


const soaks = async (ws: StackWorkspace): Promise<any[]> => (await ok(ws, ['soak', 'status', '--json'])).soaks;
const audit = async (ws: StackWorkspace): Promise<any[]> => (await ok(ws, ['audit', '--json'])).events;

/** `shipgate watch --json` until no soak or monitor runs; its JSON lines, one per finished watch. */
async function watch(ws: StackWorkspace): Promise<any[]> {
  const res = await ws.run(['watch', '--json']);
  expect(res.code, `shipgate watch\n${res.stdout}\n${res.stderr}`).toBe(0);
  return res.stdout.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

/** The soak as the store keeps it (with each reading's value and the sequential test's state). */
async function storedSoak(ws: StackWorkspace, id: number): Promise<SoakData> {
  const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(ws.dir, '.shipgate', 'state.db') });
  try {
    return (await store.getWatch(id))!.data as SoakData;
  } finally {
    await store.close();
  }
}

const gate = (soak: any, name: string) => soak.gates.find((g: any) => g.name === name);
const verdictsOf = (g: any): string[] => g.history.map((h: any) => h.verdict);

let ws: StackWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

describe('staging soak and promotion (real stack, built CLI)', () => {
  it('soaks v1.0.0 under traffic to a pass, then promotes it to production where a monitor starts', async () => {
    ws = await stackWorkspace(['staging', 'production'], ['v1.0.0', 'v1.1.0'], { analysis: true, patch: shortWatches({ standard: '20s' }) });
    const traffic = load(ws.ports.staging!.gateway);
    let finished: any[];
    try {
      await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
      // Straight into the controller: every second before its first look is unobserved time.
      finished = await watch(ws);
      expect(finished).toEqual([expect.objectContaining({ kind: 'soak', env: 'staging', version: 'v1.0.0', state: 'passed' })]);
    } finally {
      await traffic.stop();
    }

    const [soak] = await soaks(ws);
    expect(soak.id).toBe(finished[0].id);
    expect(soak).toMatchObject({ env: 'staging', version: 'v1.0.0', soakClass: 'standard', state: 'passed', verdict: 'passed', requiredMs: 20_000 });
    expect(soak.elapsedMs).toBeGreaterThanOrEqual(20_000);
    expect(soak.inconclusiveShare).toBeLessThanOrEqual(0.75);
    expect(soak.reason).toMatch(/^passed after/);
    expect(soak.gates.map((g: any) => g.name).sort()).toEqual(GATES);
    for (const g of soak.gates) {
      expect(Array.isArray(g.history), g.name).toBe(true);
      expect(g.history.length, g.name).toBeGreaterThan(0);
      for (const run of g.history) expect(run).toMatchObject({ verdict: expect.stringMatching(/^(pass|fail|inconclusive)$/), count: expect.any(Number) });
      expect(verdictsOf(g), g.name).not.toContain('fail');
      expect(g.verdict, g.name).toBe('pass');
    }
    // The rate gate decided on evidence: it passed, after counting real requests.
    expect(gate(soak, 'error-rate').reason).toMatch(/error rate 0\.00% over \d+ requests/);

    const events = await audit(ws);
    const start = events.find((e) => e.action === 'soak.start');
    expect(start).toMatchObject({ env: 'staging', version: 'v1.0.0', outcome: 'started', detail: { soakId: soak.id, required: soak.required, soakClass: 'standard' } });
    expect(events.find((e) => e.action === 'soak.finish')).toMatchObject({ env: 'staging', version: 'v1.0.0', outcome: 'passed', detail: { soakId: soak.id } });

    // Promotion takes what staging soaked (no --version).
    const outcome = await promoteCleared(ws, 'v1.0.0');
    expect(outcome).toMatchObject({ ok: true, env: 'production', kind: 'deploy', version: 'v1.0.0', fromVersion: null });
    expect(outcome.checks).toEqual(expect.arrayContaining([expect.objectContaining({ requirement: 'staging soak passed', met: true, detail: expect.stringContaining(`soak #${soak.id} passed`) })]));
    expect(outcome.checks.every((c: any) => c.met)).toBe(true);
    const production = (await ok(ws, ['status', '--env', 'production', '--json'])).environments[0];
    expect(production.currentVersion).toBe('v1.0.0');
    expect(production.services.map((s: any) => [s.service, s.healthy, s.version])).toEqual([
      ['signal_service', true, 'v1.0.0'],
      ['execution_gateway', true, 'v1.0.0'],
      ['orchestrator', true, 'v1.0.0'],
    ]);
    const monitors = (await ok(ws, ['monitors', '--json'])).monitors;
    expect(monitors).toEqual([expect.objectContaining({ env: 'production', version: 'v1.0.0', state: 'running', autoRollback: true })]);
    expect((await audit(ws)).map((e) => e.action)).toEqual(expect.arrayContaining(['promote.approved', 'monitor.start']));
    // Promotion starts no soak in production (it has none configured) and leaves the staging soak as it was.
    expect((await soaks(ws)).map((s) => [s.id, s.env, s.state])).toEqual([[soak.id, 'staging', 'passed']]);
  }, scaled(300_000));

  it('fails the v1.1.0 soak on the error-rate gate and refuses to promote it (exit 3)', async () => {
    ws = await stackWorkspace(['staging', 'production'], ['v1.0.0', 'v1.1.0'], { analysis: true, patch: shortWatches({ standard: '40s' }) });
    const traffic = load(ws.ports.staging!.gateway);
    let sent: LoadSummary;
    try {
      await ok(ws, ['deploy', 'staging', '--version', 'v1.1.0', '--json']);
      const finished = await watch(ws);
      expect(finished).toEqual([expect.objectContaining({ kind: 'soak', version: 'v1.1.0', state: 'failed', reason: expect.stringContaining('error-rate') })]);
    } finally {
      sent = await traffic.stop();
    }
    expect(sent.byStatus['500'] ?? 0).toBeGreaterThan(0);

    const [soak] = await soaks(ws);
    expect(soak).toMatchObject({ version: 'v1.1.0', state: 'failed', verdict: 'failed' });
    // Either the sequential test decides mid-soak ("failed at once"), or, when a late controller
    // saw too few requests for it, the whole-soak rate is over the 1% target at the end.
    expect(soak.reason).toMatch(/^gate error-rate( failed)?: error rate (\d+\.\d+)% over \d+ requests/);
    expect(Number(/error rate (\d+\.\d+)%/.exec(soak.reason)![1])).toBeGreaterThan(1);
    const rate = gate(soak, 'error-rate');
    expect(verdictsOf(rate)).not.toEqual(['inconclusive']);
    if (soak.reason.startsWith('gate error-rate failed')) expect(rate.verdict).toBe('fail');

    const refused = await ws.run(['promote', 'production', '--version', 'v1.1.0', '--json']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    const error = refused.json().error;
    expect(error.exitCode).toBe(3);
    expect(error.message).toContain(`soak #${soak.id} of v1.1.0 failed`);
    expect(error.message).toContain('[gate error-rate]');
    expect(error.checks).toEqual(expect.arrayContaining([expect.objectContaining({ requirement: 'staging soak passed', met: false, detail: expect.stringContaining('gate error-rate') })]));

    const events = await audit(ws);
    expect(events.find((e) => e.action === 'soak.finish')).toMatchObject({ outcome: 'failed', detail: { soakId: soak.id, failedCheck: 'error-rate' } });
    expect(events.find((e) => e.action === 'promote.refused')).toMatchObject({ env: 'production', version: 'v1.1.0', outcome: 'refused', reason: expect.stringContaining('error-rate') });
    expect(events.some((e) => e.env === 'production' && e.action === 'deploy.start')).toBe(false);
    const production = (await ok(ws, ['status', '--env', 'production', '--json'])).environments[0];
    expect(production.currentVersion).toBeNull();

    // The failed soak marked v1.1.0 bad in staging: deploying it there again is refused (exit 3)...
    const again = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(3);
    expect(again.json().error.message).toMatch(new RegExp(`^v1\\.1\\.0 is marked bad in staging since \\S+: soak #${soak.id} failed: gate error-rate`));
    expect(again.json().error.hint).toContain('--allow-bad --reason');
    // ...and once staging runs v1.0.0, a rollback has no good version to go to: never v1.1.0.
    await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    const staging = (await ok(ws, ['status', '--env', 'staging', '--json'])).environments[0];
    expect([staging.currentVersion, staging.previousGoodVersion]).toEqual(['v1.0.0', null]);
    const nowhere = await ws.run(['rollback', 'staging', '--reason', 'x', '--json']);
    expect(nowhere.code, nowhere.stdout + nowhere.stderr).toBe(1);
    expect(nowhere.json().error.message).toBe('no earlier good version of staging is known (it runs v1.0.0)');
  }, scaled(180_000));

  it('restarts the soak when staging is redeployed before it finishes', async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], { analysis: true, patch: shortWatches({ standard: '1h' }) });
    await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    const [first] = await soaks(ws);
    expect(first).toMatchObject({ version: 'v1.0.0', state: 'running' });

    await ok(ws, ['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    const [second, old] = await soaks(ws);
    expect(old).toMatchObject({ id: first.id, version: 'v1.0.0', state: 'aborted', verdict: 'aborted' });
    expect(old.reason).toMatch(/superseded by a deploy of v1\.1\.0/);
    expect(second).toMatchObject({ version: 'v1.1.0', state: 'running', requiredMs: 3_600_000 });
    expect(second.id).not.toBe(first.id);
    expect(new Date(second.startedAt).getTime()).toBeGreaterThan(new Date(first.startedAt).getTime());

    // Redeploying the same version restarts it too: the soak covers one deployment, not a tag.
    await ok(ws, ['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    const [third, secondNow] = await soaks(ws);
    expect(secondNow).toMatchObject({ id: second.id, state: 'aborted' });
    expect(third).toMatchObject({ version: 'v1.1.0', state: 'running' });
    expect(third.id).not.toBe(second.id);

    const events = await audit(ws);
    expect(events.filter((e) => e.action === 'soak.abort').map((e) => [e.version, e.detail.watchId])).toEqual([
      ['v1.0.0', first.id],
      ['v1.1.0', second.id],
    ]);
    expect(events.filter((e) => e.action === 'soak.start')).toHaveLength(3);
  }, scaled(180_000));

  it('does not pass a soak that saw no traffic: inconclusive is never a pass', async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0'], { analysis: true, patch: shortWatches({ maxInconclusive: '10%' }) });
    await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    const finished = await watch(ws);
    expect(finished).toEqual([expect.objectContaining({ kind: 'soak', version: 'v1.0.0', state: 'failed' })]);

    const [soak] = await soaks(ws);
    expect(soak.state).toBe('failed');
    expect(soak.reason).toMatch(/^inconclusive for [\d.]+% of the soak \(at most 10\.0% allowed\)/);
    expect(Number(/inconclusive for ([\d.]+)%/.exec(soak.reason)![1])).toBeGreaterThan(10);
    // Health probes and metric scrapes are traffic too, but not order traffic: the error-rate gate
    // never decided. (The latency gate has no route label to select on, so it does count the
    // controller's own scrapes; whatever it says, one inconclusive gate makes the tick inconclusive.)
    const rate = gate(soak, 'error-rate');
    expect(rate.verdict).toBe('inconclusive');
    expect(verdictsOf(rate)).toEqual(['inconclusive']);
    expect(rate.reason).not.toMatch(/error rate 0\.00%/);
    expect((await audit(ws)).find((e) => e.action === 'soak.finish')).toMatchObject({ outcome: 'failed', reason: expect.stringContaining('inconclusive') });
  }, scaled(180_000));

  // A controller that starts halfway through a soak. The outcome is judged by the next test.
  let late: { soak: any; watchFrom: number } | undefined;
  it('runs a soak whose controller starts only halfway through', async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0'], { analysis: true, patch: shortWatches({ standard: '24s', maxInconclusive: '30%' }) });
    const traffic = load(ws.ports.staging!.gateway);
    let watchFrom = 0;
    try {
      await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
      // No controller for the first 8 s of the soak, while traffic flows all along.
      await new Promise((r) => setTimeout(r, 8000));
      watchFrom = Date.now();
      await watch(ws);
    } finally {
      await traffic.stop();
    }
    const [soak] = await soaks(ws);
    expect(['passed', 'failed']).toContain(soak.state);
    late = { soak, watchFrom };
  }, scaled(180_000));

  // The time between the soak's start and the controller's first evaluation was nobody's watch:
  // it counts as inconclusive, so a controller that starts late cannot pass the soak on its last seconds.
  it('does not pass a soak most of which no controller watched', () => {
    expect(late, 'the previous test did not run').toBeDefined();
    const { soak, watchFrom } = late!;
    // Whatever the rule, a pass needs (1 - maxInconclusive) of the required 24 s watched; the
    // launch of `watch` is an upper bound on when watching began.
    const watchedUntilVerdictMs = new Date(soak.startedAt).getTime() + soak.elapsedMs - watchFrom;
    if (soak.state === 'passed') expect(watchedUntilVerdictMs, soak.reason).toBeGreaterThanOrEqual(0.7 * 24_000);
    else expect(soak.reason).toMatch(/inconclusive/);
  });

  it('reads a dead metrics source as an error, never as a pass or a zero error rate, and fails the soak after consecutiveErrors', async () => {
    ws = await stackWorkspace(['staging'], ['v1.0.0'], { analysis: true, patch: shortWatches() });
    const gatewayPort = ws.ports.staging!.gateway;
    await ok(ws, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    const gatewaySvc = (await ok(ws, ['status', '--env', 'staging', '--json'])).environments[0].services.find((s: any) => s.service === 'execution_gateway');
    expect(gatewaySvc.pid).toEqual(expect.any(Number));
    process.kill(gatewaySvc.pid, 'SIGKILL');
    const deadline = Date.now() + scaled(5000);
    while (isAlive(gatewaySvc.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(isAlive(gatewaySvc.pid)).toBe(false);

    const traffic = load(gatewayPort);
    try {
      const finished = await watch(ws);
      expect(finished).toEqual([expect.objectContaining({ kind: 'soak', version: 'v1.0.0', state: 'failed' })]);
    } finally {
      await traffic.stop();
    }
    const [soak] = await soaks(ws);
    expect(soak.state).toBe('failed');
    // The scrape fails (connection refused): every metric gate errs, and four errors in a row
    // (analysis.consecutiveErrors' default) fail the soak; no reading ever became a number.
    expect(soak.reason).toMatch(/failed 4 times in a row \(consecutiveErrors 4\)/);
    for (const name of GATES) {
      const g = gate(soak, name);
      expect(g.verdict, name).toBe('fail');
      expect(verdictsOf(g), name).toEqual(['error', 'fail']);
      expect(g.errors, name).toEqual({ consecutive: 4, total: 4 });
    }
    const rate = gate(soak, 'error-rate');
    expect(rate.reason).toContain(String(gatewayPort));
    const stored = await storedSoak(ws, soak.id);
    const latest = stored.latest.find((r) => r.name === 'error-rate')!;
    expect(latest.verdict).toBe('fail');
    expect(latest.value).toBeUndefined();
    expect(latest.evidence).toEqual({ gate: 'consecutiveErrors', threshold: 4, value: 4 });
    expect(stored.checks['error-rate']?.sprt).toBeUndefined();
    expect(stored.checks['error-rate']?.healthySeen).toBe(false);
    expect(stored.inconclusiveMs).toBe(stored.evaluatedMs);
  }, scaled(180_000));
});
