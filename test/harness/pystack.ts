// The second sample stack (test/fixtures/pystack): a Python quote service with its own health
// path (/healthz -> {state, build}), metric and label names (app_requests_total{route,status},
// app_request_latency_seconds), built-in traffic, and releases that are real git tags.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePorts } from '../../src/demo/free-port.js';
import { buildPyRepo, type PyRelease } from '../fixtures/pystack/build-repo.js';
import { shipgate } from './cli.js';
import { scaledSeconds } from './pace.js';

export interface PyWorkspace {
  dir: string;
  repoDir: string;
  /** The quotes service's port per environment. */
  ports: Record<string, number>;
  run(args: string[], env?: NodeJS.ProcessEnv): ReturnType<typeof shipgate>;
  write(yaml: string): void;
  cleanup(): Promise<void>;
}

export interface PyConfigOptions {
  /** The `errors` matcher of the error-rate check per environment (default status=~"5.."). */
  errors?: (env: string) => string;
  /** Extra lines under each environment (indented 4 spaces), e.g. soak or monitor policies. */
  envExtra?: (env: string) => string;
  /** Extra top-level YAML (e.g. notifications). */
  extra?: string;
  /** Requests per second of the built-in traffic (default 25). */
  trafficRps?: number;
}

export function pyStackConfig(repoDir: string, ports: Record<string, number>, o: PyConfigOptions = {}): string {
  const envs = Object.entries(ports).map(([env, port]) => `  ${env}:
    services:
      quotes: { port: ${port} }
    health: { timeout: ${scaledSeconds('30s')}, interval: 250ms }
    analysis:
      interval: 500ms
      checks:
        - { name: quote-errors, type: error-rate, metric: app_requests_total, errors: '${o.errors?.(env) ?? 'status=~"5.."'}', select: 'route="/api/quote"', target: 1%, limit: 5% }
        - { name: quote-p95, type: latency, metric: app_request_latency_seconds, select: 'route="/api/quote"', max: 1s, maxIncrease: 10%, rollbackIncrease: 50% }
${o.envExtra?.(env) ?? ''}`).join('\n');
  return `version: 1
project: quotes
repository: ${JSON.stringify(repoDir)}
stateDir: .shipgate
services:
  quotes:
    command: [python3, quotes.py]
    health: http://127.0.0.1:{port}/healthz
    metrics: http://127.0.0.1:{port}/metrics
    env: { TRAFFIC_RPS: '${o.trafficRps ?? 25}', PYTHONUNBUFFERED: '1' }
environments:
${envs}
${o.extra ?? ''}`;
}

export async function pyWorkspace(envs: string[], releases: PyRelease[], options: PyConfigOptions = {}): Promise<PyWorkspace> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-pystack-'));
  const repo = buildPyRepo(path.join(dir, 'repo'), releases);
  const free = await freePorts(envs.length);
  const ports = Object.fromEntries(envs.map((env, i) => [env, free[i]!]));
  const write = (yaml: string) => writeFileSync(path.join(dir, 'shipgate.yml'), yaml);
  write(pyStackConfig(repo.dir, ports, options));
  return {
    dir,
    repoDir: repo.dir,
    ports,
    write,
    run: (args, env) => shipgate(args, { cwd: dir, env, timeoutMs: 180_000 }),
    async cleanup() {
      const { stopEnvironments } = await import('./stop.js');
      await stopEnvironments(dir, envs);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
