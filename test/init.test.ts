// `shipgate init` and `shipgate init --from docker-compose.yml`: a commented starter that passes `config check`.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkConfigText } from '../src/config/load.js';
import { interpolate } from '../src/config/compose/interpolate.js';
import { ShipgateError } from '../src/core/errors.js';
import { shipgate } from './harness/cli.js';

let root = '';
let n = 0;
/** A fresh empty directory per test. */
function emptyDir(): string {
  const d = path.join(root, `w${++n}`);
  mkdirSync(d);
  return d;
}

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'shipgate-init-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('shipgate init', () => {
  it('writes a commented shipgate.yml that passes config check', async () => {
    const cwd = emptyDir();
    const r = await shipgate(['init'], { cwd });
    expect(r.code).toBe(0);
    const file = path.join(cwd, 'shipgate.yml');
    expect(r.stdout).toContain(`wrote ${file}`);
    const text = readFileSync(file, 'utf8');
    expect(text.split('\n').filter((l) => /^\s*#/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(text).toMatch(/#.*passed to the service as PORT/);

    const { config, problems } = checkConfigText(text, file);
    expect(problems).toEqual([]);
    expect(Object.keys(config!.services)).toEqual(['signal_service', 'execution_gateway', 'orchestrator']);
    expect(Object.keys(config!.environments)).toEqual(['staging', 'production']);

    const check = await shipgate(['config', 'check'], { cwd });
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('is valid');
  });

  it('refuses to overwrite an existing file (exit 2) unless --force', async () => {
    const cwd = emptyDir();
    const file = path.join(cwd, 'shipgate.yml');
    writeFileSync(file, '# mine\n');
    const again = await shipgate(['init'], { cwd });
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    expect(again.stderr).toContain('--force');
    expect(again.stderr).not.toMatch(/^\s+at /m);
    expect(readFileSync(file, 'utf8')).toBe('# mine\n');

    const forced = await shipgate(['init', '--force'], { cwd });
    expect(forced.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toMatch(/^# shipgate configuration/);
    expect((await shipgate(['config', 'check'], { cwd })).code).toBe(0);
  });

  it('-c names the file to write', async () => {
    const cwd = emptyDir();
    const r = await shipgate(['-c', 'custom.yml', 'init'], { cwd });
    expect(r.code).toBe(0);
    expect(existsSync(path.join(cwd, 'custom.yml'))).toBe(true);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
    expect((await shipgate(['-c', 'custom.yml', 'config', 'check'], { cwd })).code).toBe(0);
  });
});

// A platform's compose file as people write it: an x- anchor merged with <<: into services,
// nested defaults, registry images tagged by a variable, infrastructure, and profiles.
const REAL_COMPOSE = `name: quantdesk
x-app: &app
  restart: unless-stopped
  network_mode: host
  environment: &app-env
    LOG_LEVEL: \${LOG_LEVEL:-info}
    RELEASE: \${IMAGE_TAG:-latest}
  healthcheck: &app-health
    interval: 5s
    retries: 3
services:
  risk-api:
    <<: *app
    image: \${REGISTRY:-\${CI_REGISTRY:-ghcr.io/quantdesk}}/risk-api:\${IMAGE_TAG:-latest}
    environment:
      <<: *app-env
      PORT: \${RISK_API_PORT:-18101}
    healthcheck:
      <<: *app-health
      test: ["CMD", "wget", "-qO-", "http://127.0.0.1:18101/healthz"]
  quotes:
    <<: *app
    image: \${REGISTRY:-\${CI_REGISTRY:-ghcr.io/quantdesk}}/quotes:\${IMAGE_TAG:-latest}
    environment:
      <<: *app-env
      PORT: "18102"
  postgres:
    image: postgres:16-alpine
    command: ["postgres", "-c", "fsync=off"]
  cache:
    image: bitnami/redis:7.2
  grafana:
    image: grafana/grafana-oss:10.4.0
    profiles: [monitoring]
    ports: ["3000:3000"]
  debug-shell:
    image: busybox
    profiles: [debug]
`;

describe('shipgate init --from compose files', () => {
  it('resolves anchors, merges, nested defaults and profiles into a compose target that passes config check', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), REAL_COMPOSE);
    const r = await shipgate(['init', '--from', 'docker-compose.yml', '--profile', 'monitoring'], { cwd, env: { IMAGE_TAG: '', REGISTRY: '' } });
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(cwd, 'shipgate.yml');
    const text = readFileSync(file, 'utf8');
    // Nested defaults are resolved by our own resolver: docker-compose 1.x gets them wrong.
    expect(text).toMatch(/resolved with the YAML library.*nested defaults/);
    expect(text).toContain('Left out (their profiles are not active): debug-shell');
    const { config, problems } = checkConfigText(text, file);
    expect(problems).toEqual([]);
    // Only the release's own services; infrastructure is a dependency, without health URLs.
    expect(Object.keys(config!.services)).toEqual(['risk-api', 'quotes']);
    const risk = config!.services['risk-api']!;
    expect(risk.port).toBe(18101); // merged environment (<<: *app-env) plus its own PORT
    expect(risk.command).toBeUndefined(); // compose runs the container's own command
    expect(JSON.stringify(risk.health)).toContain('http://127.0.0.1:{port}/healthz'); // the path its healthcheck asks
    expect(config!.services.quotes!.port).toBe(18102);
    for (const env of ['staging', 'production']) {
      const t = config!.environments[env]!.target;
      expect(t).toMatchObject({ type: 'compose', files: ['docker-compose.yml'], versionVariable: 'IMAGE_TAG', images: { tag: '{version}' }, profiles: ['monitoring'], dependencies: ['postgres', 'cache', 'grafana'] });
    }
    // Only the port written as ${RISK_API_PORT…} can move in staging; the fixed one cannot.
    expect(config!.environments.staging!.services).toEqual({ 'risk-api': { port: 28101 } });
    expect(text).toContain('quotes publish fixed ports');
    // Merged keys are kept: the raw YAML has no process-target leftovers.
    expect(text).not.toContain('type: process');
    const check = await shipgate(['config', 'check'], { cwd });
    expect(check.code, check.stdout).toBe(0);
  });

  it('uses docker-compose config when it can be trusted (extends, several files) and says so', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), `services:\n  base:\n    image: acme/base:\${TAG:-dev}\n    environment: { PORT: "9100" }\n  api:\n    extends: { service: base }\n    image: acme/api:\${TAG:-dev}\n    healthcheck: { test: "curl -fsS http://localhost:9100/ready || exit 1" }\n  db:\n    image: postgres:16\n`);
    writeFileSync(path.join(cwd, 'docker-compose.prod.yml'), `services:\n  api:\n    environment: { PORT: "9200" }\n    healthcheck: { test: "curl -fsS http://localhost:9200/ready || exit 1" }\n`);
    const r = await shipgate(['init', '--from', 'docker-compose.yml', 'docker-compose.prod.yml'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(cwd, 'shipgate.yml'), 'utf8');
    expect(text).toMatch(/resolved with docker-compose config \(1\.\d+/);
    const { config, problems } = checkConfigText(text, path.join(cwd, 'shipgate.yml'));
    expect(problems).toEqual([]);
    expect(config!.services.api!.port).toBe(9200); // the later file wins
    expect(JSON.stringify(config!.services.api!.health)).toContain('/ready');
    expect(config!.environments.production!.target).toMatchObject({ files: ['docker-compose.yml', 'docker-compose.prod.yml'], versionVariable: 'TAG', dependencies: ['db'] });
  });

  it('says in the file which images are not pinned to the release', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'compose.yml'), `services:\n  web:\n    image: acme/web:latest\n    expose: ["8080"]\n  worker:\n    build: .\n`);
    const r = await shipgate(['init', '--from', 'compose.yml'], { cwd });
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(cwd, 'shipgate.yml'), 'utf8');
    expect(text).toContain('NOT PINNED to the release');
    expect(text).toMatch(/web: acme\/web:latest does not use \$\{TAG\}/);
    expect(text).toMatch(/worker: has no image/);
    expect(text).toContain('no HTTP port found');
    const check = await shipgate(['config', 'check', '--json'], { cwd });
    // TAG is used by no file: config check says so (and exits 2) rather than letting a deploy find out.
    expect(check.code).toBe(2);
    expect(check.json().problems.map((p: any) => p.path)).toContain('environments.staging.target.versionVariable');
  });

  it('an unknown profile, or a compose name shipgate cannot use, exits 2 and writes nothing', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), REAL_COMPOSE);
    const r = await shipgate(['init', '--from', 'docker-compose.yml', '--profile', 'nope'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('profile nope is not declared');
    expect(r.stderr).toContain('monitoring, debug');
    writeFileSync(path.join(cwd, 'compose.yml'), `services:\n  Web.App:\n    image: x/y:\${TAG}\n`);
    const bad = await shipgate(['init', '--from', 'compose.yml'], { cwd });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('Web.App');
    expect(bad.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });

  it('a compose file without services exits 2 and writes nothing', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), 'version: "3.8"\nvolumes:\n  data: {}\n');
    const r = await shipgate(['init', '--from', 'docker-compose.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('declares no services');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });

  it('an invalid compose file exits 2 with its position and writes nothing', async () => {
    const cwd = emptyDir();
    writeFileSync(path.join(cwd, 'docker-compose.yml'), 'services:\n  api:\n    image: x\n\tports: ["1:1"]\n');
    const r = await shipgate(['init', '--from', 'docker-compose.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('docker-compose.yml is not valid YAML');
    expect(r.stderr).toContain('docker-compose.yml:4:1');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });

  it('a missing compose file exits 2', async () => {
    const cwd = emptyDir();
    const r = await shipgate(['init', '--from', 'nope.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.yml does not exist');
    expect(existsSync(path.join(cwd, 'shipgate.yml'))).toBe(false);
  });
});

describe('compose interpolation', () => {
  it('resolves nested defaults, required, alternative and escaped variables', () => {
    expect(interpolate('${A:-${B:-x}}', {}).value).toBe('x');
    expect(interpolate('${A:-${B:-x}}', { B: 'b' }).value).toBe('b');
    expect(interpolate('${A:-${B:-x}}', { A: 'a', B: 'b' }).value).toBe('a');
    expect(interpolate('${A-d}/${A:-d}', { A: '' }).value).toBe('/d');
    expect(interpolate('${A:+on}|${B:+on}', { A: '1' }).value).toBe('on|');
    expect(interpolate('$$HOME and $USER', { USER: 'u' }).value).toBe('$HOME and u');
    const req = interpolate('img:${TAG:?set TAG}', {});
    expect(req.errors).toEqual(['TAG: set TAG']);
    expect(interpolate('${REGISTRY:-${CI:-r}}/a:${IMAGE_TAG:-latest}', {}).used).toEqual(['REGISTRY', 'CI', 'IMAGE_TAG']);
  });
});
