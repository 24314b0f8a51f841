// Leader failover of the highly available controller (issue 14): three `shipgate serve` on one
// PostgreSQL store (a throwaway server started here: initdb in a temp dir, stopped by PID). N
// times: the leader is taken away, and we time until a standby holds the lease (the lease row's
// acquired_at, read from the store), then a replacement joins so three run again.
//
// Two ways to lose the leader:
// - "host lost" (SIGSTOP: alive but silent, as a dead or partitioned host looks from another one):
//   the standbys must wait the lease out. The lease was renewed up to a third of it before the stop,
//   and standbys poll every quarter lease: expect 2/3 × lease < failover <= 1.25 × lease (+ load).
// - "process killed" (SIGKILL on this host): the standbys see the pid is gone at their next poll.
// Goal: every failover within 2 × lease. FAILOVER_BENCH_KILLS (default 20) per mode,
// FAILOVER_BENCH_LEASE (default 3s). `node bench/run.mjs failover`.
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shipgate');
const dist = (p) => import(pathToFileURL(path.join(ROOT, 'dist', p)).href);
const KILLS = Number(process.env.FAILOVER_BENCH_KILLS ?? 20);
const LEASE_S = Number(process.env.FAILOVER_BENCH_LEASE ?? 3);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function startPostgres() {
  const base = '/usr/lib/postgresql';
  const bin = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a)).map((v) => path.join(base, v, 'bin'))[0] : undefined;
  if (!bin) throw new Error('PostgreSQL server binaries not found; run `bash scripts/ensure-system-deps.sh`');
  const asServer = (argv) => (process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', ...argv]] : [argv[0], argv.slice(1)]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString()), Number(execFileSync('id', ['-g', 'postgres']).toString()));
  const data = path.join(dir, 'data');
  const [initFile, initArgs] = asServer([path.join(bin, 'initdb'), '-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  execFileSync(initFile, initArgs, { cwd: dir, stdio: 'pipe' });
  const { freePort } = await dist('demo/free-port.js');
  const port = await freePort();
  const [file, args] = asServer([path.join(bin, 'postgres'), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  const child = spawn(file, args, { cwd: dir, stdio: 'ignore' });
  const { default: pg } = await import('pg');
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; ; i++) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      if (i > 200) throw err;
      await sleep(100);
    }
  }
  const serverPid = Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  return {
    url,
    async stop() {
      try {
        process.kill(serverPid, 'SIGINT');
      } catch {
        /* gone */
      }
      await new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r)));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function serve(dir, env) {
  const child = spawn(process.execPath, [BIN, 'serve'], { cwd: dir, env: { ...process.env, ...env, SHIPGATE_ACTOR: 'bench', NO_COLOR: '1' }, stdio: 'ignore' });
  child.exited = new Promise((r) => child.once('exit', r));
  return child;
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
const summary = (ms) => {
  const s = [...ms].sort((a, b) => a - b);
  return { n: s.length, medianMs: quantile(s, 0.5), p95Ms: quantile(s, 0.95), maxMs: s.at(-1), minMs: s[0], withinTwoLeases: s.filter((x) => x <= 2 * LEASE_S * 1000).length };
};

export async function run() {
  const pg = await startPostgres();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-bench-failover-'));
  const { openStore } = await dist('adapters/store/open.js');
  const children = new Set();
  try {
    // One service, no soaks or monitors: what is measured is the election, not the evaluation.
    writeFileSync(path.join(dir, 'shipgate.yml'), `version: 1\nrepository: .\nservices:\n  app: { command: [node, app.mjs], port: 18999, health: http://127.0.0.1:18999/health }\nenvironments:\n  staging: { target: { type: process } }\ncontroller: { lease: ${LEASE_S}s }\n`);
    execFileSync('git', ['init', '-q', dir]);
    const env = { SHIPGATE_DATABASE_URL: pg.url };
    const store = await openStore({ url: pg.url, sqliteFile: path.join(dir, 'unused.db') });
    const standbys = async () => (await store.controllers.list()).filter((c) => c.role === 'standby' && Date.now() - Date.parse(c.seenAt) < 2 * LEASE_S * 1000).length;
    let failure;
    const start = () => {
      const c = serve(dir, env);
      children.add(c);
      c.exited.then((code) => {
        children.delete(c);
        // A controller that cannot start (bad config, no store) would leave the waits below waiting.
        if (typeof code === 'number' && code !== 0) failure = new Error(`shipgate serve exited with ${code}`);
      });
      return c;
    };
    const check = () => {
      if (failure) throw failure;
    };
    for (let i = 0; i < 3; i++) start();
    const results = {};
    for (const mode of ['host-lost-sigstop', 'process-killed-sigkill']) {
      const times = [];
      for (let k = 0; k < KILLS; k++) {
        // Three running: a leader and two standbys.
        let leader;
        for (;;) {
          leader = await store.controllers.getLeader();
          if (leader && Date.parse(leader.leaseUntil) > Date.now() && (await standbys()) >= 2) break;
          check();
          await sleep(50);
        }
        const victim = [...children].find((c) => c.pid === leader.pid);
        if (!victim) throw new Error(`the leader (pid ${leader.pid}) is not one of ours`);
        const lostAt = Date.now();
        victim.kill(mode.startsWith('host') ? 'SIGSTOP' : 'SIGKILL');
        let next;
        for (;;) {
          next = await store.controllers.getLeader();
          if (next && next.generation > leader.generation) break;
          check();
          await sleep(20);
        }
        times.push(Date.parse(next.acquiredAt) - lostAt);
        victim.kill('SIGKILL');
        await victim.exited;
        start();
      }
      results[mode] = summary(times);
      results[mode].timesMs = times;
    }
    await store.close();
    return { leaseMs: LEASE_S * 1000, controllers: 3, kills: KILLS, ...results, goal: `every failover within 2 × lease (${2 * LEASE_S * 1000} ms)` };
  } finally {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all([...children].map((c) => c.exited));
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
