import { describe, expect, it } from 'vitest';
import { launchSpec, processLayout } from '../src/adapters/targets/process/launch.js';
import { gitCommands } from '../src/adapters/vcs/git-commands.js';
import { checkConfigText } from '../src/config/load.js';
import { resolveServices } from '../src/config/resolve.js';
import { parseDuration } from '../src/core/duration.js';
import { healthPollDelayMs, judgeHealth } from '../src/core/health.js';
import { verifyHealth } from '../src/app/verify-health.js';
import { isValidVersion } from '../src/core/version.js';

const CONFIG = `
version: 1
services:
  gateway:
    command: [node, gateway/main.mjs, --mode, fast]
    port: 8002
    health: http://127.0.0.1:{port}/health
    env: { LOG_LEVEL: info }
    passEnv: [BROKER_KEY]
environments:
  staging:
    env: { TRADING_MODE: paper }
    services:
      gateway: { port: 18002, env: { LOG_LEVEL: debug } }
  production: {}
`;

const config = () => {
  const { config, problems } = checkConfigText(CONFIG, 'shipgate.yml');
  expect(problems).toEqual([]);
  return config!;
};

describe('commands are data', () => {
  it('git commands are argv arrays that end option parsing before the version', () => {
    expect(gitCommands.resolveCommit('/r', 'v1.2.3')).toEqual(['git', '-C', '/r', 'rev-parse', '--verify', '--quiet', '--end-of-options', 'v1.2.3^{commit}']);
    expect(gitCommands.worktreeAdd('/r', '/s/releases/prod/v1', 'abc123')).toEqual(['git', '-C', '/r', 'worktree', 'add', '--force', '--detach', '/s/releases/prod/v1', 'abc123']);
  });

  it('a service launch gets its port, environment overrides and only the secrets it names', () => {
    const [gateway] = resolveServices(config(), 'staging');
    const spec = launchSpec({ env: 'staging', version: 'v1', commit: 'abc', services: [gateway!] }, gateway!, processLayout('/state'), {
      PATH: '/usr/bin', HOME: '/root', BROKER_KEY: 's3cret', AWS_SECRET_ACCESS_KEY: 'leak',
    });
    expect(spec).toEqual({
      service: 'gateway',
      argv: ['node', 'gateway/main.mjs', '--mode', 'fast'],
      cwd: '/state/releases/staging/v1',
      env: { PATH: '/usr/bin', HOME: '/root', BROKER_KEY: 's3cret', TRADING_MODE: 'paper', LOG_LEVEL: 'debug', PORT: '18002', SERVICE_NAME: 'gateway', SHIPGATE_ENV: 'staging', SHIPGATE_VERSION: 'v1' },
      logFile: '/state/logs/staging/gateway.log',
    });
  });

  it('URLs are filled per environment', () => {
    expect(resolveServices(config(), 'staging')[0]!.healthUrl).toBe('http://127.0.0.1:18002/health');
    expect(resolveServices(config(), 'production')[0]!.healthUrl).toBe('http://127.0.0.1:8002/health');
  });
});

describe('small rules', () => {
  it('health needs HTTP 200 and, when reported, the deployed version', () => {
    expect(judgeHealth({ status: 200, version: 'v1', error: undefined }, 'v1').healthy).toBe(true);
    expect(judgeHealth({ status: 200, version: undefined, error: undefined }, 'v1').healthy).toBe(true);
    expect(judgeHealth({ status: 200, version: 'v0', error: undefined }, 'v1')).toMatchObject({ healthy: false, reason: 'reports version v0, expected v1' });
    expect(judgeHealth({ status: 503, version: 'v1', error: undefined }, 'v1')).toEqual({ healthy: false, reason: 'HTTP 503' });
    expect(judgeHealth({ status: undefined, version: undefined, error: 'ECONNREFUSED' }, 'v1')).toEqual({ healthy: false, reason: 'ECONNREFUSED' });
  });

  it('health is polled soon after a start, then each interval: 50 ms doubling up to the interval', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((round) => healthPollDelayMs(round, 1000))).toEqual([50, 100, 200, 400, 800, 1000, 1000]);
    expect(healthPollDelayMs(1, 20)).toBe(20);
    expect(healthPollDelayMs(10_000, 1000)).toBe(1000);
  });

  it('a service that comes up between polls is seen at the next short poll, not a whole interval later', async () => {
    let asked = 0;
    const url = 'http://127.0.0.1:1/health';
    const probe = async () => (++asked < 3 ? { url, latencyMs: 1, status: undefined, version: undefined, error: 'ECONNREFUSED' } : { url, latencyMs: 1, status: 200, version: 'v2', error: undefined });
    const service = { name: 'api', healthUrl: url } as Parameters<typeof verifyHealth>[0][number];
    const report = await verifyHealth([service], 'v2', { timeout: 600_000, interval: 600_000, requestTimeout: 1000 }, { probe });
    // Two refused answers, then healthy: 50 + 100 ms of waiting, not two ten-minute intervals.
    expect(report).toMatchObject({ healthy: true, services: [{ service: 'api', attempts: 3, version: 'v2' }] });
    expect(report.elapsedMs).toBeLessThan(600_000);
  });

  it('versions are tags or commits, nothing a shell or git could misread', () => {
    for (const ok of ['v1.2.3', '3f9c2ab', 'release-2026.11.22', 'v1.0.0+build.7']) expect(isValidVersion(ok)).toBe(true);
    for (const bad of ['v1;rm -rf /', '--upload-pack=x', '../../etc', '', 'v1 2', 'v1..v2', '$(id)', 'a/b', '-v1']) expect(isValidVersion(bad)).toBe(false);
  });

  it('durations', () => {
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('24h')).toBe(86_400_000);
    expect(parseDuration(5)).toBe(5000);
    expect(parseDuration('soon')).toBeUndefined();
  });
});
