// Rollback time with real docker-compose (v1) on a private Docker engine: `shipgate rollback`
// of the sample stack from v1.1.0 to v1.0.0, against what a person types from the runbook
// (`git checkout v1.0.0`, `TAG=v1.0.0 docker-compose -f ... -p ... up -d`, then polling every
// health URL once a second until all three answer 200 with the old version). Both arms start
// from v1.1.0 running and end when every service serves v1.0.0; both reuse the v1.0.0 images
// (nothing is rebuilt); shipgate's verify polls once a second too. Alternating arms, medians.
// `shipgate.breakdown` says where shipgate's time went, from its command log (medians per command):
// before the first command (Node start, config, store, lock, records, git), each docker/compose
// command with shipgate's own work before it, and after the last one (health, records, exit).
// Runs against dist/ (`npm run build`); `node bench/run.mjs rollback` runs only this one; shipgate
// runs on the Node that runs the bench.
// Needs root and Debian's docker.io and docker-compose (scripts/ensure-system-deps.sh).
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDemoRepo } from '../demo/stack/build-repo.mjs';
import { importNodeBaseImage, startLocalEngine } from '../dist/adapters/targets/compose/local-engine.js';
import { freePorts } from '../dist/demo/free-port.js';
import { demoStackConfig } from '../dist/demo/stack-config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REPETITIONS = Number(process.env.ROLLBACK_BENCH_REPETITIONS ?? 5);
const PROJECT = 'sample_trading_platform_staging';
const POLL_MS = 1000;
const POLL_LIMIT_MS = 60_000;

function exec(file, args, options = {}) {
  return new Promise((resolve, reject) => {
    execFile(file, args, { maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...options }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
  });
}

function shipgate(dir, args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'shipgate'), ...args], { cwd: dir, env: { ...process.env, SHIPGATE_ACTOR: 'bench', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`shipgate ${args.join(' ')} exited ${code}: ${err.trim() || out.trim()}`))));
  });
}

async function healthVersion(port) {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(2000) });
    return res.status === 200 ? (await res.json()).version : undefined;
  } catch {
    return undefined;
  }
}

async function allServe(ports, version) {
  return (await Promise.all(ports.map(healthVersion))).every((v) => v === version);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const round = (ms) => Math.round(ms);

/**
 * Where one shipgate rollback's time went, from the command log (each line: its end `at` and
 * its `ms`): before the first command (Node start, config, store, lock, records), each command
 * with the gap before it (shipgate's own work between commands), and after the last one
 * (health verification, records, exit).
 */
function timeline(wall0, wall1, ran) {
  const cmds = ran.filter((c) => c.cmd).map((c) => ({ cmd: c.cmd.replace(/ -f \S+/g, '').replace(/^\S+=\S+ /, '').replace(/( [0-9a-f]{64})+/g, ' <ids>').replace(/ --format .*/, ' --format ...'), end: Date.parse(c.at), ms: c.ms }));
  let prev = wall0;
  const steps = cmds.map((c) => {
    const start = c.end - c.ms;
    const step = { cmd: c.cmd, gapBeforeMs: start - prev, ms: c.ms };
    prev = c.end;
    return step;
  });
  return { beforeFirstCommandMs: cmds.length ? steps[0].gapBeforeMs : undefined, commands: steps, afterLastCommandMs: wall1 - prev };
}

/** Medians, position by position, of timelines that ran the same commands. */
function medianTimeline(timelines) {
  const same = timelines.filter((t) => t.commands.map((c) => c.cmd).join('|') === timelines[0].commands.map((c) => c.cmd).join('|'));
  return {
    of: same.length,
    beforeFirstCommandMs: round(median(same.map((t) => t.beforeFirstCommandMs))),
    commands: same[0].commands.map((c, i) => ({ cmd: c.cmd, gapBeforeMs: round(median(same.map((t) => t.commands[i].gapBeforeMs))), ms: round(median(same.map((t) => t.commands[i].ms))) })),
    afterLastCommandMs: round(median(same.map((t) => t.afterLastCommandMs))),
  };
}

export async function run() {
  const engine = await startLocalEngine();
  const work = mkdtempSync(path.join(os.tmpdir(), 'sg-rollback-bench-'));
  try {
    await importNodeBaseImage(engine);
    const repo = await buildDemoRepo(path.join(work, 'repo'), { releases: ['v1.0.0', 'v1.1.0'] });
    const [signal, gateway, orchestrator] = await freePorts(3);
    const ports = [signal, gateway, orchestrator];
    const yaml = demoStackConfig(repo.dir, { staging: { signal, gateway, orchestrator } }, { healthTimeout: '60s' })
      .replace('target: { type: process }', `target: { type: compose, cli: docker-compose, dockerHost: ${JSON.stringify(engine.host)} }`)
      .replace('interval: 250ms', `interval: ${POLL_MS}ms`);
    writeFileSync(path.join(work, 'shipgate.yml'), yaml);

    // The person's own checkout of the stack, as in the runbook (`git checkout v1.0.0`).
    const person = path.join(work, 'person');
    await exec('git', ['clone', '--quiet', repo.dir, person]);
    const personEnv = {
      ...process.env,
      DOCKER_HOST: engine.host,
      SHIPGATE_ENV: 'staging',
      SIGNAL_SERVICE_PORT: String(signal),
      EXECUTION_GATEWAY_PORT: String(gateway),
      ORCHESTRATOR_PORT: String(orchestrator),
    };
    const composeUp = (version) => exec('docker-compose', ['-f', path.join(person, 'docker-compose.yml'), '-p', PROJECT, 'up', '-d'], { cwd: person, env: { ...personEnv, TAG: version } });

    // Both releases deployed once through shipgate: their images are built here, untimed.
    await shipgate(work, ['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    await shipgate(work, ['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    const commandLog = path.join(work, '.shipgate', 'compose', 'staging.commands.log');

    const samples = { shipgate: [], raw: [], rawUp: [], shipgateComposeCommands: [], timelines: [] };
    for (let i = 0; i < REPETITIONS; i++) {
      // shipgate: from v1.1.0 (deployed by shipgate) back to the last good release.
      if (!(await allServe(ports, 'v1.1.0'))) throw new Error('v1.1.0 does not run before the shipgate rollback');
      const logLines = readFileSync(commandLog, 'utf8').split('\n').filter(Boolean).length;
      const wall0 = Date.now();
      let t0 = performance.now();
      await shipgate(work, ['rollback', 'staging', '--reason', 'bench', '--json']);
      const wall1 = Date.now();
      if (!(await allServe(ports, 'v1.0.0'))) throw new Error('shipgate rollback returned before v1.0.0 served');
      samples.shipgate.push(performance.now() - t0);
      const ran = readFileSync(commandLog, 'utf8').split('\n').filter(Boolean).slice(logLines).map((l) => JSON.parse(l));
      if (ran.some((c) => / (build|pull)\b/.test(c.cmd ?? ''))) throw new Error('the shipgate rollback rebuilt images');
      samples.shipgateComposeCommands.push(ran.filter((c) => c.cmd).reduce((sum, c) => sum + c.ms, 0));
      samples.timelines.push(timeline(wall0, wall1, ran));

      // Back to v1.1.0 through shipgate (untimed; the rollback marked it bad, so it is an audited override), then the person's rollback.
      await shipgate(work, ['deploy', 'staging', '--version', 'v1.1.0', '--allow-bad', '--reason', 'bench: back to the release the next rollback leaves', '--json']);
      await exec('git', ['-C', person, 'checkout', '--quiet', 'v1.1.0']);
      t0 = performance.now();
      await exec('git', ['-C', person, 'checkout', '--quiet', 'v1.0.0']);
      const up0 = performance.now();
      await composeUp('v1.0.0');
      samples.rawUp.push(performance.now() - up0);
      const deadline = Date.now() + POLL_LIMIT_MS;
      while (!(await allServe(ports, 'v1.0.0'))) {
        if (Date.now() > deadline) throw new Error('v1.0.0 did not come back within a minute after docker-compose up');
        await new Promise((r) => setTimeout(r, POLL_MS));
      }
      samples.raw.push(performance.now() - t0);

      // Return to v1.1.0 the same way, so shipgate's records match what runs (untimed).
      await exec('git', ['-C', person, 'checkout', '--quiet', 'v1.1.0']);
      await composeUp('v1.1.0');
      const until = Date.now() + POLL_LIMIT_MS;
      while (!(await allServe(ports, 'v1.1.0'))) {
        if (Date.now() > until) throw new Error('v1.1.0 did not come back');
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const shipgateMedian = median(samples.shipgate);
    const rawMedian = median(samples.raw);
    return {
      what: 'rollback v1.1.0 -> v1.0.0 of the 3-service sample stack with docker-compose v1 on a private engine; until every /health serves v1.0.0',
      engine: { serverVersion: engine.serverVersion, storageDriver: engine.storageDriver, compose: (await exec('docker-compose', ['version', '--short'])).trim() },
      repetitions: REPETITIONS,
      pollIntervalMs: POLL_MS,
      shipgate: { command: 'shipgate rollback staging --reason bench', medianMs: round(shipgateMedian), samplesMs: samples.shipgate.map(round), medianInComposeAndDockerCommandsMs: round(median(samples.shipgateComposeCommands)), breakdown: medianTimeline(samples.timelines) },
      raw: { commands: 'git checkout v1.0.0 && TAG=v1.0.0 docker-compose -f docker-compose.yml -p <project> up -d && poll /health every 1s', medianMs: round(rawMedian), samplesMs: samples.raw.map(round), medianComposeUpMs: round(median(samples.rawUp)) },
      ratio: Math.round((shipgateMedian / rawMedian) * 100) / 100,
      // Each round's shipgate arm over the raw arm right after it: steadier than the ratio of the
      // medians when the machine's load moves during the run (other work on shared cores).
      pairedRatioMedian: Math.round(median(samples.shipgate.map((ms, i) => ms / samples.raw[i])) * 100) / 100,
    };
  } finally {
    await engine.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
