// The compose target: exact argv of every command (v1 and v2), then the deploy / rollback story
// of the sample stack on a real, private Docker engine with the real docker-compose.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeCommands, defaultProjectName, dockerCommands, portVariable, type ComposeInvocation } from '../src/adapters/targets/compose/commands.js';
import { detectComposeCli, onPath } from '../src/adapters/targets/compose/detect.js';
import { composeFindings } from '../src/adapters/targets/compose/diagnosis.js';
import { ComposeTarget, composeLayout, selectPrunable } from '../src/adapters/targets/compose/driver.js';
import { parseComposeConfig } from '../src/adapters/targets/compose/config-output.js';
import { composeDurationSeconds, normalizeImageRef, parseImageList, parseInspect, plainLogLines, splitPrefixedLogs } from '../src/adapters/targets/compose/parse.js';
import { commandEnvironment, composeVariables } from '../src/adapters/targets/compose/variables.js';
import { localRunner, type Runner } from '../src/adapters/runner/runner.js';
import { GitRepository } from '../src/adapters/vcs/git.js';
import { resolveServices, type ResolvedService } from '../src/config/resolve.js';
import { loadConfig } from '../src/config/load.js';
import type { ComposeTargetSpec } from '../src/config/schema.js';
import { compareReleaseImages } from '../src/adapters/targets/compose/driver.js';
import { containersUpWillNotReplace, parseProjectContainers } from '../src/adapters/targets/compose/compare.js';
import { floatingImageReason, imageTag, releaseTag } from '../src/adapters/targets/compose/images.js';
import { activeServices } from '../src/adapters/targets/compose/parse.js';
import { flattenNestedDefaults } from '../src/adapters/targets/compose/flatten.js';
import { ShipgateError } from '../src/core/errors.js';
import { imageIdentity, startDocker, type DockerHarness } from './harness/docker.js';
import { shipgate } from './harness/cli.js';
import { addRelease } from './harness/git.js';
import { stackWorkspace, type StackWorkspace } from './harness/stack.js';
import { scaled } from './harness/pace.js';

const v1: ComposeInvocation = { cli: 'v1', files: ['/r/docker-compose.yml', '/r/docker-compose.prod.yml'], project: 'trading_production' };
const v2: ComposeInvocation = { ...v1, cli: 'v2' };
const F = ['-f', '/r/docker-compose.yml', '-f', '/r/docker-compose.prod.yml', '-p', 'trading_production'];

describe('compose command builders', () => {
  it('v1 runs docker-compose, v2 the docker compose plugin, with the same files, project and options', () => {
    const cases: [keyof typeof composeCommands, (inv: ComposeInvocation) => readonly string[], string[]][] = [
      ['build', (i) => composeCommands.build(i), ['build']],
      ['build', (i) => composeCommands.build(i, ['gateway', 'signals']), ['build', 'gateway', 'signals']],
      ['pull', (i) => composeCommands.pull(i), ['pull']],
      ['pull', (i) => composeCommands.pull(i, ['redis']), ['pull', 'redis']],
      ['up', (i) => composeCommands.up(i, { noBuild: false }), ['up', '-d', '--remove-orphans']],
      ['up', (i) => composeCommands.up(i, { noBuild: true }), ['up', '-d', '--remove-orphans', '--no-build']],
      ['up', (i) => composeCommands.up(i, { noBuild: true, stopTimeout: 30 }), ['up', '-d', '-t', '30', '--remove-orphans', '--no-build']],
      ['upService', (i) => composeCommands.upService(i, 'gateway'), ['up', '-d', '--no-build', '--no-deps', 'gateway']],
      ['down', (i) => composeCommands.down(i), ['down', '--remove-orphans']],
      ['logs', (i) => composeCommands.logs(i, 100), ['logs', '--tail', '100', '--no-color']],
      ['logs', (i) => composeCommands.logs(i, 5, 'gateway'), ['logs', '--tail', '5', '--no-color', '--no-log-prefix', 'gateway']],
      ['restart', (i) => composeCommands.restart(i, 'gateway'), ['restart', 'gateway']],
      ['config', (i) => composeCommands.config(i), ['config']],
    ];
    for (const [, build, sub] of cases) {
      expect(build(v1)).toEqual(['docker-compose', ...F, ...sub]);
      expect(build(v2)).toEqual(['docker', 'compose', ...F, ...sub]);
    }
    expect(composeCommands.version('v1')).toEqual(['docker-compose', 'version', '--short']);
    expect(composeCommands.version('v2')).toEqual(['docker', 'compose', 'version', '--short']);
  });

  it('reads container state with the engine CLI, by the compose project label, for both', () => {
    expect(dockerCommands.projectContainers('trading_production')).toEqual(['docker', 'ps', '-a', '-q', '--no-trunc', '--filter', 'label=com.docker.compose.project=trading_production']);
    expect(dockerCommands.inspect(['abc', 'def'])).toEqual(['docker', 'inspect', '--type', 'container', 'abc', 'def']);
    expect(dockerCommands.imageList(['t/gw:v1', 't/sig:v1'])).toEqual(['docker', 'image', 'ls', '--filter', 'reference=t/gw:v1', '--filter', 'reference=t/sig:v1', '--format', '{{.Repository}}:{{.Tag}}']);
    expect(dockerCommands.imageRemove(['t/gw:v0'])).toEqual(['docker', 'image', 'rm', 't/gw:v0']);
    expect(dockerCommands.projectContainerList('p')).toEqual(['docker', 'ps', '-a', '--no-trunc', '--filter', 'label=com.docker.compose.project=p', '--format', '{{.ID}}|{{.State}}|{{.Label "com.docker.compose.service"}}|{{.Label "com.docker.compose.oneoff"}}']);
    expect(dockerCommands.runningContainers('p')).toEqual(['docker', 'ps', '-q', '--no-trunc', '--filter', 'label=com.docker.compose.project=p']);
    expect(dockerCommands.stopContainers(['abc', 'def'])).toEqual(['docker', 'stop', 'abc', 'def']);
    expect(dockerCommands.stopContainers(['abc'], 30)).toEqual(['docker', 'stop', '-t', '30', 'abc']);
    expect(dockerCommands.removeContainers(['abc'])).toEqual(['docker', 'rm', '--force', 'abc']);
    expect(dockerCommands.projectNetworks('p')).toEqual(['docker', 'network', 'ls', '-q', '--filter', 'label=com.docker.compose.project=p']);
    expect(dockerCommands.removeNetworks(['n1'])).toEqual(['docker', 'network', 'rm', 'n1']);
    expect(dockerCommands.containerImages()).toEqual(['docker', 'ps', '-a', '--format', '{{.Image}}']);
  });

  it('names projects and port variables predictably', () => {
    expect(defaultProjectName('sample_trading_platform', 'staging')).toBe('sample_trading_platform_staging');
    expect(defaultProjectName('Trading Platform!', 'prod')).toBe('tradingplatform_prod');
    expect(portVariable('signal_service')).toBe('SIGNAL_SERVICE_PORT');
    expect(portVariable('api-gw')).toBe('API_GW_PORT');
  });

  it('passes the version, ports and env settings as variables, secrets only by name', () => {
    const svc = (name: string, port: number | undefined, env: Record<string, string> = {}, passEnv: string[] = []): ResolvedService => ({ name, command: ['x'], cwd: '.', port, healthUrl: undefined, metricsUrl: undefined, env, passEnv });
    const services = [svc('signal_service', 8001, { TRADING_MODE: 'paper' }), svc('execution_gateway', 8002, { TRADING_MODE: 'paper' }, ['BROKER_KEY']), svc('worker', undefined)];
    const vars = composeVariables({ env: 'staging', version: 'v1.2.3', versionVariable: 'TAG', services });
    expect(vars).toEqual({ TRADING_MODE: 'paper', SIGNAL_SERVICE_PORT: '8001', EXECUTION_GATEWAY_PORT: '8002', SHIPGATE_ENV: 'staging', SHIPGATE_VERSION: 'v1.2.3', TAG: 'v1.2.3' });
    const env = commandEnvironment(
      { PATH: '/bin', HOME: '/root', DOCKER_CONFIG: '/d', DOCKER_HOST: 'unix:///env.sock', COMPOSE_FILE: 'other.yml', BROKER_KEY: 's3cret', AWS_SECRET_ACCESS_KEY: 'nope', TAG: 'stale' },
      vars,
      ['BROKER_KEY'],
      'unix:///config.sock',
    );
    expect(env).toEqual({ PATH: '/bin', HOME: '/root', DOCKER_CONFIG: '/d', DOCKER_HOST: 'unix:///config.sock', BROKER_KEY: 's3cret', ...vars });
    expect(commandEnvironment({ DOCKER_HOST: 'unix:///env.sock' }, {}, [], undefined).DOCKER_HOST).toBe('unix:///env.sock');
  });

  it('parses compose config, image lists, inspect documents and logs', () => {
    const config = `services:\n  gateway:\n    build:\n      context: /r\n    image: t/gw:v1\n    stop_grace_period: 1m30s\n  redis:\n    image: redis:7\n  worker:\n    build: /r/worker\n`;
    expect(parseComposeConfig(config)).toEqual([
      { name: 'gateway', image: 't/gw:v1', buildable: true, stopGraceSeconds: 90 },
      { name: 'redis', image: 'redis:7', buildable: false },
      { name: 'worker', image: undefined, buildable: true },
    ]);
    expect([composeDurationSeconds('5s'), composeDurationSeconds('1500ms'), composeDurationSeconds('1h2m'), composeDurationSeconds(7), composeDurationSeconds('soon')]).toEqual([5, 2, 3720, 7, undefined]);
    expect(normalizeImageRef('docker.io/library/redis')).toBe('redis:latest');
    expect(normalizeImageRef('localhost:5000/t/gw')).toBe('localhost:5000/t/gw:latest');
    expect([...parseImageList('t/gw:v1\n<none>:<none>\nredis:7\n')]).toEqual(['t/gw:v1', 'redis:7']);

    const inspect = JSON.stringify([
      { Id: 'a1', Name: '/p_gateway_1', Config: { Image: 't/gw:v1', Labels: { 'com.docker.compose.service': 'gateway', 'com.docker.compose.oneoff': 'False' } }, State: { Status: 'exited', Running: false, ExitCode: 137, Pid: 0, StartedAt: '2026-01-01T00:00:00Z', Health: { Status: 'unhealthy' } } },
      { Id: 'b2', Name: '/p_signals_1', Config: { Image: 't/sig:v1', Labels: { 'com.docker.compose.service': 'signals' } }, State: { Status: 'running', Running: true, ExitCode: 0, Pid: 42, StartedAt: '2026-01-01T00:00:01Z', Health: { Status: 'healthy' } } },
      { Id: 'c3', Name: '/p_signals_run_1', Config: { Image: 't/sig:v1', Labels: { 'com.docker.compose.service': 'signals', 'com.docker.compose.oneoff': 'True' } }, State: { Status: 'exited', Running: false, ExitCode: 1 } },
    ]);
    expect(parseInspect(inspect, { version: 'v1', ports: { signals: 8001, gateway: 8002 }, order: ['signals', 'gateway'] })).toEqual([
      { service: 'signals', state: 'running', version: 'v1', pid: 42, port: 8001, startedAt: '2026-01-01T00:00:01Z', status: 'running', exitCode: undefined, health: 'healthy', container: 'p_signals_1', image: 't/sig:v1' },
      { service: 'gateway', state: 'stopped', version: 'v1', port: 8002, startedAt: '2026-01-01T00:00:00Z', status: 'exited', exitCode: 137, health: 'unhealthy', container: 'p_gateway_1', image: 't/gw:v1' },
    ]);

    const v1Logs = 'Attaching to p_api_1, p_api_gateway_1\napi_1          | GET / 200\napi_gateway_1  | a | b\n';
    const v2Logs = 'api-1          | GET / 200\napi_gateway-1  | a | b\n';
    for (const text of [v1Logs, v2Logs]) expect(Object.fromEntries(splitPrefixedLogs(text, ['api', 'api_gateway']))).toEqual({ api: ['GET / 200'], api_gateway: ['a | b'] });
    expect(plainLogLines('Attaching to p_api_1\nline 1\nline 2\n')).toEqual(['line 1', 'line 2']);
    expect(plainLogLines('line 1\n')).toEqual(['line 1']);
  });

  it('keeps the images of the last keepReleases releases', () => {
    expect(selectPrunable(['v1', 'v2', 'v3', 'v4'], 2)).toEqual({ keep: ['v3', 'v4'], drop: ['v1', 'v2'] });
    expect(selectPrunable(['v1'], 5)).toEqual({ keep: ['v1'], drop: [] });
  });

  it('detects the CLI: docker-compose on PATH first, else a working docker compose', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sg-path-'));
    try {
      const none: Runner = { run: async (argv) => ({ argv, exitCode: 1, stdout: '', stderr: 'docker: unknown command: docker compose' }) };
      const works: Runner = { run: async (argv) => ({ argv, exitCode: 0, stdout: '2.29.1', stderr: '' }) };
      expect(await detectComposeCli('docker-compose', none, { PATH: dir })).toBe('v1');
      expect(await detectComposeCli('docker compose', none, { PATH: dir })).toBe('v2');
      expect(await detectComposeCli('auto', works, { PATH: dir })).toBe('v2');
      await expect(detectComposeCli('auto', none, { PATH: dir })).rejects.toThrow(/neither docker-compose nor the docker compose plugin/);
      writeFileSync(path.join(dir, 'docker-compose'), '#!/bin/sh\n');
      expect(onPath('docker-compose', dir)).toBe(false); // not executable
      chmodSync(path.join(dir, 'docker-compose'), 0o755);
      expect(await detectComposeCli('auto', works, { PATH: `/nonexistent:${dir}` })).toBe('v1');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('compose target with a scripted runner', () => {
  const release = (version: string) => ({ env: 'staging', version, commit: 'c0ffee', services: [{ name: 'gateway', command: ['x'], cwd: '.', port: 8002, healthUrl: undefined, metricsUrl: undefined, env: {}, passEnv: ['BROKER_KEY'] }] });
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'sg-compose-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function scripted(answers: (argv: readonly string[]) => { exitCode?: number; stdout?: string; stderr?: string }, specOverrides: Partial<ComposeTargetSpec> = {}) {
    const calls: { argv: readonly string[]; env: NodeJS.ProcessEnv | undefined; cwd: string | undefined }[] = [];
    const runner: Runner = {
      run: async (argv, options = {}) => {
        calls.push({ argv, env: options.env, cwd: options.cwd });
        const a = answers(argv);
        return { argv, exitCode: a.exitCode ?? 0, stdout: a.stdout ?? '', stderr: a.stderr ?? '' };
      },
    };
    const stateDir = path.join(dir, `state-${Math.random().toString(36).slice(2)}`);
    const target = new ComposeTarget({
      envName: 'staging',
      spec: { type: 'compose', files: ['docker-compose.yml'], cli: 'docker-compose', versionVariable: 'TAG', build: true, pull: false, keepReleases: 5, dockerHost: 'unix:///tmp/x.sock', profiles: [], images: { tag: '{version}' }, allowFloatingImages: false, dependencies: [], ...specOverrides },
      projectName: 'trading',
      layout: composeLayout(stateDir),
      repo: new GitRepository(dir, runner),
      runner,
      parentEnv: { PATH: '/usr/bin', BROKER_KEY: 'k', UNRELATED_SECRET: 's' },
    });
    return { target, calls, stateDir };
  }

  it('starts a release whose images exist with --no-build, passing TAG, ports and DOCKER_HOST', async () => {
    const { target, calls, stateDir } = scripted((argv) => (argv.includes('config') ? { stdout: 'services:\n  gateway:\n    build: .\n    image: t/gw:v9\n' } : argv[2] === 'ls' ? { stdout: 't/gw:v9\n' } : {}));
    const rel = path.join(stateDir, 'releases', 'staging', 'v9');
    mkdirSync(rel, { recursive: true });
    writeFileSync(path.join(rel, 'docker-compose.yml'), 'services: {}\n');
    await target.up(release('v9'));
    const up = calls.find((c) => c.argv.includes('up'))!;
    expect(up.argv).toEqual(['docker-compose', '-f', path.join(rel, 'docker-compose.yml'), '-p', 'trading_staging', 'up', '-d', '--remove-orphans', '--no-build']);
    expect(up.cwd).toBe(rel);
    expect(up.env).toEqual({ PATH: '/usr/bin', BROKER_KEY: 'k', GATEWAY_PORT: '8002', SHIPGATE_ENV: 'staging', SHIPGATE_VERSION: 'v9', TAG: 'v9', DOCKER_HOST: 'unix:///tmp/x.sock' });
    expect(calls.map((c) => c.argv.slice(0, 3).join(' '))).toEqual(['docker-compose -f ' + path.join(rel, 'docker-compose.yml'), 'docker image ls', 'docker ps -a', 'docker-compose -f ' + path.join(rel, 'docker-compose.yml')]);
  });

  it('before up, stops what up would not replace stop-first (one-off, dropped and doubled services), with the running release\'s grace', async () => {
    const config = 'services:\n  gateway:\n    image: t/gw:v9\n  pricer:\n    image: t/pr:v9\n  tools:\n    image: t/tools:v9\n    profiles: [debug]\n';
    const ps = ['g1|running|gateway|False', 'g2|running|gateway|True', 'p1|running|pricer|False', 'p2|exited|pricer|False', 't1|running|tools|False', 'o1|running|old_service|False', 's1|running|signals|False'].join('\n');
    const { target, calls, stateDir } = scripted((argv) => (argv.includes('config') ? { stdout: config } : argv[2] === 'ls' ? { stdout: 't/gw:v9\nt/pr:v9\nt/tools:v9\n' } : argv[1] === 'ps' ? { stdout: `${ps}\n` } : {}));
    const rel = path.join(stateDir, 'releases', 'staging', 'v9');
    mkdirSync(rel, { recursive: true });
    writeFileSync(path.join(rel, 'docker-compose.yml'), 'services: {}\n');
    mkdirSync(path.join(stateDir, 'compose'), { recursive: true });
    writeFileSync(path.join(stateDir, 'compose', 'staging.json'), JSON.stringify({ version: 'v8', project: 'trading_staging', stopGraceSeconds: 20, releases: [] }));
    await target.up(release('v9'));
    const docker = calls.filter((c) => c.argv[0] === 'docker').map((c) => c.argv.join(' '));
    // Kept for up to replace: gateway's plain container. Stopped first: its one-off copy, both pricers
    // (two containers), tools (profile not active), old_service and signals (not in this release).
    expect(docker.slice(1, 2)).toEqual([dockerCommands.projectContainerList('trading_staging').join(' ')]);
    expect(docker.slice(2)).toEqual(['docker stop -t 20 g2 p1 t1 o1 s1', 'docker rm --force g2 p1 p2 t1 o1 s1']);
    expect(calls.at(-1)!.argv.slice(-6)).toEqual(['up', '-d', '-t', '20', '--remove-orphans', '--no-build']);
  });

  it('containersUpWillNotReplace keeps exactly the one plain container of each service in the release', () => {
    const list = parseProjectContainers('a|running|gw|False\nb|exited|sig|False\nc|running|gw|True\nd|running|gone|False\n');
    expect(list).toEqual([{ id: 'a', state: 'running', service: 'gw', oneoff: false }, { id: 'b', state: 'exited', service: 'sig', oneoff: false }, { id: 'c', state: 'running', service: 'gw', oneoff: true }, { id: 'd', state: 'running', service: 'gone', oneoff: false }]);
    expect(containersUpWillNotReplace(list, ['gw', 'sig']).map((c) => c.id)).toEqual(['c', 'd']);
    expect(containersUpWillNotReplace([...list, { id: 'e', state: 'running', service: 'sig', oneoff: false }], ['gw', 'sig']).map((c) => c.id)).toEqual(['b', 'c', 'd', 'e']);
    expect(containersUpWillNotReplace([], ['gw'])).toEqual([]);
  });

  it('a failing command throws a ShipgateError (exit 1) naming the command and the end of its stderr', async () => {
    const stderr = Array.from({ length: 30 }, (_, i) => `stderr line ${i + 1}`).join('\n');
    const { target, stateDir } = scripted((argv) => (argv.includes('config') ? { stdout: 'services:\n  gateway:\n    image: t/gw:v9\n' } : argv.includes('up') ? { exitCode: 1, stderr } : {}));
    const rel = path.join(stateDir, 'releases', 'staging', 'v9');
    mkdirSync(rel, { recursive: true });
    writeFileSync(path.join(rel, 'docker-compose.yml'), 'services: {}\n');
    const err = (await target.up(release('v9')).catch((e: unknown) => e)) as ShipgateError;
    expect(err).toBeInstanceOf(ShipgateError);
    expect(err.exitCode).toBe(1);
    expect(err.message).toContain(`\`TAG=v9 docker-compose -f ${path.join(rel, 'docker-compose.yml')} -p trading_staging up -d --remove-orphans --no-build\` failed (exit 1): `);
    expect(err.message).toContain('stderr line 16\n');
    expect(err.message.endsWith('stderr line 30')).toBe(true);
    expect(err.message).not.toContain('stderr line 15\n');
    expect(err.hint).toContain(rel);
  });

  /** The release dir's HEAD is the release's commit, so prepare keeps the checkout as it is. */
  const head = (answers: (argv: readonly string[]) => { exitCode?: number; stdout?: string; stderr?: string }) => (argv: readonly string[]) => (argv.includes('rev-parse') ? { stdout: 'c0ffee\n' } : answers(argv));

  /** A release dir with a compose file, for prepare (the checkout is scripted). */
  function releaseDir(stateDir: string, version: string): string {
    const rel = path.join(stateDir, 'releases', 'staging', version);
    mkdirSync(rel, { recursive: true });
    writeFileSync(path.join(rel, 'docker-compose.yml'), 'services: {}\n');
    return rel;
  }

  it('refuses (exit 3) a release whose own images float, before building or stopping anything', async () => {
    const config = 'services:\n  gateway:\n    build: .\n    image: reg.test/gw:latest\n  signals:\n    image: reg.test/signals\n  pricer:\n    build: .\n  store:\n    image: postgres:16\n  sidecar:\n    image: reg.test/sidecar:1.0\n  tools:\n    image: reg.test/tools:latest\n    profiles: [debug]\n';
    const { target, calls, stateDir } = scripted(head((argv) => (argv.includes('config') ? { stdout: config } : {})), { dependencies: ['sidecar'] });
    releaseDir(stateDir, 'v9');
    const err = (await target.prepare(release('v9')).catch((e: unknown) => e)) as ShipgateError;
    expect(err).toBeInstanceOf(ShipgateError);
    expect(err.exitCode).toBe(3);
    // postgres is infrastructure by image, sidecar a declared dependency, tools not in an active profile.
    expect((err.data!.floating as { service: string }[]).map((f) => f.service)).toEqual(['gateway', 'signals', 'pricer']);
    expect(err.message).toContain('gateway: image reg.test/gw:latest is :latest');
    expect(err.message).toContain('signals: image reg.test/signals has no tag');
    expect(err.message).toContain('pricer: has no image');
    expect(err.hint).toContain('allowFloatingImages');
    expect(calls.some((c) => c.argv.includes('build') || c.argv.includes('up') || c.argv.includes('stop'))).toBe(false);
  });

  it('allowFloatingImages deploys them anyway; images.tag and profiles reach compose', async () => {
    const config = 'services:\n  gateway:\n    image: reg.test/gw:latest\n';
    const floating = scripted(head((argv) => (argv.includes('config') ? { stdout: config } : argv[2] === 'ls' ? { stdout: 'reg.test/gw:latest\n' } : {})), { allowFloatingImages: true, build: false });
    releaseDir(floating.stateDir, 'v9');
    await floating.target.prepare(release('v9'));

    const pinned = scripted(head((argv) => (argv.includes('config') ? { stdout: 'services:\n  gateway:\n    image: reg.test/gw:sha-c0ffee\n' } : argv[2] === 'ls' ? { stdout: 'reg.test/gw:sha-c0ffee\n' } : {})), { images: { tag: 'sha-{sha7}' }, profiles: ['monitoring'], build: false });
    const rel = releaseDir(pinned.stateDir, 'v9');
    await pinned.target.prepare(release('v9'));
    await pinned.target.up(release('v9'));
    const up = pinned.calls.find((c) => c.argv.includes('up'))!;
    expect(up.argv).toEqual(['docker-compose', '-f', path.join(rel, 'docker-compose.yml'), '-p', 'trading_staging', '--profile', 'monitoring', 'up', '-d', '--remove-orphans', '--no-build']);
    expect(up.env!.TAG).toBe('sha-c0ffee');
    expect(up.env!.SHIPGATE_VERSION).toBe('v9');
  });

  it('with build and pull off, a release whose images are not on the engine fails before anything stops', async () => {
    const { target, calls, stateDir } = scripted(head((argv) => (argv.includes('config') ? { stdout: 'services:\n  gateway:\n    image: reg.test/gw:v9\n' } : { stdout: '' })), { build: false });
    releaseDir(stateDir, 'v9');
    const err = (await target.prepare(release('v9')).catch((e: unknown) => e)) as ShipgateError;
    expect(err.exitCode).toBe(1);
    expect(err.message).toBe('images of v9 are not on the engine: reg.test/gw:v9');
    expect(calls.some((c) => c.argv.includes('up'))).toBe(false);
  });

  it('a compose CLI that cannot be executed is one clear line naming it, not a stack trace', async () => {
    const { target, stateDir } = scripted(head((argv) => (argv.includes('config') ? { exitCode: 127, stderr: 'spawn docker-compose EACCES' } : {})));
    releaseDir(stateDir, 'v9');
    const err = (await target.prepare(release('v9')).catch((e: unknown) => e)) as ShipgateError;
    expect(err).toBeInstanceOf(ShipgateError);
    expect(err.message).toMatch(/docker-compose .* config` failed \(exit 127\): spawn docker-compose EACCES$/);
    expect(err.hint).toContain('docker-compose is not executable');
  });

  it('names the missing compose file of a release', async () => {
    const { target, stateDir } = scripted(() => ({}));
    mkdirSync(path.join(stateDir, 'releases', 'staging', 'v8'), { recursive: true });
    await expect(target.up(release('v8'))).rejects.toThrow('release v8 has no docker-compose.yml');
  });
});

describe('docker-compose 1.x and nested defaults', () => {
  it('resolves only the nested expressions, leaving the rest (and $$) to compose', () => {
    const text = 'image: ${REGISTRY:-${CI_REGISTRY:-reg.test/q}}/api:${TAG:-latest}\ncmd: echo $$HOME ${A:-${B}}\n';
    expect(flattenNestedDefaults(text, {})).toBe('image: reg.test/q/api:${TAG:-latest}\ncmd: echo $$HOME \n');
    expect(flattenNestedDefaults(text, { CI_REGISTRY: 'ci.test/x', B: 'p$w' })).toBe('image: ci.test/x/api:${TAG:-latest}\ncmd: echo $$HOME p$$w\n');
    expect(flattenNestedDefaults('image: a/b:${TAG}\n', {})).toBeUndefined();
  });
});

describe('images pinned to the release', () => {
  it('maps a release to its tag and tells a pinned image from a floating one', () => {
    const rel = { version: 'v2.3.0', commit: '0123456789abcdef0123' };
    expect([releaseTag('{version}', rel), releaseTag('sha-{sha7}', rel), releaseTag('{sha}', rel)]).toEqual(['v2.3.0', 'sha-0123456', '0123456789abcdef0123']);
    expect([imageTag('redis'), imageTag('host:5000/app'), imageTag('host:5000/app:v1'), imageTag('app@sha256:ab')]).toEqual([undefined, undefined, 'v1', undefined]);
    expect(floatingImageReason('ghcr.io/q/api:sha-0123456', 'sha-0123456', 'GIT_SHA')).toBeUndefined();
    expect(floatingImageReason('ghcr.io/q/api:1.4', 'v2.3.0', 'TAG')).toContain('does not change with the release');
    expect(floatingImageReason('ghcr.io/q/api:latest', 'v2.3.0', 'TAG')).toContain(':latest');
  });

  it('activeServices follows profiles; compareReleaseImages checks each container runs the release image', () => {
    const services = [{ name: 'api', image: 'q/api:v2', buildable: true }, { name: 'graf', image: 'grafana/grafana:10', buildable: false, profiles: ['monitoring'] }];
    expect(activeServices(services, []).map((s) => s.name)).toEqual(['api']);
    expect(activeServices(services, ['monitoring']).map((s) => s.name)).toEqual(['api', 'graf']);
    const container = (service: string, image: string, state: 'running' | 'stopped' = 'running') => ({ service, image, state, version: 'v2', status: state === 'running' ? 'running' : 'exited', exitCode: undefined, health: 'none' as const, container: `p_${service}_1` });
    expect(compareReleaseImages(services, [container('api', 'q/api:v2'), container('graf', 'grafana/grafana:10')]).map((c) => c.ok)).toEqual([true, true]);
    const stale = compareReleaseImages(services, [container('api', 'q/api:v1')]);
    expect(stale.map((c) => [c.ok, c.detail])).toEqual([[false, 'api runs q/api:v1, not the release\'s q/api:v2'], [false, 'graf has no container']]);
    expect(compareReleaseImages(services.slice(0, 1), [container('api', 'q/api:v2', 'stopped')])[0]!.detail).toBe("api's container p_api_1 is exited");
  });
});

/** The IDs of the project's running containers, by service. */
async function runningByService(docker: DockerHarness, project: string): Promise<Record<string, string[]>> {
  const out = await docker.docker(['ps', '--no-trunc', '--filter', `label=com.docker.compose.project=${project}`, '--format', '{{.ID}}|{{.Label "com.docker.compose.service"}}']);
  const by: Record<string, string[]> = {};
  for (const [id, service] of out.split('\n').filter(Boolean).map((l) => l.split('|') as [string, string])) (by[service] ??= []).push(id);
  return by;
}

/**
 * From the engine's event log since `since` (Unix seconds), starting from the containers that ran
 * then: per service, how many containers started, and every start while another of it still ran.
 */
async function containerLifecycle(docker: DockerHarness, project: string, since: string, runningThen: Record<string, string[]>): Promise<{ starts: Record<string, number>; overlaps: string[] }> {
  const until = (Date.now() / 1000).toFixed(3);
  const out = await docker.docker(['events', '--since', since, '--until', until, '--filter', 'type=container', '--filter', `label=com.docker.compose.project=${project}`, '--filter', 'event=start', '--filter', 'event=die', '--format', '{{json .}}']);
  const events = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { Action: string; id: string; timeNano: number; Actor: { Attributes: Record<string, string> } }).sort((a, b) => a.timeNano - b.timeNano);
  const running = new Map(Object.entries(runningThen).map(([service, ids]) => [service, new Set(ids)]));
  const starts: Record<string, number> = {};
  const overlaps: string[] = [];
  for (const e of events) {
    const service = e.Actor.Attributes['com.docker.compose.service']!;
    const set = running.get(service) ?? new Set<string>();
    running.set(service, set);
    if (e.Action === 'start') {
      if (set.size) overlaps.push(`${service}: ${e.id.slice(0, 12)} started while ${[...set].map((id) => id.slice(0, 12)).join(', ')} ran`);
      set.add(e.id);
      starts[service] = (starts[service] ?? 0) + 1;
    } else set.delete(e.id);
  }
  return { starts, overlaps };
}

async function healthVersion(port: number): Promise<string | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    return ((await res.json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

const HAS_V2 = (() => {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The whole story on one CLI; v2 runs only where the plugin exists (Debian 12 has none). */
function composeStory(cli: 'docker-compose' | 'docker compose') {
  let docker: DockerHarness;
  let ws: StackWorkspace;
  let ports: StackWorkspace['ports'][string];
  const project = 'sample_trading_platform_staging';
  const commands = () => readFileSync(path.join(ws.dir, '.shipgate', 'compose', 'staging.commands.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { cmd?: string; note?: string; exitCode?: number });
  const target = () =>
    new ComposeTarget({
      envName: 'staging',
      spec: { type: 'compose', files: ['docker-compose.yml'], cli, versionVariable: 'TAG', build: true, pull: false, keepReleases: 2, dockerHost: docker.host, profiles: [], images: { tag: '{version}' }, allowFloatingImages: false, dependencies: [] },
      projectName: 'sample_trading_platform',
      layout: composeLayout(path.join(ws.dir, '.shipgate')),
      repo: new GitRepository(ws.repoDir, localRunner),
      runner: localRunner,
    });
  // Deploys build images and wait for health: more than the CLI harness's default minute on 2 busy cores.
  const run = (args: string[]) => shipgate(args, { cwd: ws.dir, timeoutMs: 240_000 });
  const images = (tag: string) => Promise.all(['signal_service', 'execution_gateway', 'orchestrator'].map((s) => imageIdentity(docker, `shipgate-demo/${s}:${tag}`)));

  beforeAll(async () => {
    docker = await startDocker();
    ws = await stackWorkspace(['staging'], ['v1.0.0', 'v1.1.0'], {
      healthTimeout: '12s',
      patch: (yaml) => yaml.replace('target: { type: process }', `target: { type: compose, cli: ${cli}, dockerHost: ${JSON.stringify(docker.host)}, keepReleases: 2 }`),
    });
    ports = ws.ports.staging!;
    // A release whose signal service dies at start-up, and one whose compose file is broken.
    addRelease(ws.repoDir, 'v1.1.0', 'v1.2.0', { 'signal_service/main.mjs': 'console.error("FATAL: missing config"); process.exit(3);\n', VERSION: 'v1.2.0\n' });
    addRelease(ws.repoDir, 'v1.1.0', 'v1.3.0', { 'docker-compose.yml': 'version: "2.4"\nservices:\n  signal_service:\n    image: [not, a, string]\n', VERSION: 'v1.3.0\n' });
  }, scaled(180_000));
  afterAll(async () => {
    await docker?.stop();
    await ws?.cleanup();
  }, scaled(120_000));

  it('uses a private engine and the node base image made without a registry', async () => {
    expect(docker.host).toMatch(/^unix:\/\/.*docker\.sock$/);
    expect(['overlay2', 'vfs']).toContain(docker.storageDriver);
    expect(await imageIdentity(docker, docker.baseImage)).toBeDefined();
  });

  it('deploys v1.0.0: builds its images once and every service answers with that version', async () => {
    const res = await run(['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.json()).toMatchObject({ ok: true, kind: 'deploy', version: 'v1.0.0' });
    for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');
    const orchestrator = (await (await fetch(`http://127.0.0.1:${ports.orchestrator}/status`)).json()) as { status: string };
    expect(orchestrator.status).toBe('healthy');

    const bin = cli === 'docker-compose' ? 'docker-compose' : 'docker compose';
    const files = `-f ${path.join(ws.dir, '.shipgate', 'releases', 'staging', 'v1.0.0', 'docker-compose.yml')} -p ${project}`;
    const ran = commands().map((c) => c.cmd);
    // `compose config` lists the services alphabetically; only those whose image is missing are built.
    expect(ran).toEqual(expect.arrayContaining([
      `TAG=v1.0.0 ${bin} ${files} config`,
      `TAG=v1.0.0 ${bin} ${files} build execution_gateway orchestrator signal_service`,
      `TAG=v1.0.0 ${bin} ${files} up -d --remove-orphans --no-build`,
    ]));
    expect((await images('v1.0.0')).every(Boolean)).toBe(true);

    const status = (await run(['status', '--env', 'staging', '--json'])).json().environments[0];
    expect(status.currentVersion).toBe('v1.0.0');
    expect(status.services.map((s: any) => [s.service, s.process, s.healthy, s.version])).toEqual([
      ['signal_service', 'running', true, 'v1.0.0'],
      ['execution_gateway', 'running', true, 'v1.0.0'],
      ['orchestrator', 'running', true, 'v1.0.0'],
    ]);
    expect(status.services.every((s: any) => Number.isInteger(s.pid) && s.pid > 0)).toBe(true);
    const names = (await docker.docker(['ps', '--format', '{{.Names}}'])).split('\n').filter(Boolean).sort();
    expect(names).toEqual(cli === 'docker-compose'
      ? [`${project}_execution_gateway_1`, `${project}_orchestrator_1`, `${project}_signal_service_1`]
      : [`${project}-execution_gateway-1`, `${project}-orchestrator-1`, `${project}-signal_service-1`]);
  });

  it('a release that fails verification exits 1 and the automatic rollback starts v1.0.0 without rebuilding it', async () => {
    const before = await images('v1.0.0');
    const mark = commands().length;
    const res = await run(['deploy', 'staging', '--version', 'v1.2.0', '--json']);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, version: 'v1.2.0', failedStep: 'verify' });
    expect(out.error).toContain('signal_service');
    expect(out.rollback).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0' });
    for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');

    const since = commands().slice(mark);
    expect(since.some((c) => c.cmd?.startsWith('TAG=v1.2.0') && c.cmd.includes(' build '))).toBe(true);
    expect(since.filter((c) => c.cmd?.startsWith('TAG=v1.0.0') && / (build|pull)\b/.test(c.cmd))).toEqual([]);
    expect(since.map((c) => c.note)).toContain('images of v1.0.0 exist: build skipped');
    // The failed release's containers get its stop_grace_period (5s) as up replaces them.
    expect(since.some((c) => c.cmd?.startsWith('TAG=v1.0.0') && c.cmd.endsWith('up -d -t 5 --remove-orphans --no-build'))).toBe(true);
    expect(await images('v1.0.0')).toEqual(before);
    const status = (await run(['status', '--json'])).json().environments[0];
    expect(status.currentVersion).toBe('v1.0.0');
  });

  it('a failing compose command fails the deploy with the command and its error output', async () => {
    const res = await run(['deploy', 'staging', '--version', 'v1.3.0', '--json']);
    expect(res.code).toBe(1);
    const out = res.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'prepare-release' });
    expect(out.error).toMatch(/`TAG=v1\.3\.0 docker[- ]compose -f \S+docker-compose\.yml -p sample_trading_platform_staging config` failed \(exit \d+\)/);
    expect(out.error).toMatch(/image/i);
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');
  });

  it('deploys v1.1.0, prunes the images beyond keepReleases, and `rollback` brings v1.0.0 back from its images', async () => {
    const v100 = await images('v1.0.0');
    const ok = await run(['deploy', 'staging', '--version', 'v1.1.0', '--json']);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(await healthVersion(ports.gateway)).toBe('v1.1.0');
    // Started here, least recent first: v1.2.0, v1.0.0, v1.1.0; keepReleases 2 drops v1.2.0's.
    expect(await images('v1.2.0')).toEqual([undefined, undefined, undefined]);
    expect(await images('v1.0.0')).toEqual(v100);

    const mark = commands().length;
    const before = await runningByService(docker, project);
    const from = (Date.now() / 1000).toFixed(3);
    const rb = await run(['rollback', 'staging', '--reason', 'x', '--json']);
    expect(rb.code, rb.stdout + rb.stderr).toBe(0);
    expect(rb.json()).toMatchObject({ ok: true, kind: 'rollback', version: 'v1.0.0', fromVersion: 'v1.1.0' });
    for (const port of [ports.signal, ports.gateway, ports.orchestrator]) expect(await healthVersion(port)).toBe('v1.0.0');
    const since = commands().slice(mark);
    expect(since.filter((c) => / (build|pull)\b/.test(c.cmd ?? ''))).toEqual([]);
    // No separate stop: `up` replaced each service stop-first. The engine's own event log proves
    // no service (the gateway above all) ever had two containers running, and each was replaced.
    expect(since.filter((c) => /^docker (stop|rm)\b/.test(c.cmd ?? ''))).toEqual([]);
    expect(Object.values(before).map((ids) => ids.length)).toEqual([1, 1, 1]);
    const lifecycle = await containerLifecycle(docker, project, from, before);
    expect(lifecycle.overlaps).toEqual([]);
    expect(Object.keys(lifecycle.starts).sort()).toEqual(['execution_gateway', 'orchestrator', 'signal_service']);
    expect(await images('v1.0.0')).toEqual(v100);
    expect(await images('v1.1.0')).not.toContain(undefined);
  });

  it('shows the last lines of one service, or of every service, from the containers', async () => {
    await fetch(`http://127.0.0.1:${ports.gateway}/orders`);
    const one = await run(['logs', 'staging', 'execution_gateway', '--tail', '5', '--json']);
    expect(one.code, one.stderr).toBe(0);
    const lines: string[] = one.json().logs[0].lines;
    expect(one.json().logs.map((l: any) => l.service)).toEqual(['execution_gateway']);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.join('\n')).toMatch(/INFO (GET \/orders 200|.*listening on http:\/\/127\.0\.0\.1:\d+)/);
    expect(lines.join('\n')).not.toMatch(/execution_gateway[-_]1\s+\|/);

    const all = (await run(['logs', 'staging', '--tail', '200', '--json'])).json().logs;
    expect(all.map((l: any) => l.service)).toEqual(['signal_service', 'execution_gateway', 'orchestrator']);
    for (const l of all) {
      expect(l.lines[0]).toMatch(new RegExp(`^---- shipgate: ${l.service} v1\\.0\\.0 started at `));
      expect(l.lines.join('\n')).toContain(`${l.service} v1.0.0 listening on http://127.0.0.1:`);
    }
  });

  it('health finds a killed container and --restart-unhealthy starts it again', async () => {
    const gatewayContainer = cli === 'docker-compose' ? `${project}_execution_gateway_1` : `${project}-execution_gateway-1`;
    await docker.docker(['kill', gatewayContainer]);
    const ps = await target().ps('staging');
    expect(ps.find((s) => s.service === 'execution_gateway')).toMatchObject({ state: 'stopped', status: 'exited', exitCode: 137, version: 'v1.0.0' });
    expect(ps.find((s) => s.service === 'signal_service')).toMatchObject({ state: 'running', exitCode: undefined, version: 'v1.0.0', port: ports.signal });
    const findings = await composeFindings(target(), 'staging', resolveServices(loadConfig(undefined, ws.dir).config, 'staging'));
    expect(findings.map((f) => [f.id, f.severity])).toEqual([['container-exited', 'error']]);
    expect(findings[0]!.title).toMatch(/^execution_gateway: container \S+execution_gateway\S+ is exited \(exit code 137, killed\)$/);
    // The evidence is the end of the killed container's own log (read here from the engine). How
    // far back its 8 lines reach depends on how long the container ran (its healthcheck logs a
    // GET /health every 5 s, and a busy machine runs the steps before this one slowly), so the
    // start-up line is looked for in the whole log and the evidence must be exactly its last lines.
    const ownLog = (await docker.docker(['logs', gatewayContainer])).split('\n').filter((l) => l !== '');
    expect(ownLog.join('\n')).toContain('execution_gateway v1.0.0 listening');
    expect(findings[0]!.evidence).toEqual(ownLog.slice(-8));
    expect(findings[0]!.next).toMatch(/^TAG=v1\.0\.0 docker[- ]compose -f \S+ -p sample_trading_platform_staging logs --tail 100 --no-color --no-log-prefix execution_gateway$/);

    const sick = await run(['health', 'staging', '--json']);
    expect(sick.code).toBe(1);
    expect(sick.json().services.find((s: any) => s.service === 'execution_gateway').healthy).toBe(false);
    const healed = await run(['health', 'staging', '--restart-unhealthy', '--json']);
    expect(healed.code, healed.stdout + healed.stderr).toBe(0);
    expect(healed.json().restarted).toEqual(['execution_gateway']);
    expect(await healthVersion(ports.gateway)).toBe('v1.0.0');
    const status = (await run(['status', '--json'])).json().environments[0];
    expect(status.services.map((s: any) => s.process)).toEqual(['running', 'running', 'running']);
  });

  it('diagnose names an image that was never built, with the command that builds it', async () => {
    await docker.docker(['image', 'rm', '--force', 'shipgate-demo/orchestrator:v1.0.0']);
    const res = await run(['diagnose', 'staging', '--json']);
    expect(res.code, res.stderr).toBe(1);
    const missing = res.json().findings.find((f: any) => f.id === 'image-missing');
    expect(missing.evidence.join(' ')).toContain('shipgate-demo/orchestrator:v1.0.0');
    expect(missing.next).toMatch(/^shipgate deploy staging --version v1\.0\.0/);
  });

  it('every operation is idempotent: down twice, ps empty, restart refused, down again fine', async () => {
    const t = target();
    await t.down('staging');
    await t.down('staging');
    expect(await t.ps('staging')).toEqual([]);
    expect(await healthVersion(ports.gateway)).toBeUndefined();
    const err = await t.restart('staging', 'execution_gateway').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShipgateError);
    expect((err as ShipgateError).exitCode).toBe(1);
    // Even with the state and the checkouts gone, down finds the project's containers by label.
    const again = await run(['deploy', 'staging', '--version', 'v1.0.0', '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    rmSync(path.join(ws.dir, '.shipgate', 'compose', 'staging.json'));
    await t.down('staging');
    expect(await t.ps('staging')).toEqual([]);
    expect(existsSync(path.join(ws.dir, '.shipgate', 'compose', 'staging.json'))).toBe(false);
  });
}

describe('compose target on a real engine: docker-compose (v1)', { timeout: scaled(240_000) }, () => composeStory('docker-compose'));
describe.skipIf(!HAS_V2)('compose target on a real engine: docker compose (v2 plugin; not packaged for Debian 12, skipped where absent)', { timeout: scaled(240_000) }, () => composeStory('docker compose'));
