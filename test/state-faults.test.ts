// Damaged state gives a clear error with the fix, never a parser's message or a block forever:
// a corrupt process record (.shipgate/run/<env>.json), a manual lock whose lease is unreadable,
// and a state directory this user cannot write (or read): mutating commands refuse, naming the
// owner and mode, while status, audit, lock status and approvals still read what they can.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlite } from '../src/adapters/store/sqlite-driver.js';
import { BIN, shipgate, type CliResult } from './harness/cli.js';
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
    // v1.1.0 was rolled back above (the corrupt record), which marked it bad: going back to it is stated.
    const deployed = await ws.run(['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad', '--reason', 'rolled back only for the corrupt record']);
    expect(deployed.code, show(deployed)).toBe(0);
  });
});

// Root ignores file modes, so the CLI runs as nobody (uid 65534) against a state directory root made.
/**
 * uid 65534 must reach node and the CLI: a checkout or a Node under a 0700 directory (what
 * `mktemp -d` makes) is closed to it. Such directories get the search bit for others while
 * these tests run, and their exact modes back afterwards; nothing else is changed.
 */
function openPathsTo(files: string[]): () => void {
  const changed = new Map<string, number>();
  for (const file of files) {
    for (let dir = path.dirname(path.resolve(file)); ; dir = path.dirname(dir)) {
      const mode = statSync(dir).mode & 0o7777;
      if ((mode & 0o001) === 0 && !changed.has(dir)) {
        chmodSync(dir, mode | 0o001);
        changed.set(dir, mode);
      }
      if (dir === path.dirname(dir)) break;
    }
  }
  return () => {
    for (const [dir, mode] of changed) chmodSync(dir, mode);
  };
}

const restorePaths = process.getuid?.() === 0 ? openPathsTo([process.execPath, BIN]) : () => undefined;
afterAll(() => restorePaths());

const canDropPrivileges = (() => {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

function runAsNobody(args: string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, ...args], {
      cwd, env: { ...process.env, SHIPGATE_ACTOR: 'nobody', NO_COLOR: '1', HOME: '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr, json: () => JSON.parse(stdout) }));
  });
}

describe.skipIf(!canDropPrivileges)('a state directory this user cannot write', () => {
  let dir: string;
  const asOwner = (args: string[]) => shipgate(args, { cwd: dir, env: { SHIPGATE_ACTOR: 'owner' } });
  const asNobody = (args: string[]) => runAsNobody(args, dir);
  const stateDb = () => path.join(dir, '.shipgate', 'state.db');

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-readonly-state-'));
    chmodSync(dir, 0o755);
    writeFileSync(path.join(dir, 'shipgate.yml'), 'version: 1\nproject: fx_book\nservices:\n  fixer: { command: ["true"] }\nenvironments:\n  asia-book: {}\n');
    expect((await asOwner(['lock', 'acquire', 'asia-book', '--reason', 'month end'])).code).toBe(0);
    expect((await asOwner(['lock', 'release', 'asia-book', '--reason', 'done'])).code).toBe(0);
  });
  afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

  it('refuses mutating commands with the owner and mode; status, audit, lock status and approvals still read', async () => {
    const before = readFileSync(stateDb());
    for (const args of [['lock', 'acquire', 'asia-book', '--reason', 'x'], ['deploy', 'asia-book', '--version', 'v1']]) {
      const res = await asNobody(args);
      expect(res.code, show(res)).toBe(1);
      expect(res.stderr).toContain(`the state store ${stateDb()} is not writable`);
      expect(res.stderr).toMatch(/owner uid 0, mode 0644; shipgate runs as uid 65534/);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    }
    expect(readFileSync(stateDb()).equals(before)).toBe(true);

    const status = await asNobody(['status', '--json']);
    expect(status.code, show(status)).toBe(0);
    expect(status.stderr).toMatch(/not writable by this user: reading a copy of state\.db/);
    expect(status.json().environments[0]).toMatchObject({ env: 'asia-book', lock: null });
    const audit = await asNobody(['audit', '--json']);
    expect(audit.code, show(audit)).toBe(0);
    expect(audit.json().events.map((e: any) => [e.action, e.actor])).toEqual([['lock.acquire', 'owner'], ['lock.release', 'owner']]);
    expect((await asNobody(['lock', 'status'])).code).toBe(0);
    expect((await asNobody(['approvals'])).code).toBe(0);

    // The key is root's (0600): the chain is still checked to the end, and the MACs are said to be unchecked, not fine.
    const verify = await asNobody(['audit', '--verify', '--json']);
    expect(verify.code, show(verify)).toBe(1);
    expect(verify.json()).toMatchObject({ ok: false, kind: 'key-missing', checked: 2, problem: expect.stringMatching(/hash chain of all 2 events is intact, but their MACs and the checkpoint cannot be checked: the audit key .* cannot be read \(EACCES/) });
    // As the owner nothing changed: the same two events, intact.
    expect((await asOwner(['audit', '--verify'])).code).toBe(0);
  });

  it('an unreadable store is a clear error for reading commands too', async () => {
    chmodSync(stateDb(), 0o600);
    try {
      const res = await asNobody(['status']);
      expect(res.code, show(res)).toBe(1);
      expect(res.stderr).toContain(`cannot read the state store ${stateDb()}`);
      expect(res.stderr).toMatch(/owner uid 0, mode 0600/);
      expect(res.stderr).not.toMatch(/\n\s+at /);
    } finally {
      chmodSync(stateDb(), 0o644);
    }
  });
});
