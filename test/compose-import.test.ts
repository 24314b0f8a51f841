// Done-when of "compose files as people write them": `init --from` on a platform's compose file
// (anchors, <<: merges, `extends` from another file, profiles, nested defaults, infrastructure,
// registry-style image tags) writes a compose-target config that passes `config check` and
// deploys on a real, private engine; a release whose image floats (:latest) is refused (exit 3)
// with nothing stopped. `quotes` reports a fixed package version (0.1.0), so init writes
// `version: ignore` for it: every deploy says its version was not checked and checks instead that
// its container runs the release's image, which catches a container running another image.
// One engine for the file; the deploys share it.
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
import { scaled } from './harness/pace.js';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@shipgate.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@shipgate.invalid', GIT_CONFIG_NOSYSTEM: '1' };

// Stand-ins for the infrastructure images (the harness never pulls): the node base image under
// their names, running an idle node. Their role comes from the image name, as on a real stack.
const IDLE = '["node", "-e", "setInterval(() => {}, 1 << 30)"]';

/** The base `quotes` extends (compose `extends: { file, service }`): its port and fixed package version. */
function commonFile(quotesPort: number): string {
  return `services:
  fixed-version-app:
    environment:
      PORT: "${quotesPort}"
      APP_VERSION: "0.1.0"
`;
}

function composeFile(riskPort: number, quotesImage: string): string {
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
    # The probe starts a node process: on a busy machine that alone can take seconds, and a probe
    # that times out marks a serving container unhealthy (as the demo's compose file says too).
    timeout: 30s
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
    extends: { file: common.yml, service: fixed-version-app }
    image: ${quotesImage}
    environment:
      LOG_LEVEL: \${LOG_LEVEL:-info}
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

// The release when given one (risk-api gets \${IMAGE_TAG}), else the fixed package version (quotes).
const APP = `import http from 'node:http';
const body = JSON.stringify({ status: 'ok', version: process.env.RELEASE ?? process.env.APP_VERSION, service: process.env.HOSTNAME });
http.createServer((req, res) => {
  const ok = req.url === '/healthz' || req.url === '/health';
  res.writeHead(ok ? 200 : 404, { 'content-type': 'application/json' });
  res.end(ok ? body : '{}');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

// v1.2.0: its quotes (the service with a fixed version) starts but never listens, so verification
// waits on it while the test puts an impostor in its place.
const APP_HOLDING_QUOTES = APP.replace("http.createServer(", "if (process.env.APP_VERSION) setInterval(() => {}, 1 << 30);\nelse http.createServer(");

const DOCKERFILE = 'ARG BASE_IMAGE=shipgate-node-base:local\nFROM ${BASE_IMAGE}\nWORKDIR /app\nCOPY app.mjs /app/app.mjs\nCMD ["node", "app.mjs"]\n';

async function release(port: number): Promise<string | undefined> {
  try {
    return ((await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

async function waitFor<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + scaled(timeoutMs);
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('init --from a real-world compose file, deployed on a real engine', { timeout: scaled(300_000) }, () => {
  let docker: DockerHarness;
  let repo: string;
  let riskPort: number;
  let quotesPort: number;
  const run = (args: string[]) => shipgate(args, { cwd: repo, timeoutMs: 280_000, env: { DOCKER_HOST: docker.host, IMAGE_TAG: '', REGISTRY: '' } });
  /** The running container of the quotes service (by its compose label), if any. */
  const quotesContainer = async () => {
    const [id, image] = (await docker.docker(['ps', '--filter', 'label=com.docker.compose.service=quotes', '--format', '{{.ID}} {{.Image}}'])).trim().split('\n')[0]!.split(' ');
    return id ? { id, image } : undefined;
  };

  beforeAll(async () => {
    docker = await startDocker();
    for (const name of ['postgres:16-alpine', 'bitnami/redis:7.2']) await docker.docker(['tag', docker.baseImage, name]);
    [riskPort, quotesPort] = (await freePorts(2)) as [number, number];
    repo = mkdtempSync(path.join(os.tmpdir(), 'sg-quantdesk-'));
    const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { env: GIT_ENV, encoding: 'utf8' });
    git('init', '--quiet');
    writeFileSync(path.join(repo, 'docker-compose.yml'), composeFile(riskPort, '${REGISTRY:-${CI_REGISTRY:-registry.test/quantdesk}}/quotes:${IMAGE_TAG:-latest}'));
    writeFileSync(path.join(repo, 'common.yml'), commonFile(quotesPort));
    writeFileSync(path.join(repo, 'app.mjs'), APP);
    writeFileSync(path.join(repo, 'Dockerfile'), DOCKERFILE);
    writeFileSync(path.join(repo, '.gitignore'), '.shipgate/\nshipgate.yml\n');
    git('add', '-A');
    git('commit', '--quiet', '-m', 'quantdesk v1.0.0');
    git('tag', '-a', 'v1.0.0', '-m', 'v1.0.0');
    // The next release pins quotes to whatever :latest is.
    addRelease(repo, 'v1.0.0', 'v1.1.0', { 'docker-compose.yml': composeFile(riskPort, 'registry.test/quantdesk/quotes:latest') });
    addRelease(repo, 'v1.0.0', 'v1.2.0', { 'app.mjs': APP_HOLDING_QUOTES });
    git('checkout', '--quiet', 'v1.0.0');
  }, scaled(240_000));

  afterAll(async () => {
    await docker?.stop();
    if (repo) rmSync(repo, { recursive: true, force: true });
  }, scaled(120_000));

  it('writes a compose-target config that passes config check: anchors, merges, extends, nested defaults and profiles resolved', async () => {
    const r = await run(['init', '--from', 'docker-compose.yml']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(repo, 'shipgate.yml'), 'utf8');
    const raw = parse(text) as any;
    // Nested defaults: compose 1.x resolves ${A:-${B:-x}} wrongly, so shipgate's own resolver read the files.
    expect(text).toMatch(/resolved with the YAML library.*nested defaults/);
    expect(Object.keys(raw.services)).toEqual(['risk-api', 'quotes']);
    // Anchors and merges: risk-api's PORT sits beside the <<: *app-env keys, its healthcheck test beside <<: *app-health.
    expect(raw.services['risk-api']).toMatchObject({ port: riskPort, health: `http://127.0.0.1:{port}/healthz` });
    // extends (from common.yml): quotes' port and fixed version come from the base service; it is not
    // given ${IMAGE_TAG}, so it cannot report the release: version ignore.
    expect(raw.services.quotes).toMatchObject({ port: quotesPort, health: { url: 'http://127.0.0.1:{port}/health', version: 'ignore' } });
    expect(raw.environments.production.target).toMatchObject({ type: 'compose', files: ['docker-compose.yml'], versionVariable: 'IMAGE_TAG', images: { tag: '{version}' }, dependencies: ['postgres', 'cache'] });
    // Profiles: services of inactive profiles are left out, and said so; infrastructure has no health URL.
    expect(text).toContain('Left out (their profiles are not active): grafana, debug-shell');
    expect(raw.services.postgres).toBeUndefined();
    const check = await run(['config', 'check']);
    expect(check.code, check.stdout).toBe(0);

    // With --profile monitoring, grafana joins the infrastructure and the target runs that profile.
    const monitoring = await run(['init', '--from', 'docker-compose.yml', '--profile', 'monitoring', '-c', 'monitoring.yml']);
    expect(monitoring.code, monitoring.stderr).toBe(0);
    const withProfile = readFileSync(path.join(repo, 'monitoring.yml'), 'utf8');
    rmSync(path.join(repo, 'monitoring.yml'));
    expect((parse(withProfile) as any).environments.production.target).toMatchObject({ profiles: ['monitoring'], dependencies: ['postgres', 'cache', 'grafana'] });
    expect(withProfile).toContain('Left out (their profiles are not active): debug-shell');
  });

  it('deploys v1.0.0: the release\'s images are built with its tag, infrastructure runs beside them; quotes\' version is said to be unchecked and its image is verified', async () => {
    const r = await run(['deploy', 'production', '--version', 'v1.0.0', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const out = r.json();
    expect(out).toMatchObject({ ok: true, version: 'v1.0.0' });
    expect(await release(riskPort)).toBe('v1.0.0');
    // extends applied by compose too: quotes reports the package version of the base service's environment.
    expect(await release(quotesPort)).toBe('0.1.0');
    expect(out.health.services.find((s: any) => s.service === 'quotes')).toMatchObject({ healthy: true, versionChecked: false });
    expect(out.health.services.find((s: any) => s.service === 'risk-api')).toMatchObject({ healthy: true, version: 'v1.0.0', versionChecked: true });
    expect(out.health.notes).toEqual(['quotes: version not reported (health.version: ignore); image verified: quotes runs registry.test/quantdesk/quotes:v1.0.0']);
    const images = (await docker.docker(['ps', '--format', '{{.Image}}'])).split('\n').filter(Boolean).sort();
    expect(images).toEqual(['bitnami/redis:7.2', 'postgres:16-alpine', 'registry.test/quantdesk/quotes:v1.0.0', 'registry.test/quantdesk/risk-api:v1.0.0']);
  });

  it('refuses v1.1.0, whose quotes image is :latest (exit 3), before anything stops; a rollback to it too', async () => {
    const r = await run(['deploy', 'production', '--version', 'v1.1.0', '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(3);
    const out = r.json();
    expect(out).toMatchObject({ ok: false, failedStep: 'prepare-release', refused: true });
    expect(out.error).toContain('quotes: image registry.test/quantdesk/quotes:latest is :latest');
    expect(out.rollback).toBeUndefined();
    expect(r.stderr + r.stdout).not.toMatch(/^\s+at /m);
    expect(await release(riskPort)).toBe('v1.0.0');
    expect(await release(quotesPort)).toBe('0.1.0');
    expect(await quotesContainer()).toMatchObject({ image: 'registry.test/quantdesk/quotes:v1.0.0' });

    // A rollback to it is refused the same way: it would restart whatever :latest is now.
    const back = await run(['rollback', 'production', '--to', 'v1.1.0', '--reason', 'drill', '--json']);
    expect(back.code, back.stdout + back.stderr).toBe(3);
    expect(back.json().error).toContain('quotes: image registry.test/quantdesk/quotes:latest is :latest');
    expect(await quotesContainer()).toMatchObject({ image: 'registry.test/quantdesk/quotes:v1.0.0' });
  });

  it('v1.2.0: a quotes container running another image answers health like the release, and verification catches it', async () => {
    const deploying = run(['deploy', 'production', '--version', 'v1.2.0', '--json']);
    // v1.2.0's quotes starts but never listens; put a container of v1.0.0's image, carrying the
    // same compose labels, in its place: it answers health exactly as the release would (0.1.0).
    const started = await waitFor('v1.2.0 quotes container', async () => {
      const c = await quotesContainer();
      return c?.image === 'registry.test/quantdesk/quotes:v1.2.0' ? c : undefined;
    });
    // Swap only once the deploy verifies: removed while `up` and its listing still run, the
    // container is missing from the start step instead (a busy CI machine saw exactly that).
    await waitFor('the deploy to reach verify', async () => {
      const status = await run(['status', '--env', 'production', '--json']);
      const deployment = status.stdout.trim().startsWith('{') ? status.json().environments?.find((e: any) => e.env === 'production')?.deployment : undefined;
      return deployment?.version === 'v1.2.0' && deployment.lastStep === 'verify (started)' ? deployment : undefined;
    });
    const labels = JSON.parse(await docker.docker(['inspect', '--format', '{{json .Config.Labels}}', started.id])) as Record<string, string>;
    await docker.docker(['rm', '--force', started.id]);
    await docker.docker(['run', '--detach', '--name', 'quotes-impostor', '--network', 'host', ...Object.entries(labels).flatMap(([k, v]) => ['--label', `${k}=${v}`]), '--env', `PORT=${quotesPort}`, '--env', 'APP_VERSION=0.1.0', 'registry.test/quantdesk/quotes:v1.0.0']);
    await waitFor('the impostor to answer', () => release(quotesPort));

    const r = await deploying;
    expect(r.code, r.stdout + r.stderr).toBe(1);
    const out = r.json();
    expect(out).toMatchObject({ ok: false, version: 'v1.2.0', failedStep: 'verify' });
    expect(out.error).toContain("quotes (quotes runs registry.test/quantdesk/quotes:v1.0.0, not the release's registry.test/quantdesk/quotes:v1.2.0)");
    expect(out.health.notes).toEqual(["quotes: version not reported (health.version: ignore); image NOT verified: quotes runs registry.test/quantdesk/quotes:v1.0.0, not the release's registry.test/quantdesk/quotes:v1.2.0"]);
    // The automatic rollback returns to v1.0.0, and says again that quotes' version was not checked.
    expect(out.rollback, JSON.stringify(out)).toMatchObject({ ok: true, version: 'v1.0.0' });
    expect(out.rollback.health.notes).toEqual(['quotes: version not reported (health.version: ignore); image verified: quotes runs registry.test/quantdesk/quotes:v1.0.0']);
    expect(await release(riskPort)).toBe('v1.0.0');
    expect(await quotesContainer()).toMatchObject({ image: 'registry.test/quantdesk/quotes:v1.0.0' });
  });
});
