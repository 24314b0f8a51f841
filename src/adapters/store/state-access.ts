import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { failed } from '../../core/errors.js';

/**
 * Whether this user may write the SQLite store: the file itself, and its directory (SQLite in WAL
 * mode creates `-wal` and `-shm` files beside it). A missing file counts as writable when the
 * nearest existing directory above it is.
 */
export function storeWritable(sqliteFile: string): { ok: true } | { ok: false; path: string; reason: string } {
  const dir = path.dirname(sqliteFile);
  if (fs.existsSync(sqliteFile)) {
    const file = accessProblem(sqliteFile, fs.constants.R_OK | fs.constants.W_OK);
    if (file) return { ok: false, path: sqliteFile, reason: file };
    const parent = accessProblem(dir, fs.constants.W_OK | fs.constants.X_OK);
    return parent ? { ok: false, path: dir, reason: parent } : { ok: true };
  }
  let existing = dir;
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing);
  const problem = accessProblem(existing, fs.constants.W_OK | fs.constants.X_OK);
  return problem ? { ok: false, path: existing, reason: problem } : { ok: true };
}

function accessProblem(p: string, mode: number): string | undefined {
  try {
    fs.accessSync(p, mode);
    return undefined;
  } catch (err) {
    return `${(err as NodeJS.ErrnoException).code ?? 'error'}: ${describeOwner(p)}`;
  }
}

/** "owner uid 0, mode 0755; shipgate runs as uid 65534": what a person needs to fix it. */
function describeOwner(p: string): string {
  const me = typeof process.getuid === 'function' ? `uid ${process.getuid()}` : os.userInfo().username;
  try {
    const st = fs.statSync(p);
    return `owner uid ${st.uid}, mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')}; shipgate runs as ${me}`;
  } catch (err) {
    return `${(err as Error).message}; shipgate runs as ${me}`;
  }
}

/** A mutating command cannot record what it does: refuse before touching anything. */
export function notWritableError(access: { path: string; reason: string }, sqliteFile: string) {
  return failed(`the state store ${sqliteFile} is not writable (${access.path}: ${access.reason}), so nothing can be recorded and this command would act unaudited`, {
    where: access.path,
    hint: 'Run shipgate as the user that owns the state directory, or fix its owner, mode or mount. `shipgate status`, `audit`, `lock status` and `approvals` still read it.',
  });
}

/**
 * A private copy of the store (with its write-ahead log, if readable) for commands that only
 * read: SQLite cannot open a WAL database read-only in a directory it cannot write. The copy
 * is what the store held a moment ago; what a running writer has not checkpointed may be missing.
 */
export function snapshotStore(sqliteFile: string): { file: string; dispose: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipgate-readonly-'));
  const file = path.join(dir, 'state.db');
  try {
    fs.copyFileSync(sqliteFile, file);
    for (const suffix of ['-wal']) {
      try {
        fs.copyFileSync(`${sqliteFile}${suffix}`, `${file}${suffix}`);
      } catch {
        /* no log (or unreadable): the main file alone is still consistent up to its last checkpoint */
      }
    }
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw failed(`cannot read the state store ${sqliteFile}: ${(err as Error).message} (${describeOwner(sqliteFile)})`, {
      where: sqliteFile,
      hint: 'Run shipgate as the user that owns the state directory, or give this user read access to state.db.',
    });
  }
  return { file, dispose: () => fs.rmSync(dir, { recursive: true, force: true }) };
}
