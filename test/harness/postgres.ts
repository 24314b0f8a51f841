// A throwaway PostgreSQL server for tests: initdb into a temp dir, run `postgres` on a free
// loopback port as our child, stop it by PID. Never skips: missing binaries are an error.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { spawnServer } from './server-process.js';
import { freePort } from '../../src/demo/free-port.js';
import { debianPostgresBinDirs } from '../../src/adapters/database/postgres-tools.js';
import { scaled } from './pace.js';

export interface PostgresServer {
  /** The `postgres` database of the server. */
  url: string;
  /** Creates a fresh, empty database and returns its URL (for isolation between tests). */
  createDatabase(name: string): Promise<string>;
  stop(): Promise<void>;
}

interface Binaries {
  initdb: string;
  postgres: string;
}

const MISSING = 'PostgreSQL server binaries not found; run `bash scripts/ensure-system-deps.sh`';

function findBinaries(): Binaries | undefined {
  for (const bin of debianPostgresBinDirs()) {
    const initdb = path.join(bin, 'initdb');
    const postgres = path.join(bin, 'postgres');
    if (existsSync(initdb) && existsSync(postgres)) return { initdb, postgres };
  }
  const onPath = (name: string) =>
    (process.env.PATH ?? '')
      .split(path.delimiter)
      .filter(Boolean)
      .map((dir) => path.join(dir, name))
      .find((file) => existsSync(file));
  const initdb = onPath('initdb');
  const postgres = onPath('postgres');
  return initdb && postgres ? { initdb, postgres } : undefined;
}

export function postgresAvailable(): boolean {
  return findBinaries() !== undefined;
}

/** initdb and postgres refuse to run as root: run them as the `postgres` user then. */
function asServerUser(argv: string[]): { file: string; args: string[] } {
  if (process.getuid?.() === 0) return { file: 'runuser', args: ['-u', 'postgres', '--', ...argv] };
  return { file: argv[0]!, args: argv.slice(1) };
}

function isGone(pid: number): boolean {
  try {
    // A zombie still answers signal 0; /proc tells us it is dead.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    /* already gone */
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startPostgres(): Promise<PostgresServer> {
  const bins = findBinaries();
  if (!bins) throw new Error(MISSING);

  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-pg-'));
  const dataDir = path.join(dir, 'data');
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }

  try {
    const init = asServerUser([bins.initdb, '-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
    execFileSync(init.file, init.args, { cwd: dir, stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`initdb failed: ${e.stderr?.toString() || e.message}`);
  }

  const port = await freePort();
  const run = asServerUser([bins.postgres, '-D', dataDir, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  const server = spawnServer(run.file, run.args, dir);

  // The server's own PID: runuser may fork rather than exec, so ask postgres itself.
  let serverPid: number | undefined;
  const url = (db: string) => `postgres://postgres@127.0.0.1:${port}/${db}`;

  const stop = async () => {
    const pids = [...new Set([serverPid, server.child.pid].filter((p): p is number => typeof p === 'number'))];
    // Signal the server itself (runuser forks and would exit first, orphaning it). SIGTERM is a
    // smart shutdown (waits for clients), SIGINT then disconnects them, SIGKILL last.
    signal(serverPid ?? server.child.pid!, 'SIGTERM');
    const allGone = () => server.exited && pids.every(isGone);
    const deadline = Date.now() + scaled(10_000);
    let escalated = false;
    while (!allGone() && Date.now() < deadline) {
      if (!escalated && Date.now() > deadline - 8_000) {
        escalated = true;
        if (serverPid) signal(serverPid, 'SIGINT');
      }
      await sleep(50);
    }
    if (!allGone()) {
      for (const pid of pids) signal(pid, 'SIGKILL');
      await Promise.race([server.exit, sleep(5_000)]);
    }
    rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + scaled(20_000);
  for (;;) {
    if (server.exited) {
      await stop();
      throw new Error(`postgres exited before accepting connections:\n${server.log}`);
    }
    const client = new pg.Client({ connectionString: url('postgres'), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`postgres did not accept connections within 20 s (${(err as Error).message}):\n${server.log}`);
      }
      await sleep(100);
    }
  }
  // postmaster.pid's first line is the server's PID: the one to stop, whether or not runuser execs.
  serverPid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);

  return {
    url: url('postgres'),
    async createDatabase(name: string) {
      if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`create database ${name}`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
  };
}

/** One statement on its own connection, as a person at psql would run it beside shipgate. */
export async function sql(url: string, text: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await client.query(text, params);
  } finally {
    await client.end();
  }
}
