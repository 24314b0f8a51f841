// A store that fails closed: a 0-byte, emptied or deleted state.db in a state directory that was
// used before is refused by every mutating command (exit 1, with the fix), read by status and
// audit, and replaced only by the explicit, audited `shipgate state init --force --reason`.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shipgate } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const dropDatabase = (stateDir: string, how: 'truncate' | 'delete') => {
  for (const suffix of ['-wal', '-shm']) rmSync(path.join(stateDir, `state.db${suffix}`), { force: true });
  if (how === 'truncate') truncateSync(path.join(stateDir, 'state.db'), 0);
  else unlinkSync(path.join(stateDir, 'state.db'));
};

// Many CLI runs in a row: on a loaded 2-core machine each can take seconds to start.
describe('a store that lost its history, on a small ledger stack', { timeout: scaled(600_000) }, () => {
  let dir: string;
  const run = (args: string[]) => shipgate(args, { cwd: dir });

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-state-'));
    writeFileSync(path.join(dir, 'shipgate.yml'), 'version: 1\nproject: ledger\nstateDir: var/gate\nservices:\n  quote-feed:\n    command: ["true"]\nenvironments:\n  paper-desk: {}\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses to write on a 0-byte state.db, reads with a warning, and starts over only with state init --force --reason', async () => {
    expect((await run(['lock', 'acquire', 'paper-desk', '--reason', 'first'])).code).toBe(0);
    expect((await run(['lock', 'release', 'paper-desk'])).code).toBe(0);
    const stateDir = path.join(dir, 'var', 'gate');
    dropDatabase(stateDir, 'truncate');

    const refused = await run(['lock', 'acquire', 'paper-desk', '--reason', 'second']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/refusing to write: the store is empty, but this state directory recorded 2 audit events/);
    expect(refused.stderr).toContain('shipgate state init --force --reason');
    // Nothing was written: still empty, so it stays refused.
    expect((await run(['lock', 'status', '--json'])).json().locks).toEqual([expect.objectContaining({ env: 'paper-desk', locked: false })]);

    const status = await run(['status', '--json']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stderr).toMatch(/warning: the store is empty/);
    const verify = await run(['audit', '--verify', '--json']);
    expect(verify.code).toBe(1);
    expect(verify.json()).toMatchObject({ ok: false, kind: 'emptied' });
    const state = await run(['state', '--json']);
    expect(state.code).toBe(1);
    expect(state.json()).toMatchObject({ ok: false, events: 0, checkpointSeq: 2 });

    expect((await run(['state', 'init', '--reason', 'lost'])).code).toBe(3);
    expect((await run(['state', 'init', '--force'])).code).toBe(2);
    const init = await run(['state', 'init', '--force', '--reason', 'disk replaced, no backup', '--json']);
    expect(init.code, init.stderr).toBe(0);
    expect(readdirSync(stateDir).some((f) => f.startsWith('audit-checkpoint.superseded-'))).toBe(true);

    expect((await run(['lock', 'acquire', 'paper-desk', '--reason', 'second'])).code).toBe(0);
    const after = await run(['audit', '--verify', '--json']);
    expect(after.json()).toMatchObject({ ok: true, checked: 2, keyed: 2 });
    const events = (await run(['audit', '--json'])).json().events;
    expect(events[0]).toMatchObject({ action: 'state.init', actor: 'tester', reason: 'disk replaced, no backup', detail: { forced: true, previousCheckpointSeq: 2 } });
    // A healthy store is never started over.
    expect((await run(['state', 'init', '--force', '--reason', 'again'])).code).toBe(3);
  });
});

describe('an unreadable store', () => {
  it('names the file and the fix, without a stack trace, for reads and writes alike', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-state-bad-'));
    try {
      writeFileSync(path.join(dir, 'shipgate.yml'), 'version: 1\nservices:\n  quote-feed: { command: ["true"] }\nenvironments:\n  paper-desk: {}\n');
      mkdirSync(path.join(dir, '.shipgate'));
      writeFileSync(path.join(dir, '.shipgate', 'state.db'), 'this is not a database, it is a text file that replaced it\n'.repeat(100));
      for (const args of [['status'], ['lock', 'acquire', 'paper-desk', '--reason', 'x']]) {
        const res = await shipgate(args, { cwd: dir });
        expect(res.code).toBe(1);
        expect(res.stderr).toMatch(/cannot open the store .*state\.db: file is not a database/);
        expect(res.stderr).toMatch(/restore state\.db from a backup/);
        expect(res.stderr).not.toMatch(/at .*\.js:\d+/);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a deleted state.db after deployments (sample stack)', { timeout: scaled(600_000) }, () => {
  let ws: StackWorkspace;

  beforeAll(async () => {
    ws = await stackWorkspace(['staging']);
  });
  afterAll(() => ws?.cleanup());

  it('refuses deploy, rollback and lock on a deleted state.db, even with the checkpoint and key gone too', async () => {
    const first = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(first.code, first.stderr).toBe(0);
    const stateDir = path.join(ws.dir, '.shipgate');
    dropDatabase(stateDir, 'delete');

    for (const args of [['deploy', 'staging', '--version', 'v1.1.0'], ['rollback', 'staging', '--reason', 'x'], ['lock', 'acquire', 'staging', '--reason', 'x']]) {
      const res = await ws.run(args);
      expect(res.code, `${args.join(' ')}\n${res.stderr}`).toBe(1);
      expect(res.stderr).toMatch(/refusing to write: the store is empty/);
    }
    // Without the checkpoint and key, the release checkouts and run records still show earlier use.
    unlinkSync(path.join(stateDir, 'audit-checkpoint.json'));
    unlinkSync(path.join(stateDir, 'audit.key'));
    const res = await ws.run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/the store is empty \(state\.db missing, 0 bytes or emptied\), but this state directory was used before/);
    expect(res.stderr).toMatch(/releases\/.*run\//s);
    expect(existsSync(path.join(stateDir, 'releases', 'staging', 'v1.1.0'))).toBe(false);
  });
});
