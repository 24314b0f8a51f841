// Honest evidence on a stack that was not written alongside shipgate: the Python quote service in
// test/fixtures/pystack (its own /healthz, app_requests_total{route,status},
// app_request_latency_seconds, built-in traffic, releases as git tags), deployed by the CLI as
// real processes. Each test watches seconds-long soaks and monitors in the foreground.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import { BIN } from './harness/cli.js';
import { startWebhookReceiver, type WebhookReceiver } from './fakes/webhook-receiver.js';
import { pyWorkspace, type PyWorkspace } from './harness/pystack.js';
import { scaled } from './harness/pace.js';

let ws: PyWorkspace | undefined;
let receiver: WebhookReceiver | undefined;
let daemon: ChildProcess | undefined;
afterEach(async () => {
  if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
    const exited = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  }
  daemon = undefined;
  await ws?.cleanup();
  ws = undefined;
  await receiver?.close();
  receiver = undefined;
});

async function ok(args: string[]): Promise<any> {
  const res = await ws!.run(args);
  expect(res.code, `shipgate ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
  return args.includes('--json') ? res.json() : res.stdout;
}

/** Waits until the running release has answered at least n API requests (its own traffic), read from its /metrics. */
async function served(port: number, n: number, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    try {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
      const total = text.split('\n').filter((l) => l.startsWith('app_requests_total{route="/api/quote"')).reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
      if (total >= n) return total;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`port ${port} did not serve ${n} API requests within ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function build(port: number): Promise<string | undefined> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })).json()) as { build?: string }).build;
  } catch {
    return undefined;
  }
}

/**
 * The controller daemon, started before the deploys so it evaluates each soak and monitor from
 * its first second (a foreground `watch` started after a deploy could first look seconds late).
 */
async function serve(env: NodeJS.ProcessEnv = {}): Promise<void> {
  daemon = spawn(process.execPath, [BIN, 'serve'], { cwd: ws!.dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  daemon.stdout!.on('data', (d) => (out += d));
  daemon.stderr!.on('data', (d) => (out += d));
  for (const deadline = Date.now() + scaled(40_000); !/controller running/.test(out); await new Promise((r) => setTimeout(r, 50))) {
    if (daemon.exitCode !== null || Date.now() > deadline) throw new Error(`shipgate serve did not start:\n${out}`);
  }
}

/** The newest watch of a kind, env and version, read from the store (no CLI start-up in a polling loop). */
async function newestWatch(kind: 'soak' | 'monitor', env: string, version: string) {
  const store = await openStore({ url: process.env[DATABASE_URL_VARIABLE], sqliteFile: path.join(ws!.dir, '.shipgate', 'state.db') });
  try {
    return (await store.listWatches({ kind, env, limit: 20 })).find((x) => x.version === version);
  } finally {
    await store.close();
  }
}

/** That watch once it is no longer running. */
async function finished(kind: 'soak' | 'monitor', env: string, version: string, timeoutMs = 180_000) {
  for (const deadline = Date.now() + scaled(timeoutMs); ; await new Promise((r) => setTimeout(r, 250))) {
    const w = await newestWatch(kind, env, version);
    if (w && w.state !== 'running') return w;
    if (Date.now() > deadline) throw new Error(`the ${kind} of ${version} in ${env} did not finish: ${JSON.stringify(w)?.slice(0, 2000)}`);
  }
}

const gate = (soak: any, name: string) => soak.gates.find((g: any) => g.name === name);
const audit = async (): Promise<any[]> => (await ok(['audit', '--json'])).events;

// Soaks that must fail end at the failure; the one that cannot decide ends at its length.
const SOAK = '    soak: { standard: 45s, maxInconclusive: 50% }';
const MONITOR = (extra = '') => `    monitor: { autoRollback: true, immediate: 1s, short: 60s, medium: 90s, healthGrace: 5s${extra} }`;

describe('pystack: latency +60% over the previous release', () => {
  it('fails the staging soak on maxIncrease with the baseline and measured p95 in the evidence, and production rolls back on rollbackIncrease', async () => {
    ws = await pyWorkspace(['staging', 'live'], ['2026.1.0', '2026.2.0'], { envExtra: (env) => (env === 'staging' ? SOAK : MONITOR()) });
    const { staging, live } = ws.ports as { staging: number; live: number };
    await serve();
    await Promise.all([ok(['deploy', 'staging', '--version', '2026.1.0', '--json']), ok(['deploy', 'live', '--version', '2026.1.0', '--json'])]);
    // The previous release has served enough to be a baseline (its own traffic generator).
    await Promise.all([served(staging, 200), served(live, 200)]);

    await Promise.all([ok(['deploy', 'staging', '--version', '2026.2.0', '--json']), ok(['deploy', 'live', '--version', '2026.2.0', '--json'])]);
    expect(await build(staging)).toBe('2026.2.0');
    expect(await finished('soak', 'staging', '2026.2.0')).toMatchObject({ state: 'failed' });
    expect(await finished('monitor', 'live', '2026.2.0')).toMatchObject({ state: 'rolled-back' });

    const soak = (await ok(['soak', 'status', '--env', 'staging', '--json'])).soaks.find((s: any) => s.version === '2026.2.0');
    expect(soak).toMatchObject({ state: 'failed', verdict: 'failed' });
    expect(soak.reason).toMatch(/quote-p95/);
    const p95 = gate(soak, 'quote-p95');
    expect(p95.verdict).toBe('fail');
    expect(p95.reason).toMatch(/maxIncrease/);
    expect(p95.evidence).toMatchObject({ gate: 'maxIncrease', baseline: expect.any(Number), value: expect.any(Number), requests: expect.any(Number) });
    // The baseline is the previous release's p95 (100-290 ms profile), the measured one about 60% above it.
    expect(p95.evidence.baseline).toBeGreaterThan(0.25);
    expect(p95.evidence.baseline).toBeLessThan(0.32);
    expect(p95.evidence.value / p95.evidence.baseline - 1).toBeGreaterThan(0.3);
    expect(p95.reason).toContain(`${(p95.evidence.baseline * 1000).toFixed(1)}ms`);

    const [monitor] = (await ok(['monitors', '--env', 'live', '--json'])).monitors;
    expect(monitor).toMatchObject({ env: 'live', version: '2026.2.0', state: 'rolled-back', incidentId: expect.any(Number) });
    expect(monitor.trigger.check).toBe('quote-p95');
    expect(monitor.trigger.reason).toMatch(/rollbackIncrease/);
    expect(monitor.trigger.evidence).toMatchObject({ gate: 'rollbackIncrease', baseline: expect.any(Number), llr: expect.any(Number), upper: expect.any(Number) });
    expect(monitor.trigger.evidence.llr).toBeGreaterThanOrEqual(monitor.trigger.evidence.upper);
    expect(monitor.rollback).toMatchObject({ ok: true, version: '2026.1.0' });
    expect(await build(live)).toBe('2026.1.0');
    expect((await audit()).find((e) => e.action === 'rollback.start')).toMatchObject({ env: 'live', version: '2026.1.0', reason: expect.stringMatching(/^automatic: quote-p95/) });
  }, scaled(300_000));
});

describe('pystack: 8% server errors', () => {
  it('fail the soak on error rate; `code` in errors on a counter labelled status is reported by the check, not read as 0%', async () => {
    const errorsFor = (env: string) => (env === 'qa' ? 'code=~"5.."' : 'status=~"5.."');
    ws = await pyWorkspace(['staging', 'qa'], ['2026.1.0', '2026.3.0'], { errors: errorsFor, envExtra: () => SOAK });
    const { staging, qa } = ws.ports as { staging: number; qa: number };
    await serve();
    await Promise.all([ok(['deploy', 'staging', '--version', '2026.1.0', '--json']), ok(['deploy', 'qa', '--version', '2026.1.0', '--json'])]);
    await Promise.all([served(staging, 100), served(qa, 100)]);
    await Promise.all([ok(['deploy', 'staging', '--version', '2026.3.0', '--json']), ok(['deploy', 'qa', '--version', '2026.3.0', '--json'])]);

    expect(await finished('soak', 'staging', '2026.3.0')).toMatchObject({ state: 'failed' });
    expect(await finished('soak', 'qa', '2026.3.0')).toMatchObject({ state: 'failed' });
    const soaks = (await ok(['soak', 'status', '--json'])).soaks;
    const failed = soaks.find((s: any) => s.env === 'staging' && s.version === '2026.3.0');
    const errors = gate(failed, 'quote-errors');
    expect(errors.verdict).toBe('fail');
    expect(errors.reason).toMatch(/error rate [\d.]+% over \d+ requests: the sequential test favours >= 5\.00%/);
    expect(errors.evidence.errors).toBeGreaterThan(0);
    expect(errors.evidence.errors / errors.evidence.requests).toBeGreaterThan(0.05);

    // The wrong label: never "0.00%", never a pass; the reason names the labels that exist.
    const blind = gate(soaks.find((s: any) => s.env === 'qa' && s.version === '2026.3.0'), 'quote-errors');
    expect(blind.verdict).toBe('inconclusive');
    expect(blind.reason).toContain('`code` is not a label of app_requests_total; it has route, status');
    expect(blind.reason).not.toMatch(/0\.00 ?%/);
    expect(blind.history.every((h: any) => h.verdict !== 'pass')).toBe(true);

    // config check --live says the same before anything is deployed or soaked: exit 2 on the mismatch.
    const live = await ws.run(['config', 'check', '--live', 'qa', '--json']);
    expect(live.code, live.stdout + live.stderr).toBe(2);
    const report = live.json();
    expect(report).toMatchObject({ ok: false, env: 'qa' });
    const check = report.checks.find((c: any) => c.name === 'quote-errors');
    expect(check).toMatchObject({ metric: 'app_requests_total', labelsSeen: ['route', 'status'], mismatch: expect.stringContaining('`code` is not a label of app_requests_total; it has route, status (fix `errors: ') });
    expect(check.seriesMatched).toBeGreaterThan(0);
    const human = await ws.run(['config', 'check', '--live', 'qa']);
    expect(human.code).toBe(2);
    expect(human.stdout + human.stderr).toContain('`code` is not a label of app_requests_total; it has route, status');

    const right = await ws.run(['config', 'check', '--live', 'staging', '--json']);
    expect(right.code, right.stdout + right.stderr).toBe(0);
    expect(right.json()).toMatchObject({ ok: true, env: 'staging' });
    expect(right.json().checks.map((c: any) => [c.name, c.mismatch ?? null])).toEqual([['quote-errors', null], ['quote-p95', null]]);
    expect(right.json().checks.find((c: any) => c.name === 'quote-p95')).toMatchObject({ metric: 'app_request_latency_seconds', labelsSeen: ['route'] });
  }, scaled(300_000));
});

describe('pystack: the metrics endpoint dies after start', () => {
  it('makes the production monitor BLIND (shown and notified at once), and with onBlind: rollback rolls back after blindLimit', async () => {
    receiver = await startWebhookReceiver();
    ws = await pyWorkspace(['live'], ['2026.1.0', '2026.4.0'], {
      // blindLimit long enough to see the BLIND monitor from another CLI process (slow on a busy machine) before it acts.
      envExtra: () => MONITOR(', onBlind: rollback, blindLimit: 30s'),
      extra: 'notifications:\n  - { type: webhook, urlEnv: QUOTES_WEBHOOK_URL }\n',
    });
    const env = { QUOTES_WEBHOOK_URL: receiver.url('/hook') };
    const live = ws.ports.live!;
    await serve(env);
    expect((await ws.run(['deploy', 'live', '--version', '2026.1.0', '--json'], env)).code).toBe(0);
    await served(live, 100);
    const deployed = await ws.run(['deploy', 'live', '--version', '2026.4.0', '--json'], env);
    expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);

    // The daemon watches. Blindness is spotted in the store (fast), then looked at as an operator would.
    for (const deadline = Date.now() + scaled(120_000); ; await new Promise((r) => setTimeout(r, 200))) {
      const w = await newestWatch('monitor', 'live', '2026.4.0');
      if (w?.state === 'running' && (w.data as { blind?: unknown }).blind) break;
      if (w && w.state !== 'running') throw new Error(`the monitor ended ${w.state} without going BLIND: ${JSON.stringify(w.data).slice(0, 2000)}`);
      if (Date.now() > deadline) throw new Error(`the monitor never went BLIND: ${JSON.stringify(w?.data)?.slice(0, 2000)}`);
    }
    const [seen] = (await ok(['monitors', '--env', 'live', '--json'])).monitors;
    expect(seen.version).toBe('2026.4.0');
    expect(seen.state).toBe('running');
    expect(seen.status).toMatch(/^BLIND since \S+: quote-(errors|p95): /);
    expect(seen.blind.checks).toEqual(expect.arrayContaining(['quote-errors', 'quote-p95']));
    // Blind means the source failed consecutiveErrors (4) times in a row, each an error reading, never a value.
    for (const c of seen.checks.filter((c: any) => c.name.startsWith('quote-'))) {
      expect(c.verdict).toBe('error');
      expect(c.errors.consecutive).toBeGreaterThanOrEqual(4);
    }
    // Notified at once: before the rollback, while the monitor is still BLIND.
    await receiver.waitForRequests(1);
    const blindNote = receiver.requests.find((r) => /monitor\.blind/.test(r.body));
    expect(blindNote, receiver.requests.map((r) => r.body).join('\n')).toBeDefined();
    expect(blindNote!.body).toContain('2026.4.0');

    expect(await finished('monitor', 'live', '2026.4.0')).toMatchObject({ state: 'rolled-back' });

    const [monitor] = (await ok(['monitors', '--env', 'live', '--json'])).monitors;
    expect(monitor).toMatchObject({ version: '2026.4.0', state: 'rolled-back', trigger: { check: 'blind' } });
    expect(monitor.trigger.reason).toMatch(/^blind for \S+ \(blindLimit 30s, onBlind: rollback\): quote-(errors|p95): source error \(\d+ in a row/);
    expect(monitor.rollback).toMatchObject({ ok: true, version: '2026.1.0' });
    expect(await build(live)).toBe('2026.1.0');
    const events = await audit();
    expect(events.find((e) => e.action === 'monitor.blind')).toMatchObject({ env: 'live', version: '2026.4.0', reason: expect.stringMatching(/^BLIND since /) });
    expect(events.find((e) => e.action === 'rollback.start')).toMatchObject({ env: 'live', version: '2026.1.0', reason: expect.stringMatching(/^automatic: blind/) });
  }, scaled(300_000));
});
