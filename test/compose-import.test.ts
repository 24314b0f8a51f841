// Done-when of "compose files as people write them": `init --from` on a platform's compose file
// (anchors, <<: merges, profiles, nested defaults, infrastructure, registry-style image tags)
// writes a compose-target config that passes `config check` and deploys on a real, private
// engine; a release whose image floats (:latest) is refused (exit 3) with nothing stopped.
// One engine for the file; two real deploys.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { freePorts } from '../src/demo/free-port.js';
import { startDocker, type DockerHarness } from './harness/docker.js';
import { shipgate } from './harness/cli.js';
import { addRelease } from './harness/git.js';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@shipgate.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@shipgate.invalid', GIT_CONFIG_NOSYSTEM: '1' };

// Stand-ins for the infrastructure images (the harness never pulls): the node base image under
// their names, running an idle node. Their role comes from the image name, as on a real stack.
const IDLE = '["node", "-e", "setInterval(() => {}, 1 << 30)"]';

function composeFile(riskPort: number, quotesPort: number, quotesImage: string): string {
  // No top-level `name:`: docker-compose 1.29 (the only CLI here) rejects it.
  return `x-app: &app
  restart: unless-stopped
  network_mode: host
  build:
    context: .
    args: { BASE_IMAGE: "\${BASE_IMAGE:-shipgate-node-base:local}" }
  environment: &app-env
    LOG_LEVEL: \${LOG_LEVEL:-info}
    RELEASE: \${IMAGE_TAG:-latest}
  healthcheck: &app-health
    interval: 2s
    timeout: 2s
    retries: 5

services:
  risk-api:
    <<: *app
    image: \${REGISTRY:-\${CI_REGISTRY:-registry.test/quantdesk}}/risk-api:\${IMAGE_TAG:-latest}
    environment:
      <<: *app-env
      PORT: \${RISK_API_PORT:-${riskPort}}
    healthcheck:
      <<: *app-health
      test: ["CMD", "node", "-e", "fetch('http://127.0.0.1:${riskPort}/healthz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
  quotes:
    <<: *app
    image: ${quotesImage}
    environment:
      <<: *app-env
      PORT: "${quotesPort}"
  postgres:
    image: postgres:16-alpine
    network_mode: host
    command: ${IDLE}
  cache:
    image: bitnami/redis:7.2
    network_mode: host
    command: ${IDLE}
  grafana:
    image: grafana/grafana-oss:10.4.0
    profiles: [monitoring]
    network_mode: host
  debug-shell:
    image: busybox
    profiles: [debug]
`;
}

const APP = `import http from 'node:http';
const body = JSON.stringify({ status: 'ok', version: process.env.RELEASE, service: process.env.HOSTNAME });
http.createServer((req, res) => {
  const ok = req.url === '/healthz' || req.url === '/health';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(ok ? body : '{}');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const DOCKERFILE = 'ARG BASE_IMAGE=shipgate-node-base:local\nFROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY app.mjs /app/app.mjs\nCMD ["node", "app.mjs"]\n';

async function release(port: number): Promise<string | undefined> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

describe('init --from a real-world compose file, deployed on a real engine', { timeout: 300_000 }, () => {
  let docker: DockerHarness;
  let repo: string;
  let riskPort: number;
  let quotesPort: number;
  const run = (args: string[]) => shipgate(args, { cwd: repo, timeoutMs: 280_000, env: { DOCKER_HOST: docker.host, IMAGE_TAG: '', REGISTRY: '' } });

  beforeAll(async () => {
    docker = await startDocker();
    for (const name of ['postgres:16-alpine', 'bitnami/redis:7.2']) await docker.docker(['tag', docker.baseImage, name]);
    [riskPort, quotesPort] = (await freePorts(2)) as [number, number];
    repo = mkdtempSync(path.join(os.tmpdir(), 'sg-quantdesk-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { env: GIT_ENV, encoding: 'utf8' });
    git('init', '--quiet');
    writeFileSync(path.join(repo, 'docker-compose.yml'), composeFile(riskPort, quotesPort, '${REGISTRY:-${CI_REGISTRY:-registry.test/quantdesk}}/quotes:${IMAGE_TAG:-latest}'));
    writeFileSync(path.join(repo, 'app.mjs'), APP);
    writeFileSync(path.join(repo, 'Dockerfile'), DOCKERFILE);
    writeFileSync(path.join(repo, '.gitignore'), '.shipgate/\nshipgate.yml\n');
    git('add', '-A');
    git('commit', '--quiet', '-m', 'quantdesk v1.0.0');
    git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
    // The next release pins quotes to whatever :latest is.
    addRelease(repo, 'v1.0.0', 'v1.1.0', { 'docker-compose.yml': composeFile(riskPort, quotesPort, 'registry.test/quantdesk/quotes:latest') });
    git('checkout', '--quiet', 'v1.0.0');
  }, 240_000);

  afterAll(async () => {
    await docker?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  }, 120_000);

  it('writes a compose-target config that passes config check', async () => {
    const r = await run(['init', '--from', 'docker-compose.yml']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(repo, 'shipgate.yml'), 'utf8');
    const raw = parse(text) as any;
    expect(Object.keys(raw.services)).toEqual(['risk-api', 'quotes']);
    expect(raw.environments.production.target).toMatchObject({ type: 'compose', versionVariable: 'IMAGE_TAG', dependencies: ['postgres', 'cache'] });
    expect(text).toContain('Left out (their profiles are not active): grafana, debug-shell');
    const check = await run(['config', 'check']);
    expect(check.code, check.stdout).toBe(0);
  });

  it('deploys v1.0.0: the release\'s images are built with its tag, infrastructure runs beside them', async () => {
    const r = await run(['deploy', 'production', '--version', 'v1.0.0', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ ok: true, version: 'v1.0.0' });
    expect(await release(riskPort)).toBe('v1.0.0');
    expect(await release(quotesPort)).toBe('v1.0.0');
    const images = (await docker.docker(['ps', '--format', '{{.Image}}'])).split('\n').filter(Boolean).sort();
    expect(images).toEqual(['bitnami/redis:7.2', 'postgres:16-alpine', 'registry.test/quantdesk/quotes:v1.0.0', 'registry.test/quantdesk/risk-api:v1.0.0']);
  });

  it('refuses v1.1.0, whose quotes image is :latest (exit 3), before anything stops', async () => {
    const r = await run(['deploy', 'production', '--version', 'v1.1.0', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const out = r.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'prepare-release', refused: true });
    expect(out.error).toContain('quotes: image registry.test/quantdesk/quotes:latest is :latest');
    expect(out.rollback).toBeUndefined();
    expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
    expect(await release(riskPort)).toBe('v1.0.0');
    expect(await release(quotesPort)).toBe('v1.0.0');
  });
});
