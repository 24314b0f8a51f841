// Three `shipgate serve` on one PostgreSQL store: one leads, two stand by. The leader dies (or is
// paused) at the worst moment, having just decided to roll production back: a standby takes
// over, the rollback happens exactly once, and a paused leader that resumes acts on nothing.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_URL_VARIABLE, openStore } from '../src/adapters/store/open.js';
import { BIN } from './harness/cli.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { load, replaceOnce } from './harness/watches.js';

const LEASE_MS = 6000;

let pg: PostgresServer;
let ws: StackWorkspace | undefined;
let dbCounter = 0;
const daemons: ChildProcess[] = [];

beforeAll(async () => {
  pg = await startPostgres();
});
afterEach(async () => {
  for (const d of daemons.splice(0)) {
    if (d.exitCode !== null || d.signalCode !== null) continue;
    d.kill('SIGKILL');
    await new Promise((r) => d.once('exit', r));
  }
  await ws?.cleanup();
  ws = undefined;
});
afterAll(async () => {
  await pg?.stop();
});

interface Daemon {
  child: ChildProcess;
  pid: number;
  output(): string;
  waitFor(pattern: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * A `shipgate serve`; with `host`, in a UTS namespace of its own under that host name, as if it ran on
 * another machine: the others cannot judge its process by its pid there, only by the store.
 */
function serve(dir: string, env: NodeJS.ProcessEnv, host?: string): Daemon {
  const [file, args] = host ? ['unshare', ['--uts', 'sh', '-c', `hostname ${host} && exec "$0" "$@"`, process.execPath, BIN, 'serve']] : [process.execPath, [BIN, 'serve']];
  const child = spawn(file, args, { cwd: dir, env: { ...process.env, SHIPGATE_ACTOR: 'tester', NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  daemons.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    pid: child.pid!,
    output: () => out,
    exited,
    async waitFor(pattern) {
      await until(`serve ${child.pid} to print ${pattern}`, async () => pattern.test(out) || child.exitCode !== null || child.signalCode !== null, Boolean);
      if (!pattern.test(out)) throw new Error(`serve ${child.pid} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`);
    },
  };
}

/** Waits on a condition; the limit only turns a hang into a readable failure. */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, limitMs = 180_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const v = await read();
    if (done(v)) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}; last: ${JSON.stringify(v)?.slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const processState = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return 'gone';
  }
};

async function withStore<T>(url: string, use: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore({ url, sqliteFile: '/nonexistent/state.db' });
  try {
    return await use(store);
  } finally {
    await store.close();
  }
}

/** A production environment with monitoring that outlasts the test, three releases, its own database. */
async function workspace(): Promise<{ ws: StackWorkspace; url: string; env: NodeJS.ProcessEnv }> {
  const url = await pg.createDatabase(`ha${++dbCounter}`);
  const made = await stackWorkspace(['production'], ['v1.0.0', 'v1.1.0', 'v1.2.0'], {
    analysis: true,
    patch: (yaml) =>
      `${replaceOnce(yaml, '    monitor: { autoRollback: true, healthGrace: 30s, medium: 72h }', '    monitor: { autoRollback: true, immediate: 1s, short: 2s, medium: 30m, healthGrace: 3s }')}\ncontroller:\n  lease: ${LEASE_MS / 1000}s\n`,
  });
  ws = made;
  return { ws: made, url, env: { [DATABASE_URL_VARIABLE]: url } };
}

async function cli(w: StackWorkspace, env: NodeJS.ProcessEnv, args: string[]): Promise<any> {
  const res = await w.run(args, env);
  expect(res.code, `shipgate ${args.join(' ')}\n${res.stdout}\n${res.stderr}`).toBe(0);
  return args.includes('--json') ? res.json() : res.stdout;
}

/** Three controllers; the first leads (started alone), with `leaderEnv` (its failpoint), on `leaderHost` if given. */
async function threeControllers(dir: string, env: NodeJS.ProcessEnv, leaderEnv: NodeJS.ProcessEnv, leaderHost?: string): Promise<[Daemon, Daemon, Daemon]> {
  const a = serve(dir, { ...env, ...leaderEnv }, leaderHost);
  await a.waitFor(/leading as generation 1\b/);
  const b = serve(dir, env);
  const c = serve(dir, env);
  await b.waitFor(/standing by: tester@\S+ leads \(generation 1,/);
  await c.waitFor(/standing by: tester@\S+ leads \(generation 1,/);
  return [a, b, c];
}

async function deployRegression(w: StackWorkspace, env: NodeJS.ProcessEnv): Promise<void> {
  await cli(w, env, ['deploy', 'production', '--version', 'v1.0.0', '--json']);
  // v1.2.0 errs on live orders (the traffic running): its monitor triggers a rollback.
  await cli(w, env, ['deploy', 'production', '--version', 'v1.2.0', '--json']);
}

const rolledBack = (url: string) =>
  until('the v1.2.0 monitor to be rolled back', () => withStore(url, async (s) => (await s.listWatches({ kind: 'monitor', limit: 5 })).find((w) => w.version === 'v1.2.0')), (w) => w?.state === 'rolled-back');

describe('highly available controller: three `shipgate serve` on one PostgreSQL store', () => {
  it('the leader is SIGKILLed as it decides to roll back: a standby takes over within 2 × lease and rolls back exactly once', async () => {
    const { ws: w, url, env } = await workspace();
    const traffic = load(w.ports.production!.gateway);
    try {
      const [a, b, c] = await threeControllers(w.dir, env, { SHIPGATE_FAILPOINT: 'monitor:trigger:before' });
      const status = (await cli(w, env, ['status', '--json'])).controller;
      expect(status.leader).toMatchObject({ pid: a.pid, generation: 1 });
      expect(status.standbys.map((s: any) => s.pid).sort()).toEqual([b.pid, c.pid].sort());

      await deployRegression(w, env);
      // The leader has seen the regression and decided; it dies before recording anything.
      expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
      const diedAt = Date.now();

      const leader = await until('a standby to lead', () => withStore(url, (s) => s.controllers.getLeader()), (l) => l?.generation === 2);
      expect([b.pid, c.pid]).toContain(leader!.pid);
      expect(Date.parse(leader!.acquiredAt) - diedAt).toBeLessThan(2 * LEASE_MS);
      const [next, other] = leader!.pid === b.pid ? [b, c] : [c, b];
      await next.waitFor(/leading as generation 2 \(took over from tester@\S+, generation 1\)/);

      const monitor = await rolledBack(url);
      expect((monitor!.data as any).rollback).toMatchObject({ ok: true, version: 'v1.0.0' });
      await next.waitFor(/monitor #\d+ production v1\.2\.0: rolled-back/);
      expect(other.output()).not.toMatch(/rolled-back|leading as/);

      const events = (await cli(w, env, ['audit', '--json'])).events as any[];
      expect(events.filter((e) => e.action === 'monitor.trigger'), events.filter((e) => /^(monitor|rollback|controller|deploy|incident)\./.test(e.action)).map((e) => `${e.seq} ${e.action} ${e.version} ${e.outcome} ${e.reason} ${JSON.stringify(e.detail).slice(0, 150)}`).join('\n')).toHaveLength(1);
      expect(events.filter((e) => e.action === 'rollback.start')).toEqual([expect.objectContaining({ env: 'production', version: 'v1.0.0' })]);
      expect(events.filter((e) => e.action === 'controller.lead').map((e) => [e.detail.pid, e.detail.generation, e.detail.previousPid])).toEqual([
        [a.pid, 1, null],
        [next.pid, 2, a.pid],
      ]);
      expect((await cli(w, env, ['status', '--env', 'production', '--json'])).environments[0]).toMatchObject({ currentVersion: 'v1.0.0', deployment: { kind: 'rollback', state: 'succeeded' } });
      const after = (await cli(w, env, ['status', '--json'])).controller;
      expect(after.leader).toMatchObject({ pid: next.pid, generation: 2 });
      expect(after.standbys.map((s: any) => s.pid)).toEqual([other.pid]);
      expect((await cli(w, env, ['audit', '--verify', '--json'])).ok).toBe(true);

      for (const d of [b, c]) d.child.kill('SIGTERM');
      expect(await b.exited).toEqual({ code: 0, signal: null });
      expect(await c.exited).toEqual({ code: 0, signal: null });
    } finally {
      await traffic.stop();
    }
  }, 400_000);

  it('a leader paused past its lease as it decides, then resumed, acts on nothing and stands by', async () => {
    const { ws: w, url, env } = await workspace();
    const traffic = load(w.ports.production!.gateway);
    try {
      const [a, b, c] = await threeControllers(w.dir, env, { SHIPGATE_FAILPOINT: 'stop:monitor:trigger:before' });
      await deployRegression(w, env);
      // Stopped (state T) with the trigger decided and the rollback not started.
      await until('the leader to stop itself', async () => processState(a.pid), (s) => s === 'T' || s === 'gone');
      expect(processState(a.pid)).toBe('T');
      const paused = (await withStore(url, (s) => s.controllers.getLeader()))!;
      expect(paused).toMatchObject({ pid: a.pid, generation: 1 });

      // Alive but silent: the standbys wait the lease out, then one takes over and rolls back.
      const leader = await until('a standby to lead', () => withStore(url, (s) => s.controllers.getLeader()), (l) => l?.generation === 2);
      expect(Date.parse(leader!.acquiredAt)).toBeGreaterThanOrEqual(Date.parse(paused.leaseUntil));
      const [next, other] = leader!.pid === b.pid ? [b, c] : [c, b];
      await rolledBack(url);
      await next.waitFor(/monitor #\d+ production v1\.2\.0: rolled-back/);
      const before = (await cli(w, env, ['audit', '--json'])).events as any[];
      expect(before.filter((e) => e.action === 'rollback.start')).toHaveLength(1);

      // Resumed where it stopped: about to record the trigger and roll back. Every write is refused.
      a.child.kill('SIGCONT');
      // Its first write (the trigger's audit event) is what the store refuses.
      await a.waitFor(/lost the lead \(generation 1\): fenced: this controller led at generation 1, but generation 2 leads now; its write was refused; tester@\S+ leads at generation 2; standing by/);
      await a.waitFor(/standing by: tester@\S+ leads \(generation 2,/);

      const events = (await cli(w, env, ['audit', '--json'])).events as any[];
      expect(events.filter((e) => e.action === 'monitor.trigger')).toHaveLength(1);
      expect(events.filter((e) => e.action === 'rollback.start')).toHaveLength(1);
      expect(events.filter((e) => e.action === 'monitor.finish' || e.action === 'incident.open')).toHaveLength(before.filter((e) => e.action === 'monitor.finish' || e.action === 'incident.open').length);
      expect(events.filter((e) => e.action === 'controller.fenced')).toEqual([expect.objectContaining({ outcome: 'standby', reason: expect.stringMatching(/^fenced: /), detail: expect.objectContaining({ pid: a.pid, generation: 1, currentGeneration: 2, currentPid: next.pid }) })]);
      // The monitor keeps the new leader's outcome.
      const monitor = await rolledBack(url);
      expect((monitor!.data as any).rollback).toMatchObject({ ok: true, version: 'v1.0.0' });
      expect((await cli(w, env, ['status', '--env', 'production', '--json'])).environments[0]).toMatchObject({ currentVersion: 'v1.0.0' });

      const after = (await cli(w, env, ['status', '--json'])).controller;
      expect(after.leader).toMatchObject({ pid: next.pid, generation: 2 });
      expect(after.standbys.map((s: any) => s.pid).sort()).toEqual([a.pid, other.pid].sort());
      expect((await cli(w, env, ['audit', '--verify', '--json'])).ok).toBe(true);

      for (const d of [a, b, c]) d.child.kill('SIGTERM');
      for (const d of [a, b, c]) expect(await d.exited).toEqual({ code: 0, signal: null });
    } finally {
      await traffic.stop();
    }
  }, 400_000);
});

/** The leader dies right after stopping v1.2.0 (production runs nothing until someone finishes); on `leaderHost` if given. */
async function leaderDiesMidRollback(leaderHost?: string): Promise<{ w: StackWorkspace; env: NodeJS.ProcessEnv; url: string }> {
  const { ws: w, url, env } = await workspace();
  const traffic = load(w.ports.production!.gateway);
  try {
    const [a, b, c] = await threeControllers(w.dir, env, { SHIPGATE_FAILPOINT: 'rollback:stop-old:after' }, leaderHost);
    await deployRegression(w, env);
    expect(await a.exited).toEqual({ code: null, signal: 'SIGKILL' });
    const leader = await until('a standby to lead', () => withStore(url, (s) => s.controllers.getLeader()), (l) => l?.generation === 2);
    const next = leader!.pid === b.pid ? b : c;
    const monitor = await rolledBack(url);
    expect((monitor!.data as any).rollback).toMatchObject({ ok: true, version: 'v1.0.0' });
    await next.waitFor(/monitor #\d+ production v1\.2\.0: rolled-back/);

    const events = (await cli(w, env, ['audit', '--json'])).events as any[];
    const rollbacks = events.filter((e) => /^rollback\./.test(e.action)).map((e) => [e.action, e.detail.deploymentId]);
    const id = rollbacks[0]![1];
    expect(rollbacks).toEqual([['rollback.start', id], ['rollback.resume', id], ['rollback.finish', id]]);
    const deployments = (await withStore(url, (s) => s.listDeployments({ env: 'production' }))).map((d) => [d.kind, d.version, d.state]);
    expect(deployments).toEqual([['rollback', 'v1.0.0', 'succeeded'], ['deploy', 'v1.2.0', 'succeeded'], ['deploy', 'v1.0.0', 'succeeded']]);
    expect((await cli(w, env, ['status', '--env', 'production', '--json'])).environments[0]).toMatchObject({ currentVersion: 'v1.0.0', lock: null });
    expect((await cli(w, env, ['audit', '--verify', '--json'])).ok).toBe(true);
    return { w, env, url };
  } finally {
    await traffic.stop();
  }
}

describe('highly available controller: the leader dies during the rollback', () => {
  it('a standby resumes the interrupted rollback instead of starting another', async () => {
    await leaderDiesMidRollback();
  }, 400_000);

  it('on another host: its lock is stale once a newer generation leads, and the new leader resumes the rollback at once', async () => {
    const { w, env } = await leaderDiesMidRollback('ha-other-host');
    // The dead leader's lock (10 min lease) was taken over because its generation no longer led, not because its lease ran out.
    const takeovers = ((await cli(w, env, ['audit', '--json'])).events as any[]).filter((e) => e.action === 'lock.takeover');
    expect(takeovers).toHaveLength(1);
    expect(takeovers[0].reason).toMatch(/^took over stale lock of tester@ha-other-host:\d+ \(rollback\); its controller \(generation 1\) no longer leads$/);
  }, 400_000);
});

describe('highly available controller on SQLite (one host)', () => {
  it('two `serve` on one state file: a clean stop hands over at once, a SIGKILLed leader is replaced', async () => {
    const made = await stackWorkspace(['staging'], ['v1.0.0'], { patch: (yaml) => `${yaml}\ncontroller:\n  lease: 30s\n` });
    ws = made;
    const a = serve(made.dir, {});
    await a.waitFor(/leading as generation 1\b/);
    const b = serve(made.dir, {});
    await b.waitFor(/standing by: tester@\S+ leads \(generation 1,/);
    const status = (await cli(made, {}, ['status', '--json'])).controller;
    expect(status).toMatchObject({ leader: { pid: a.pid, generation: 1 }, standbys: [{ pid: b.pid }] });
    // A foreground watch is refused while a controller leads.
    const refused = await made.run(['watch', '--json']);
    expect(refused.code, refused.stdout + refused.stderr).toBe(3);
    expect(refused.json().error.message).toMatch(/a controller already runs on this store: tester@\S+ \(generation 1,/);

    // SIGTERM gives the lease up: the standby takes it without waiting out the 30 s lease.
    a.child.kill('SIGTERM');
    expect(await a.exited).toEqual({ code: 0, signal: null });
    await b.waitFor(/leading as generation 2 \(took over from tester@\S+, generation 1\)/);

    // A SIGKILLed leader of this host is gone at once (its pid is dead): a new controller leads.
    const c = serve(made.dir, {});
    await c.waitFor(/standing by: tester@\S+ leads \(generation 2,/);
    b.child.kill('SIGKILL');
    await c.waitFor(/leading as generation 3 \(took over from tester@\S+, generation 2\)/);
    const after = (await cli(made, {}, ['status', '--json'])).controller;
    expect(after).toMatchObject({ leader: { pid: c.pid, generation: 3 }, standbys: [] });
    const leads = ((await cli(made, {}, ['audit', '--json'])).events as any[]).filter((e) => e.action === 'controller.lead');
    expect(leads.map((e) => [e.detail.pid, e.detail.generation, e.detail.previousPid])).toEqual([[a.pid, 1, null], [b.pid, 2, a.pid], [c.pid, 3, b.pid]]);
    c.child.kill('SIGTERM');
    expect(await c.exited).toEqual({ code: 0, signal: null });
  }, 200_000);
});
