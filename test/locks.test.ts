// Environment locks through the real CLI: concurrent deploys, a person's hold, releasing and
// breaking it, on the default SQLite store and on a real PostgreSQL (SHIPGATE_DATABASE_URL).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from './harness/cli.js';
import { startPostgres, type PostgresServer } from './harness/postgres.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

/**
 * The sample stack with services that take 3 s (times the machine's load) to start, so a deploy
 * holds the lock for at least that long and two deploys started together overlap even on a
 * loaded machine.
 */
async function slowStartWorkspace(): Promise<StackWorkspace> {
  const ws = await stackWorkspace(['staging']);
  const file = path.join(ws.dir, 'shipgate.yml');
  // 3 s on an idle machine, stretched by its load: a busy machine also starts the second CLI later.
  const delay = JSON.stringify(`--import=data:text/javascript,await new Promise((r) => setTimeout(r, ${scaled(3000)}))`);
  let replaced = 0;
  const yml = readFileSync(file, 'utf8').replace(/, (\w+\/main\.mjs)\]/g, (_m, main: string) => {
    replaced++;
    return `, ${delay}, ${main}]`;
  });
  if (replaced !== 3) throw new Error(`expected three service commands in shipgate.yml, found ${replaced}:\n${yml}`);
  writeFileSync(file, yml);
  return ws;
}

/** Two deploys of staging at once: exactly one runs, the other is refused naming the holder. */
async function concurrentDeploys(ws: StackWorkspace, env: NodeJS.ProcessEnv = {}): Promise<void> {
  const runs = await Promise.all([1, 2].map(() => ws.run(['deploy', 'staging', '--version', 'v1.0.0', '--json'], env)));
  const codes = runs.map((r) => r.code).sort();
  expect(codes, runs.map(show).join('\n---\n')).toEqual([0, 3]);
  const winner = runs.find((r) => r.code === 0)!;
  const loser = runs.find((r) => r.code === 3)!;
  expect(winner.json()).toMatchObject({ ok: true, env: 'staging', kind: 'deploy', version: 'v1.0.0' });
  const { error } = loser.json();
  expect(error.exitCode).toBe(3);
  expect(error.message).toMatch(/^staging is locked by tester \(deploy v1\.0\.0\)/);
  expect(error.lock).toMatchObject({ env: 'staging', actor: 'tester', reason: 'deploy v1.0.0' });

  // The winner released its lock, and only one deployment was recorded.
  const status = await ws.run(['lock', 'status', '--json'], env);
  expect(status.json().locks).toEqual([expect.objectContaining({ env: 'staging', locked: false })]);
  const audit = (await ws.run(['audit', '--json'], env)).json().events as { action: string }[];
  expect(audit.filter((e) => e.action === 'deploy.start')).toHaveLength(1);
}

describe('locks on the SQLite store', () => {
  let ws: StackWorkspace;

  beforeAll(async () => {
    ws = await slowStartWorkspace();
  });

  afterAll(async () => {
    await ws?.cleanup();
  });

  it('lets exactly one of two concurrent deploys run', async () => {
    await concurrentDeploys(ws);
  });

  it("holds, releases and breaks a person's lock, each step audited", async () => {
    const acquired = await ws.run(['lock', 'acquire', 'staging', '--reason', 'incident', '--json']);
    expect(acquired.code, show(acquired)).toBe(0);
    expect(acquired.json().lock).toMatchObject({ env: 'staging', actor: 'tester', reason: 'incident', pid: 0 });

    const blocked = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(blocked.code, show(blocked)).toBe(3);
    expect(blocked.json().error.message).toMatch(/^staging is locked by tester \(incident\)/);

    const released = await ws.run(['lock', 'release', 'staging', '--json']);
    expect(released.code, show(released)).toBe(0);
    expect(released.json()).toMatchObject({ ok: true, released: true, holder: { actor: 'tester', reason: 'incident' } });
    expect((await ws.run(['lock', 'status', '--json'])).json().locks[0].locked).toBe(false);

    const alice = { SHIPGATE_ACTOR: 'alice' };
    expect((await ws.run(['lock', 'acquire', 'staging', '--reason', 'maintenance'], alice)).code).toBe(0);

    const notMine = await ws.run(['lock', 'release', 'staging', '--json']);
    expect(notMine.code, show(notMine)).toBe(3);
    expect(notMine.json().error.message).toMatch(/locked by alice \(maintenance\)/);

    const noReason = await ws.run(['lock', 'release', 'staging', '--force', '--json']);
    expect(noReason.code, show(noReason)).toBe(2);
    expect(noReason.json().error.message).toMatch(/--force needs --reason/);
    expect((await ws.run(['lock', 'status', '--json'])).json().locks[0].lock).toMatchObject({ actor: 'alice' });

    const broken = await ws.run(['lock', 'release', 'staging', '--force', '--reason', 'alice is off shift', '--json']);
    expect(broken.code, show(broken)).toBe(0);
    expect(broken.json()).toMatchObject({ released: true, holder: { actor: 'alice' } });
    expect((await ws.run(['lock', 'status', '--json'])).json().locks[0].locked).toBe(false);

    const audit = await ws.run(['audit', '--json', '--env', 'staging']);
    const lockEvents = (audit.json().events as { action: string; actor: string; reason: string | null; detail: Record<string, unknown> }[])
      .filter((e) => e.action.startsWith('lock.'))
      .map((e) => ({ action: e.action, actor: e.actor, reason: e.reason, holder: e.detail.holder }));
    expect(lockEvents).toEqual([
      { action: 'lock.acquire', actor: 'tester', reason: 'incident', holder: undefined },
      { action: 'lock.release', actor: 'tester', reason: null, holder: 'tester' },
      { action: 'lock.acquire', actor: 'alice', reason: 'maintenance', holder: undefined },
      { action: 'lock.break', actor: 'tester', reason: 'alice is off shift', holder: 'alice' },
    ]);
    expect((await ws.run(['audit', '--verify'])).code).toBe(0);
  });
});

describe('locks on PostgreSQL', () => {
  let ws: StackWorkspace;
  let server: PostgresServer;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    server = await startPostgres();
    env = { SHIPGATE_DATABASE_URL: await server.createDatabase('shipgate_locks') };
    ws = await slowStartWorkspace();
  });

  afterAll(async () => {
    await ws?.cleanup();
    await server?.stop();
  });

  it('lets exactly one of two concurrent deploys run', async () => {
    await concurrentDeploys(ws, env);
    // Nothing went to the SQLite file: the whole state is in PostgreSQL.
    const audit = (await ws.run(['audit', '--json'], env)).json().events as { action: string }[];
    expect(audit.map((e) => e.action)).toEqual(['deploy.start', 'deploy.finish']);
    expect((await ws.run(['audit', '--json'])).json().events).toEqual([]);
  });
});
