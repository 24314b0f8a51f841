// Promotion to production through the built CLI on the real sample stack: every requirement
// (soak, not redeployed, not rolled back, preflight, rollback plan, on-call, window, approval) is
// listed when unmet, the happy path tags the release, and the emergency path bypasses only the
// window with two distinct approvers. Windows follow the real clock, so shipgate.yml controls
// them: a freeze around "now" closes the window, `enforce: false` opens it.
import { execFileSync, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { runLoad } from '../demo/stack/base/loadgen.mjs';
import { addRelease } from './harness/git.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { BIN, type CliResult } from './harness/cli.js';
import { scaled } from './harness/pace.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const show = (args: string[], r: CliResult) => `shipgate ${args.join(' ')} -> exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

function replaceOnce(text: string, from: string, to: string): string {
  if (!text.includes(from)) throw new Error(`the generated shipgate.yml no longer contains ${JSON.stringify(from)}; update the test's patch`);
  return text.replace(from, to);
}

interface Setup {
  /** closed: window enforced and a change freeze from an hour ago to an hour from now. */
  window: 'open' | 'closed';
  /** Whether production names an on-call engineer in shipgate.yml. */
  onCall: boolean;
}

const FREEZE = { from: new Date(Date.now() - 3_600_000).toISOString(), to: new Date(Date.now() + 3_600_000).toISOString() };

/**
 * The demo's analysis config with a 3 s staging soak (and a lenient latency bound), production
 * without a monitor (nothing here watches production) and the window/on-call setup.
 */
function promoteConfig(setup: Setup) {
  return (yaml: string): string => {
    let out = replaceOnce(yaml, '    soak: { maxInconclusive: 10% }', '    soak: { standard: 3s, maxInconclusive: 50% }');
    // The gates are analysis.test.ts's subject; here a soak only has to pass, also on a machine so
    // busy that a healthy release's p95 goes past the demo's 500 ms.
    const latency = /(name: latency-p95, type: latency, [^\n]*?)max: 500ms/;
    if (!latency.test(out)) throw new Error('the generated shipgate.yml no longer has the latency-p95 gate with max: 500ms; update the test\'s patch');
    out = out.replace(latency, '$1max: 5s');
    out = replaceOnce(out, '    monitor: { autoRollback: true, healthGrace: 30s, medium: 72h }\n', '');
    out = replaceOnce(out, '    onCall: [demo-oncall]\n', setup.onCall ? '    onCall: [demo-oncall]\n' : '');
    out = replaceOnce(out, '    window: { enforce: false }\n', setup.window === 'open' ? '    window: { enforce: false }\n' : '    window: { enforce: true }\n');
    if (setup.window === 'closed') out = `${out.endsWith('\n') ? out : `${out}\n`}calendar:\n  freezes:\n    - { from: "${FREEZE.from}", to: "${FREEZE.to}", reason: "test freeze" }\n`;
    return out;
  };
}

let ws: StackWorkspace | undefined;
afterEach(async () => {
  await ws?.cleanup();
  ws = undefined;
});

async function workspace(setup: Setup, releases = ['v1.0.0', 'v1.1.0']): Promise<StackWorkspace> {
  ws = await stackWorkspace(['staging', 'production'], releases, { analysis: true, patch: promoteConfig(setup) });
  return ws;
}

async function ok(w: StackWorkspace, args: string[]): Promise<any> {
  const res = await w.run(args);
  expect(res.code, show(args, res)).toBe(0);
  return args.includes('--json') ? res.json() : res.stdout;
}

/** A refusal (exit 3) as JSON: the error object. */
async function refusedWith(w: StackWorkspace, args: string[]): Promise<any> {
  const res = await w.run(args);
  expect(res.code, show(args, res)).toBe(3);
  const out = res.json();
  expect(out.ok).toBe(false);
  expect(out.error.exitCode).toBe(3);
  return out.error;
}

const unmet = (error: any): string[] => error.checks.filter((c: any) => !c.met).map((c: any) => c.requirement).sort();
const check = (error: any, requirement: string): any => error.checks.find((c: any) => c.requirement === requirement);
const audit = async (w: StackWorkspace): Promise<any[]> => (await ok(w, ['audit', '--json'])).events;
const approvals = async (w: StackWorkspace, all = false): Promise<any[]> => (await ok(w, ['approvals', '--env', 'production', ...(all ? ['--all'] : []), '--json'])).approvals;

/**
 * Deploys `version` to staging and soaks it under steady order flow until the soak passes. The
 * controller (`shipgate serve`) runs before the deploy: a CLI process can take seconds to start on
 * a busy machine, longer than this 3 s soak, and a soak nobody watched is (rightly) inconclusive.
 */
async function soakToPass(w: StackWorkspace, version: string): Promise<void> {
  const controller = spawn(process.execPath, [BIN, 'serve'], { cwd: w.dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  controller.stdout.on('data', (d) => (out += d));
  controller.stderr.on('data', (d) => (err += d));
  const exited = new Promise<void>((resolve) => controller.once('close', () => resolve()));
  const until = async (what: string, done: () => boolean) => {
    const deadline = Date.now() + scaled(60_000);
    while (!done()) {
      expect(Date.now() < deadline && controller.exitCode === null, `shipgate serve: ${what}\nstdout:\n${out}\nstderr:\n${err}`).toBe(true);
      await sleep(100);
    }
  };
  const ac = new AbortController();
  const traffic = runLoad({ url: `http://127.0.0.1:${w.ports.staging!.gateway}`, rps: 50, durationSeconds: 0, signal: ac.signal, timeoutMs: 2000 });
  try {
    await until('did not start', () => out.includes('shipgate controller running'));
    // The deploy measures the release it replaces as the baseline (its counters since it started):
    // on a busy machine the steady flow may not yet have reached it 20 times, and a soak with an
    // unusable baseline is rightly inconclusive. A counted burst makes the baseline measurable.
    const burst = await runLoad({ url: `http://127.0.0.1:${w.ports.staging!.gateway}`, rps: 100, total: 60, durationSeconds: 0, timeoutMs: 5000 });
    if (await stagingRuns(w)) expect(burst.ok, `orders accepted by the release staging runs: ${JSON.stringify(burst)}`).toBeGreaterThanOrEqual(40);
    expect(await ok(w, ['deploy', 'staging', '--version', version, '--json'])).toMatchObject({ ok: true, version });
    // "soak #ID staging VERSION: STATE — REASON", one line per finished soak; an earlier soak of
    // the same version (superseded by this deploy) may finish too.
    const verdict = () => [...out.matchAll(/^soak #(\d+) staging (\S+): (\w+)(?: — (.*))?$/gm)].map((m) => ({ id: Number(m[1]), version: m[2], state: m[3], reason: m[4] }));
    // Newest first: the soak this deploy started.
    const [newest] = (await ok(w, ['soak', 'status', '--json'])).soaks;
    expect(newest).toMatchObject({ env: 'staging', version });
    const mine: number = newest.id;
    await until(`no verdict on soak #${mine}`, () => verdict().some((v) => v.id === mine));
    // On failure, the soak's own reason (and the controller's output) say which gate and why.
    expect(verdict().find((v) => v.id === mine), `shipgate serve:\n${out}\n${err}`).toMatchObject({ version, state: 'passed' });
  } finally {
    ac.abort();
    await traffic;
    if (controller.exitCode === null) controller.kill('SIGTERM');
    await exited;
  }
}

/** Whether staging has a release running (the first deploy has nothing to measure). */
async function stagingRuns(w: StackWorkspace): Promise<boolean> {
  const { environments } = await ok(w, ['status', '--env', 'staging', '--json']);
  return Boolean(environments.find((e: any) => e.env === 'staging')?.currentVersion);
}

/** Attests what this sample has no CI or GitHub for, then runs the preflight that promote reads. */
async function preflightPassed(w: StackWorkspace, version: string): Promise<void> {
  // Side by side, as several people would. Each exits 1 or 0: the preflight run after an
  // attestation fails until the others are in.
  const items = ['ci', 'code-reviewed', 'stakeholders-notified', 'migrations-tested'];
  const attested = await Promise.all(items.map((item) => w.run(['preflight', version, '--env', 'production', '--attest', item, '--by', 'x', '--json'])));
  attested.forEach((res, i) => expect([0, 1], show(['preflight', version, '--attest', items[i]!], res)).toContain(res.code));
  const preflight = await ok(w, ['preflight', version, '--env', 'production', '--json']);
  expect(preflight).toMatchObject({ version, env: 'production', passed: true });
  expect(preflight.items.find((i: any) => i.item === 'rollback-plan')).toMatchObject({ status: 'pass', evidence: `docs/rollback/${version}.md in ${version}` });
}

const pendingRequest = async (w: StackWorkspace, action: string, version: string): Promise<any> => {
  const found = (await approvals(w)).filter((a) => a.action === action && a.subject === version && a.state === 'pending');
  expect(found, `pending ${action} requests for ${version}`).toHaveLength(1);
  return found[0];
};

const git = (repo: string, ...args: string[]) => execFileSync('git', ['-C', repo, ...args], { encoding: 'utf8' }).trim();

describe('promote: every requirement, listed when unmet', () => {
  it('refuses (exit 3) listing every unmet requirement, opens an approval request and records promote.refused', async () => {
    const w = await workspace({ window: 'closed', onCall: false });
    const window = await w.run(['window', 'check', '--env', 'production', '--json']);
    expect(window.code, show(['window', 'check'], window)).toBe(3);
    const windowNow = window.json();
    expect(windowNow).toMatchObject({ open: false, rule: 'freeze', enforced: true, freeze: { reason: 'test freeze' } });

    // Staging runs v1.0.0 but its soak has not been evaluated to a verdict: unsoaked.
    await ok(w, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    const first = await refusedWith(w, ['promote', 'production', '--json']);
    expect(first.version).toBe('v1.0.0');
    expect(unmet(first)).toEqual(['approval', 'deployment window open', 'on-call engineer named', 'preflight passed', 'rollback plan documented', 'staging soak passed'].sort());
    expect(check(first, 'staging soak passed').detail).toMatch(/^soak #\d+ of v1\.0\.0 is still running: \S+ of 3(\.0)?s \(standard\)$/);
    expect(check(first, 'preflight passed').detail).toContain('no preflight of v1.0.0 for production');
    expect(check(first, 'on-call engineer named').detail).toContain('set environments.production.onCall or pass --on-call NAME');
    const closed = check(first, 'deployment window open');
    expect(closed.detail).toContain('change freeze: test freeze');
    const nextOpen = /next open (\S+?)(?: |;|$)/.exec(closed.detail)?.[1];
    expect(nextOpen, closed.detail).toBeDefined();
    expect(new Date(nextOpen!).getTime()).toBeGreaterThanOrEqual(new Date(FREEZE.to).getTime());
    expect(nextOpen).toBe(windowNow.nextOpen);
    expect(first.message).toMatch(/^promotion of v1\.0\.0 from staging to production refused: /);

    // The refusal itself opened the approval request, for a person other than the requester.
    const request = await pendingRequest(w, 'promote', 'v1.0.0');
    expect(request).toMatchObject({ env: 'production', requester: 'tester', required: 1, approvers: [] });
    expect(check(first, 'approval').detail).toBe(`request #${request.id} has 0 of 1: \`shipgate approve ${request.id} --by NAME\``);

    // Once soaked, a different version than the soaked one is refused: it was never soaked.
    await soakToPass(w, 'v1.0.0');
    const other = await refusedWith(w, ['promote', 'production', '--version', 'v1.1.0', '--json']);
    expect(other.version).toBe('v1.1.0');
    expect(unmet(other)).toEqual(['approval', 'deployment window open', 'on-call engineer named', 'preflight passed', 'rollback plan documented', 'staging soak passed'].sort());
    expect(check(other, 'staging soak passed').detail).toBe('v1.1.0 was never soaked in staging');

    // The soaked version still lacks everything but the soak; the same request stays open (no duplicate).
    const soaked = await refusedWith(w, ['promote', 'production', '--json']);
    expect(unmet(soaked)).toEqual(['approval', 'deployment window open', 'on-call engineer named', 'preflight passed', 'rollback plan documented'].sort());
    expect(check(soaked, 'staging soak passed')).toMatchObject({ met: true, detail: expect.stringMatching(/^soak #\d+ passed: passed after/) });
    expect(check(soaked, 'staging not redeployed since the soak')).toMatchObject({ met: true });
    expect((await pendingRequest(w, 'promote', 'v1.0.0')).id).toBe(request.id);
    expect((await pendingRequest(w, 'promote', 'v1.1.0')).id).not.toBe(request.id);

    const events = await audit(w);
    const refusals = events.filter((e) => e.action === 'promote.refused');
    expect(refusals.map((e) => [e.env, e.version, e.outcome])).toEqual([
      ['production', 'v1.0.0', 'refused'],
      ['production', 'v1.1.0', 'refused'],
      ['production', 'v1.0.0', 'refused'],
    ]);
    expect(refusals[0].reason).toContain('deployment window open: change freeze: test freeze');
    expect(refusals[0].detail.checks).toEqual(first.checks);
    expect(events.filter((e) => e.action === 'approval.request').map((e) => [e.version, e.detail.for])).toEqual([
      ['v1.0.0', 'promote'],
      ['v1.1.0', 'promote'],
    ]);
    expect(events.some((e) => e.env === 'production' && /^(deploy|promote\.approved)/.test(e.action))).toBe(false);
    expect((await ok(w, ['status', '--env', 'production', '--json'])).environments[0].currentVersion).toBeNull();
  }, scaled(180_000));

  it('promotes the soaked, preflighted, approved release in an open window and tags it', async () => {
    const w = await workspace({ window: 'open', onCall: true });
    await soakToPass(w, 'v1.0.0');
    await preflightPassed(w, 'v1.0.0');

    const asked = await refusedWith(w, ['promote', 'production', '--json']);
    expect(unmet(asked)).toEqual(['approval']);
    const request = await pendingRequest(w, 'promote', 'v1.0.0');
    const approved = await ok(w, ['approve', String(request.id), '--by', 'bob', '--json']);
    expect(approved.approval).toMatchObject({ id: request.id, state: 'approved', approvers: [expect.objectContaining({ by: 'bob' })] });

    const outcome = await ok(w, ['promote', 'production', '--json']);
    expect(outcome).toMatchObject({ ok: true, env: 'production', kind: 'deploy', version: 'v1.0.0', fromVersion: null });
    expect(outcome.checks.every((c: any) => c.met)).toBe(true);
    expect(check(outcome, 'on-call engineer named').detail).toBe('demo-oncall (environments.production.onCall)');
    expect(check(outcome, 'approval').detail).toBe(`#${request.id} approved by bob`);

    const production = (await ok(w, ['status', '--env', 'production', '--json'])).environments[0];
    expect(production.currentVersion).toBe('v1.0.0');
    expect(production.services.map((s: any) => [s.service, s.healthy, s.version])).toEqual([
      ['signal_service', true, 'v1.0.0'],
      ['execution_gateway', true, 'v1.0.0'],
      ['orchestrator', true, 'v1.0.0'],
    ]);

    // The seed's `git tag -a`: an annotated tag on the released commit, saying who and why.
    expect(git(w.repoDir, 'cat-file', '-t', 'refs/tags/deploy/production/v1.0.0')).toBe('tag');
    expect(git(w.repoDir, 'rev-parse', 'deploy/production/v1.0.0^{commit}')).toBe(git(w.repoDir, 'rev-parse', 'v1.0.0^{commit}'));
    expect(git(w.repoDir, 'tag', '-l', '--format=%(contents:subject)', 'deploy/production/v1.0.0')).toBe('Release v1.0.0 to production by tester: promoted from staging');

    expect((await approvals(w, true)).find((a) => a.id === request.id)).toMatchObject({ state: 'used' });
    expect(await approvals(w)).toEqual([]);
    const events = await audit(w);
    expect(events.find((e) => e.action === 'promote.approved')).toMatchObject({ env: 'production', version: 'v1.0.0', outcome: 'ok' });
    expect(events.find((e) => e.action === 'approval.use')).toMatchObject({ version: 'v1.0.0', detail: { approvalId: request.id, for: 'promote' } });

    // An approval covers one promotion: promoting again needs a new one.
    const again = await refusedWith(w, ['promote', 'production', '--json']);
    expect(unmet(again)).toEqual(['approval']);
    expect((await pendingRequest(w, 'promote', 'v1.0.0')).id).not.toBe(request.id);
  }, scaled(180_000));

  it('lets an emergency bypass only the window, with a reason, an on-call engineer and two distinct approvers', async () => {
    const w = await workspace({ window: 'closed', onCall: false });
    await soakToPass(w, 'v1.0.0');
    await preflightPassed(w, 'v1.0.0');

    const noReason = await refusedWith(w, ['promote', 'production', '--emergency', '--json']);
    expect(unmet(noReason)).toEqual(['emergency approval', 'emergency reason', 'on-call engineer named'].sort());
    expect(check(noReason, 'emergency reason').detail).toBe('an emergency promotion needs --reason');
    expect(check(noReason, 'deployment window open')).toMatchObject({ met: true, detail: expect.stringContaining('change freeze: test freeze') });

    const emergency = ['promote', 'production', '--emergency', '--reason', 'fills not booked', '--json'];
    const noOnCall = await refusedWith(w, emergency);
    expect(unmet(noOnCall)).toEqual(['emergency approval', 'on-call engineer named'].sort());
    expect(check(noOnCall, 'deployment window open').detail).toMatch(/^closed \(change freeze: test freeze\); emergency override: fills not booked$/);

    const request = await pendingRequest(w, 'promote-emergency', 'v1.0.0');
    expect(request).toMatchObject({ requester: 'tester', required: 2, approvers: [] });
    // The requester cannot approve their own request.
    const self = await refusedWith(w, ['approve', String(request.id), '--by', 'tester', '--json']);
    expect(self.message).toBe(`tester requested #${request.id} and cannot approve it`);
    await ok(w, ['approve', String(request.id), '--by', 'bob', '--json']);

    const withOnCall = [...emergency.slice(0, -1), '--on-call', 'alice', '--json'];
    const oneApproval = await refusedWith(w, withOnCall);
    expect(unmet(oneApproval)).toEqual(['emergency approval']);
    expect(check(oneApproval, 'emergency approval').detail).toBe(`request #${request.id} has 1 of 2: \`shipgate approve ${request.id} --by NAME\``);
    // One person twice is not two people.
    const twice = await refusedWith(w, ['approve', String(request.id), '--by', 'bob', '--json']);
    expect(twice.message).toBe(`bob already approved #${request.id}`);
    const second = await ok(w, ['approve', String(request.id), '--by', 'carol', '--json']);
    expect(second.approval).toMatchObject({ state: 'approved', approvers: [expect.objectContaining({ by: 'bob' }), expect.objectContaining({ by: 'carol' })] });

    // The emergency approval does not open the window for a standard promotion.
    const standard = await refusedWith(w, ['promote', 'production', '--on-call', 'alice', '--json']);
    expect(unmet(standard)).toEqual(['approval', 'deployment window open'].sort());

    const outcome = await ok(w, withOnCall);
    expect(outcome).toMatchObject({ ok: true, env: 'production', version: 'v1.0.0' });
    expect(check(outcome, 'on-call engineer named')).toMatchObject({ met: true, detail: 'alice (--on-call)' });
    expect(check(outcome, 'emergency approval')).toMatchObject({ met: true, detail: `#${request.id} approved by bob, carol` });
    expect((await ok(w, ['status', '--env', 'production', '--json'])).environments[0].currentVersion).toBe('v1.0.0');
    const events = await audit(w);
    expect(events.find((e) => e.action === 'promote.approved')).toMatchObject({ env: 'production', version: 'v1.0.0', outcome: 'emergency', reason: 'fills not booked' });
    expect((await approvals(w, true)).find((a) => a.id === request.id)).toMatchObject({ state: 'used' });
  }, scaled(180_000));

  // Regression test for a bug found in review (src/app/promote.ts, promote()).
  it('keeps the approval when the promotion cannot start because production is locked', async () => {
    const w = await workspace({ window: 'open', onCall: true });
    await soakToPass(w, 'v1.0.0');
    await preflightPassed(w, 'v1.0.0');
    await refusedWith(w, ['promote', 'production', '--json']);
    const request = await pendingRequest(w, 'promote', 'v1.0.0');
    await ok(w, ['approve', String(request.id), '--by', 'bob', '--json']);

    await ok(w, ['lock', 'acquire', 'production', '--reason', 'maintenance', '--json']);
    const locked = await refusedWith(w, ['promote', 'production', '--json']);
    expect(locked.message).toMatch(/^production is locked by tester \(maintenance\)/);
    await ok(w, ['lock', 'release', 'production', '--json']);
    expect((await ok(w, ['status', '--env', 'production', '--json'])).environments[0].currentVersion).toBeNull();
    const events = await audit(w);
    expect(events.some((e) => e.action === 'promote.approved')).toBe(false);
    expect((await approvals(w, true)).find((a) => a.id === request.id)).toMatchObject({ state: 'approved' });
  }, scaled(180_000));

  it('refuses a version that was rolled back from production', async () => {
    const w = await workspace({ window: 'open', onCall: true }, ['v1.0.0']);
    // A healthy v1.0.1 with its rollback plan; production starts on v1.0.0.
    addRelease(w.repoDir, 'v1.0.0', 'v1.0.1', { VERSION: 'v1.0.1\n', 'docs/rollback/v1.0.1.md': '# Rollback v1.0.1\n\nshipgate rollback production --reason "..."\n' });
    await ok(w, ['deploy', 'production', '--version', 'v1.0.0', '--json']);
    await soakToPass(w, 'v1.0.1');
    await preflightPassed(w, 'v1.0.1');
    await refusedWith(w, ['promote', 'production', '--json']);
    await ok(w, ['approve', String((await pendingRequest(w, 'promote', 'v1.0.1')).id), '--by', 'bob', '--json']);
    expect(await ok(w, ['promote', 'production', '--json'])).toMatchObject({ ok: true, version: 'v1.0.1', fromVersion: 'v1.0.0' });

    const back = await ok(w, ['rollback', 'production', '--reason', 'fills not booked after v1.0.1', '--json']);
    expect(back).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0', fromVersion: 'v1.0.1' });

    // Everything else is in order (a fresh approval too): only the rollback stands in the way.
    await refusedWith(w, ['promote', 'production', '--json']);
    await ok(w, ['approve', String((await pendingRequest(w, 'promote', 'v1.0.1')).id), '--by', 'bob', '--json']);
    const refused = await refusedWith(w, ['promote', 'production', '--json']);
    expect(refused.version).toBe('v1.0.1');
    expect(unmet(refused)).toEqual(['v1.0.1 not rolled back from production']);
    expect(check(refused, 'v1.0.1 not rolled back from production').detail).toBe('v1.0.1 was marked bad in production: rolled back: fills not booked after v1.0.1; a newer release must pass staging');
    expect((await ok(w, ['status', '--env', 'production', '--json'])).environments[0].currentVersion).toBe('v1.0.0');
    // The approval was not spent on a refused promotion.
    expect((await approvals(w)).filter((a) => a.subject === 'v1.0.1').map((a) => a.state)).toEqual(['approved']);
  }, scaled(180_000));
});
