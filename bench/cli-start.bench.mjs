// CLI start cost (issue 15): `shipgate --help`, `shipgate window check --env <env>` and
// `shipgate status` (SQLite store, 10 environments) against `node -e 0`, in CPU time
// (user + sys of the child, as the kernel accounts it) measured in the same run. The arms
// alternate round by round so machine load hits them alike; the ratio is of the medians.
// Goal: each ratio <= 2. The `import <library>` arms measure the libraries alone. Runs against dist/ (`npm run build`); `node bench/run.mjs cli-start`
// runs only this one. CLI_START_BENCH_ROUNDS sets the rounds (default 15).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'shipgate');
const ROUNDS = Number(process.env.CLI_START_BENCH_ROUNDS ?? 15);
const GOAL_RATIO = 2;
const ENVIRONMENTS = 10;
// status needs the config (yaml, zod) and the store (kysely); window check the config.
const LIBRARIES = ['commander', 'yaml', 'zod', 'kysely'];

/** Ten process environments of a two-service stack; nothing listens on their ports (health is "down"). */
function config() {
  const lines = ['version: 1', 'project: bench_desk', 'repository: .', 'stateDir: .shipgate', 'services:'];
  lines.push('  pricer: {command: [node, pricer.mjs], port: 47101, health: "http://127.0.0.1:{port}/healthz"}');
  lines.push('  router: {command: [node, router.mjs], port: 47102, health: "http://127.0.0.1:{port}/healthz"}');
  lines.push('environments:');
  for (let i = 0; i < ENVIRONMENTS; i++) {
    lines.push(`  desk${i}:`);
    lines.push('    target: {type: process}');
    lines.push(`    services: {pricer: {port: ${47200 + 2 * i}}, router: {port: ${47201 + 2 * i}}}`);
    lines.push('    health: {requestTimeout: 2s}');
  }
  return `${lines.join('\n')}\n`;
}

/** CPU seconds (user, sys) and wall seconds of one run, from bash's `times` for its child. */
function measure(argv, cwd) {
  const script = '"$@" >/dev/null 2>&1; code=$?; times; exit $code';
  const started = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', script, 'bash', ...argv], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', SHIPGATE_ACTOR: 'bench' } });
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const times = r.stdout.trim().split('\n').at(-1).match(/(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/);
  if (!times) throw new Error(`no times from ${argv.join(' ')}: ${r.stdout} ${r.stderr}`);
  const user = Number(times[1]) * 60 + Number(times[2]);
  const sys = Number(times[3]) * 60 + Number(times[4]);
  return { code: r.status, cpu: user + sys, user, sys, wall };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round3 = (x) => Math.round(x * 1000) / 1000;

export async function run() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-cli-start-'));
  try {
    writeFileSync(path.join(dir, 'shipgate.yml'), config());
    const node = process.execPath;
    const arms = {
      'node -e 0': { argv: [node, '-e', '0'], okCodes: [0] },
      'shipgate --help': { argv: [node, BIN, '--help'], okCodes: [0] },
      'shipgate window check --env desk3': { argv: [node, BIN, 'window', 'check', '--env', 'desk3'], okCodes: [0, 3] },
      'shipgate status': { argv: [node, BIN, 'status'], okCodes: [0] },
      // What the commands cannot avoid loading, alone: the evidence when a ratio misses its goal.
      ...Object.fromEntries(LIBRARIES.map((lib) => [`import ${lib}`, { argv: [node, '--input-type=module', '-e', `await import(${JSON.stringify(import.meta.resolve(lib))})`], okCodes: [0] }])),
    };
    // The store exists and holds some history before the measured runs (the first status creates it).
    for (const args of [['status'], ['lock', 'acquire', 'desk1', '--reason', 'bench']]) {
      const r = spawnSync(node, [BIN, ...args], { cwd: dir, encoding: 'utf8', env: { ...process.env, SHIPGATE_ACTOR: 'bench' } });
      if (r.status !== 0) throw new Error(`shipgate ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    }
    const samples = Object.fromEntries(Object.keys(arms).map((k) => [k, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, arm] of Object.entries(arms)) {
        const m = measure(arm.argv, dir);
        if (!arm.okCodes.includes(m.code)) throw new Error(`${name} exited ${m.code}`);
        samples[name].push(m);
      }
    }
    const baseline = median(samples['node -e 0'].map((m) => m.cpu));
    const baselineWall = median(samples['node -e 0'].map((m) => m.wall));
    const commands = Object.fromEntries(
      Object.entries(samples).map(([name, ms]) => {
        const cpu = median(ms.map((m) => m.cpu));
        const wall = median(ms.map((m) => m.wall));
        return [name, {
          cpuSeconds: round3(cpu),
          userSeconds: round3(median(ms.map((m) => m.user))),
          sysSeconds: round3(median(ms.map((m) => m.sys))),
          wallSeconds: round3(wall),
          cpuRatio: round3(cpu / baseline),
          wallRatio: round3(wall / baselineWall),
        }];
      }),
    );
    const measured = Object.entries(commands).filter(([name]) => name.startsWith('shipgate '));
    return {
      rounds: ROUNDS,
      environments: ENVIRONMENTS,
      store: 'sqlite',
      goal: `cpuRatio <= ${GOAL_RATIO} for each command (CPU = user + sys, median of the rounds, against node -e 0 in the same run)`,
      commands,
      withinGoal: measured.every(([, c]) => c.cpuRatio <= GOAL_RATIO),
      note:
        'A module costs per file loaded: kysely is ~260 ES module files, zod ~95, yaml ~73 (see the import arms). ' +
        'window check must load yaml and zod to validate shipgate.yml, status those and kysely for the store, so neither can reach 2x ' +
        'while each process loads those files; bundling them into one file each, or a validated-config cache, would be the next step.',
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
