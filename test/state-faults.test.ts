// Damaged state gives a clear error with the fix, never a parser's message or a block forever:
// a corrupt process record (.shipgate/run/<env>.json) and a manual lock whose lease is unreadable.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../src/adapters/store/sqlite-driver.js';
import type { CliResult } from './harness/cli.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';

const show = (r: CliResult) => `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

describe('damaged state', () => {
  let ws: StackWorkspace;

  beforeAll(async () => {
    ws = await stackWorkspace(['staging']);
    const first = await ws.run(['deploy', 'staging', '--version', 'v1.0.0']);
    expect(first.code, show(first)).toBe(0);
  });
  afterAll(() => ws?.cleanup());

  it('a corrupt process record names the file and the fix; following it recovers the environment', async () => {
    const file = path.join(ws.dir, '.shipgate', 'run', 'staging.json');
    const good = readFileSync(file, 'utf8');
    writeFileSync(file, good.slice(0, good.length / 2));

    const blocked = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(blocked.code, show(blocked)).toBe(1);
    const out = blocked.json();
    expect(out.error).toContain(`the process record of staging (${file}) is corrupt`);
    expect(out.hint).toContain(`mv ${file} ${file}.corrupt`);
    expect(blocked.stderr).not.toMatch(/\n\s+at /);
    // Nothing was stopped: the services still serve v1.0.0.
    expect(out.rollback).toBeUndefined();

    // The fix as the hint gives it: move the record aside; the running processes are then not on
    // record, status shows them, and a rollback stops them before starting the release again.
    renameSync(file, `${file}.corrupt`);
    const status = (await ws.run(['status', '--json'])).json().environments[0];
    expect(status.strays.length).toBe(3);
    const back = await ws.run(['rollback', 'staging', '--to', 'v1.0.0', '--reason', 'record was corrupt', '--json']);
    expect(back.code, show(back)).toBe(0);
    const after = (await ws.run(['status', '--json'])).json().environments[0];
    expect(after.strays).toEqual([]);
    expect(after.services.map((s: any) => [s.healthy, s.version])).toEqual(Array(3).fill([true, 'v1.0.0']));
  });

  it('a manual lock whose lease cannot be read is shown stale, says why, and can be broken with a reason', async () => {
    expect((await ws.run(['lock', 'acquire', 'staging', '--reason', 'incident', '--lease', '1h'], { SHIPGATE_ACTOR: 'alice' })).code).toBe(0);
    const db = openSqlite(path.join(ws.dir, '.shipgate', 'state.db'));
    db.exec("update locks set lease_until = 'not-a-date' where env = 'staging'");
    db.database.close();

    const locks = (await ws.run(['lock', 'status', '--json'])).json().locks;
    expect(locks[0]).toMatchObject({ env: 'staging', locked: true, stale: true });

    const blocked = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(blocked.code, show(blocked)).toBe(3);
    const { error } = blocked.json();
    expect(error.message).toContain('its lease is unreadable ("not-a-date")');
    expect(error.message).toContain('stale lock');
    expect(error.hint).toContain('lock release staging --force --reason');

    const broken = await ws.run(['lock', 'release', 'staging', '--force', '--reason', 'lease corrupt']);
    expect(broken.code, show(broken)).toBe(0);
    const deployed = await ws.run(['deploy', 'staging', '--version', 'v1.1.0']);
    expect(deployed.code, show(deployed)).toBe(0);
  });
});
