// `config check` knows what a deploy would fail on: one test per rule, each with its position.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigText, errorsOf, type ConfigProblem } from '../src/config/load.js';
import { NODE_BAD_PORTS } from '../src/config/rules/bad-ports.js';
import { serviceUrls } from '../src/config/rules/service-urls.js';
import { shipgate } from './harness/cli.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sg-rules-'));
  // A repository working tree with the compose files the compose targets name.
  mkdirSync(path.join(dir, 'repo'));
  writeFileSync(
    path.join(dir, 'repo', 'docker-compose.yml'),
    'services:\n  pricing:\n    image: reg.example/pricing:${RELEASE_TAG:-dev}\n  timescale:\n    image: timescale/timescaledb:2.14.2-pg16\n  alerts:\n    image: prom/alertmanager\n    profiles: [observability]\n',
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid config shaped unlike the demo (other names, ports, a compose target), with one part replaced. */
function config(parts: { services?: string; environments?: string } = {}): string {
  return `version: 1
project: desk
repository: repo
services:
${parts.services ?? `  pricing:
    port: 9310
    health: http://127.0.0.1:{port}/livez
  ledger:
    command: [python3, -m, ledger]
    port: 9320
`}
environments:
${parts.environments ?? `  uat:
    target: { type: compose, versionVariable: RELEASE_TAG }
`}`;
}

function check(text: string): ConfigProblem[] {
  return checkConfigText(text, path.join(dir, 'shipgate.yml')).problems;
}

/** What the text holds at a problem's line:col, to the end of that line: proves the position is the field's. */
function textAt(text: string, p: ConfigProblem): string {
  return text.split('\n')[p.line - 1]!.slice(p.col - 1);
}

/** The single error, as `line:col path: message` and the text it points at. */
function only(text: string): { at: string; path: string; message: string; points: string } {
  const errors = errorsOf(check(text));
  expect(errors, JSON.stringify(errors, null, 1)).toHaveLength(1);
  const e = errors[0]!;
  return { at: `${e.line}:${e.col}`, path: e.path, message: e.message, points: textAt(text, e) };
}

/** Every error as [line:col, path, the text it points at]. */
function all(text: string): [string, string, string][] {
  return errorsOf(check(text)).map((e) => [`${e.line}:${e.col}`, e.path, textAt(text, e)]);
}

describe('config check rules', () => {
  it('the base config is valid (every rule below breaks exactly one thing)', () => {
    expect(errorsOf(check(config()))).toEqual([]);
  });

  it('duplicate ports within an environment', () => {
    const text = config({
      services: '  pricing:\n    port: 9310\n  ledger:\n    command: [python3, -m, ledger]\n    port: 9320\n',
      environments: '  uat:\n    target: { type: compose, versionVariable: RELEASE_TAG }\n    services:\n      ledger: { port: 9310 }\n',
    });
    expect(only(text)).toEqual({ at: '15:23', path: 'environments.uat.services.ledger.port', message: 'ledger and pricing both use port 9310 in uat', points: '9310 }' });
  });

  it('a command that starts with "-"', () => {
    const text = config({ services: '  pricing:\n    port: 9310\n  ledger:\n    command: ["--port", "9320"]\n    port: 9320\n' });
    expect(only(text)).toMatchObject({ at: '8:15', path: 'services.ledger.command.0', points: '"--port", "9320"]' });
  });

  it('HTTP health or metrics URLs on infrastructure services (by dependencies, or by image)', () => {
    const text = config({
      services: '  pricing:\n    port: 9310\n  timescale:\n    port: 5432\n    health: http://127.0.0.1:{port}/health\n  cache:\n    port: 6379\n    metrics: http://127.0.0.1:{port}/metrics\n',
      environments: '  uat:\n    target: { type: compose, versionVariable: RELEASE_TAG, dependencies: [cache] }\n',
    });
    const errors = errorsOf(check(text));
    expect(all(text)).toEqual([
      ['9:13', 'services.timescale.health', 'http://127.0.0.1:{port}/health'],
      ['12:14', 'services.cache.metrics', 'http://127.0.0.1:{port}/metrics'],
    ]);
    expect(errors[0]!.message).toContain('timescale/timescaledb');
    expect(errors[1]!.message).toContain('target.dependencies');
  });

  it('a health contract object is read for its url too', () => {
    // The health field may become { url, status, version }; the rules read url either way.
      const urls = serviceUrls({ services: { a: { health: { url: 'file:///x' } } }, environments: {} } as never);
    expect(urls).toEqual([{ service: 'a', kind: 'health', env: undefined, url: 'file:///x', path: ['services', 'a', 'health', 'url'] }]);
  });

  it('a versionVariable the compose files never use', () => {
    const text = config({ environments: '  uat:\n    target: { type: compose, versionVariable: TAG }\n' });
    expect(only(text)).toEqual({ at: '14:47', path: 'environments.uat.target.versionVariable', message: 'versionVariable TAG is never used by docker-compose.yml', points: 'TAG }' });
    expect(errorsOf(check(text))[0]!.hint).toContain('RELEASE_TAG');
  });

  it('profiles that do not exist', () => {
    const text = config({ environments: '  uat:\n    target: { type: compose, versionVariable: RELEASE_TAG, profiles: [observability, monitoring] }\n' });
    expect(only(text)).toMatchObject({ at: '14:86', points: 'monitoring] }', path: 'environments.uat.target.profiles.1', message: 'profile "monitoring" is declared by no service in docker-compose.yml' });
  });

  it('compose files missing from the repository are a warning, never silence', () => {
    const problems = check(config({ environments: '  uat:\n    target: { type: compose, files: [deploy/prod.yml], versionVariable: RELEASE_TAG, profiles: [observability] }\n' }));
    expect(errorsOf(problems)).toEqual([]);
    expect(problems.map((p) => [p.severity, p.path])).toEqual([['warning', 'environments.uat.target.files']]);
  });

  it('a trading environment whose breaker reset would check nothing is a warning; one checked precondition silences it', () => {
    const unchecked = check(config({ environments: '  live:\n    target: { type: compose, versionVariable: RELEASE_TAG }\n    trading: { keyPrefix: "live:" }\n' }));
    expect(errorsOf(unchecked)).toEqual([]);
    expect(unchecked.map((p) => [p.severity, p.path])).toEqual([['warning', 'environments.live.trading']]);
    expect(unchecked[0]!.message).toMatch(/^a breaker reset in live would check none of its preconditions/);
    expect(unchecked[0]!.hint).toContain('shipgate breaker preconditions --env live');
    expect(check(config({ environments: '  live:\n    target: { type: compose, versionVariable: RELEASE_TAG }\n    trading: { keyPrefix: "live:", breakerReset: { marketDataUrl: "http://127.0.0.1:9400/metrics" } }\n' }))).toEqual([]);
    // No trading section: the runbooks' safety checks are not this environment's concern.
    expect(check(config())).toEqual([]);
  });

  it('ssh hosts, users and remotes that begin with "-"', () => {
    const text = config({
      environments: '  live:\n    target:\n      type: ssh\n      files: [docker-compose.yml]\n      versionVariable: RELEASE_TAG\n      dir: /srv/desk\n      remote: --upload-pack=touch\n      hosts:\n        - { host: -oProxyCommand=id, user: deploy, keyFile: /k }\n        - { host: desk-2, user: -lroot, keyFile: /k }\n',
    });
    const errors = errorsOf(check(text));
    expect(all(text)).toEqual([
      ['19:15', 'environments.live.target.remote', '--upload-pack=touch'],
      ['21:19', 'environments.live.target.hosts.0.host', '-oProxyCommand=id, user: deploy, keyFile: /k }'],
      ['22:33', 'environments.live.target.hosts.1.user', '-lroot, keyFile: /k }'],
    ]);
  });

  it('NUL or newline bytes anywhere', () => {
    const text = config({ environments: '  uat:\n    target: { type: compose, versionVariable: RELEASE_TAG }\n    env: { DESK: "a\\nb", OTHER: "x\\0y" }\n' });
    const errors = errorsOf(check(text));
    expect(errors.map((e) => e.message)).toEqual(['contains a line break', 'contains a NUL byte']);
    expect(all(text)).toEqual([
      ['15:18', 'environments.uat.env.DESK', '"a\\nb", OTHER: "x\\0y" }'],
      ['15:33', 'environments.uat.env.OTHER', '"x\\0y" }'],
    ]);
  });

  it('file: and data: URLs for health or metrics', () => {
    const text = config({ services: '  pricing:\n    port: 9310\n    health: file:///srv/desk/health.json\n    metrics: "data:text/plain,up 1"\n' });
    const errors = errorsOf(check(text));
    expect(all(text)).toEqual([
      ['7:13', 'services.pricing.health', 'file:///srv/desk/health.json'],
      ['8:14', 'services.pricing.metrics', '"data:text/plain,up 1"'],
    ]);
  });

  it('ports a Node HTTP client refuses', async () => {
    expect(NODE_BAD_PORTS.has(10080)).toBe(true);
    // The list is Node's own: fetch refuses the port before connecting.
    const err = await fetch('http://127.0.0.1:10080/').catch((e: Error) => e);
    expect(String((err as Error & { cause?: Error }).cause?.message)).toBe('bad port');
    const text = config({ services: '  pricing:\n    port: 10080\n    health: http://127.0.0.1:{port}/livez\n  ledger:\n    command: [python3, -m, ledger]\n    metrics: http://127.0.0.1:6000/metrics\n' });
    const errors = errorsOf(check(text));
    expect(all(text)).toEqual([
      ['6:11', 'services.pricing.port', '10080'],
      ['10:14', 'services.ledger.metrics', 'http://127.0.0.1:6000/metrics'],
    ]);
  });

  it('a process target needs each service\'s command; a compose target does not', () => {
    const text = config({ environments: '  uat:\n    target: { type: process }\n' });
    expect(only(text)).toMatchObject({ at: '6:5', points: 'port: 9310', path: 'services.pricing.command', message: 'missing required field "command"' });
  });

  it('`shipgate config check` exits 2 and prints file:line:col', async () => {
    const cwd = path.join(dir, 'cli');
    mkdirSync(cwd, { recursive: true });
    mkdirSync(path.join(cwd, 'repo'), { recursive: true });
    writeFileSync(path.join(cwd, 'shipgate.yml'), config({ services: '  pricing:\n    port: 10080\n' }).replace('repository: repo', 'repository: ../repo'));
    const r = await shipgate(['config', 'check'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`${path.join(cwd, 'shipgate.yml')}:6:11: error services.pricing.port: port 10080 of pricing is one Node's HTTP client refuses`);
  });
});
