// `shipgate config check` / `config schema`: every problem, with file:line:col, field path and hint.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkConfigText, findConfigFile, loadConfig, type ConfigProblem } from '../src/config/load.js';
import { resolveServices } from '../src/config/resolve.js';
import { starterConfig } from '../src/config/starter.js';
import { ShipgateError } from '../src/core/errors.js';
import { shipgate } from './harness/cli.js';

/** 1-based line and column of the `nth` occurrence of `needle` in `text`. */
function posOf(text: string, needle: string, nth = 1): { line: number; col: number } {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`fixture has no occurrence ${nth} of ${JSON.stringify(needle)}`);
  }
  const before = text.slice(0, index).split('\n');
  return { line: before.length, col: before[before.length - 1]!.length + 1 };
}

function only(problems: ConfigProblem[], fieldPath: string): ConfigProblem {
  const found = problems.filter((p) => p.path === fieldPath);
  expect(found, `problems at ${fieldPath} in ${JSON.stringify(problems, null, 2)}`).toHaveLength(1);
  return found[0]!;
}

function noStackTrace(output: string): void {
  expect(output).not.toMatch(/^\s+at /m);
}

// Five different mistakes in one file; each must be reported, at its own position.
const BROKEN = `version: 1
servics:
  extra: 1
services:
  api:
    command: ["node", "api.js"]
    port: "abc"
    helth: http://127.0.0.1:{port}/health
  worker:
    port: 9000
environments:
  staging:
    services:
      ghost: { port: 1 }
    health:
      timeout: soon
`;

const VALID = `version: 1
services:
  api:
    command: [node, api.js]
    port: 8001
    health: http://127.0.0.1:{port}/health
environments:
  staging:
    services:
      api: { port: 18001 }
    health: { timeout: 45s, interval: 250ms }
  production: {}
`;

describe('checkConfigText', () => {
  const { config, problems } = checkConfigText(BROKEN, 'shipgate.yml');

  it('returns no config and exactly one problem per mistake, ordered by position', () => {
    expect(config).toBeUndefined();
    expect(problems.map((p) => p.path)).toEqual([
      'servics',
      'services.api.port',
      'services.api.helth',
      'services.worker.command',
      'environments.staging.services.ghost',
      'environments.staging.health.timeout',
    ]);
    for (const p of problems) {
      expect(p.file).toBe('shipgate.yml');
      expect(p.message.trim()).not.toBe('');
      expect(p.hint.trim()).not.toBe('');
    }
  });

  it('points at an unknown top-level key and suggests the right spelling', () => {
    const p = only(problems, 'servics');
    expect(posOf(BROKEN, 'servics')).toEqual({ line: 2, col: 1 });
    expect({ line: p.line, col: p.col }).toEqual({ line: 2, col: 1 });
    expect(p.message).toBe('unknown field "servics"');
    expect(p.hint).toContain('Did you mean "services"?');
  });

  it('points at the value of a field with the wrong type', () => {
    const p = only(problems, 'services.api.port');
    expect(posOf(BROKEN, '"abc"')).toEqual({ line: 7, col: 11 });
    expect({ line: p.line, col: p.col }).toEqual({ line: 7, col: 11 });
    expect(p.message).toMatch(/expected a number, got string/);
    expect(p.hint).toMatch(/number/);
  });

  it('points at an unknown key inside a service and suggests the right spelling', () => {
    const p = only(problems, 'services.api.helth');
    expect(posOf(BROKEN, 'helth')).toEqual({ line: 8, col: 5 });
    expect({ line: p.line, col: p.col }).toEqual({ line: 8, col: 5 });
    expect(p.hint).toContain('Did you mean "health"?');
  });

  it('points a missing required field at the map that should contain it', () => {
    const p = only(problems, 'services.worker.command');
    // The worker's map starts at its first key, "port: 9000" on line 10.
    expect(posOf(BROKEN, 'port: 9000')).toEqual({ line: 10, col: 5 });
    expect({ line: p.line, col: p.col }).toEqual({ line: 10, col: 5 });
    expect(p.message).toBe('missing required field "command"');
    expect(p.hint).toContain('command:');
  });

  it('reports an override of an undeclared service at its key, alongside the other problems', () => {
    const p = only(problems, 'environments.staging.services.ghost');
    expect(posOf(BROKEN, 'ghost')).toEqual({ line: 14, col: 7 });
    expect({ line: p.line, col: p.col }).toEqual({ line: 14, col: 7 });
    expect(p.message).toContain('unknown service "ghost"');
    expect(p.message).toContain('api, worker');
    expect(p.hint).toMatch(/Declare "ghost" under services/);
  });

  it('points at a bad duration value', () => {
    const p = only(problems, 'environments.staging.health.timeout');
    expect(posOf(BROKEN, 'soon')).toEqual({ line: 16, col: 16 });
    expect({ line: p.line, col: p.col }).toEqual({ line: 16, col: 16 });
    expect(p.message).toMatch(/duration/);
    expect(p.hint).toMatch(/30s/);
  });

  it('reports several unknown keys in one map separately, each at its key', () => {
    const text = 'version: 1\nservices:\n  api:\n    command: [a]\n    foo: 1\n    bar: 2\nenvironments:\n  s: {}\n';
    const { problems: ps } = checkConfigText(text, 'f.yml');
    expect(ps.map((p) => [p.path, p.line, p.col])).toEqual([
      ['services.api.foo', 5, 5],
      ['services.api.bar', 6, 5],
    ]);
    expect(ps[0]!.hint).toContain('command, cwd, port, health');
  });

  it('points an invalid service name at the name', () => {
    const text = 'version: 1\nservices:\n  BadName:\n    command: [a]\nenvironments:\n  s: {}\n';
    const { problems: ps } = checkConfigText(text, 'f.yml');
    expect(ps).toHaveLength(1);
    expect(ps[0]).toMatchObject({ path: 'services.BadName', line: 3, col: 3 });
    expect(ps[0]!.hint).toMatch(/lower-case/);
  });

  it('reports the undeclared-service override on its own too', () => {
    const text = 'version: 1\nservices:\n  api:\n    command: [a]\nenvironments:\n  s:\n    services:\n      apii: { port: 1 }\n';
    const { problems: ps } = checkConfigText(text, 'f.yml');
    expect(ps).toEqual([expect.objectContaining({ path: 'environments.s.services.apii', line: 8, col: 7 })]);
  });

  it('reports missing top-level fields of an empty file at 1:1, by name', () => {
    const { problems: ps } = checkConfigText('', 'f.yml');
    expect(ps.map((p) => [p.path, p.line, p.col, p.message])).toEqual([
      ['version', 1, 1, 'missing required field "version"'],
      ['services', 1, 1, 'missing required field "services"'],
      ['environments', 1, 1, 'missing required field "environments"'],
    ]);
  });

  it('points an empty value at its key', () => {
    const text = 'version: 1\nservices:\n  api:\nenvironments:\n  s: {}\n';
    const { problems: ps } = checkConfigText(text, 'f.yml');
    expect(ps).toEqual([expect.objectContaining({ path: 'services.api', line: 3, col: 3 })]);
  });

  it('gives the allowed values for a wrong literal and an unknown target type', () => {
    const text = 'version: 2\nservices:\n  api:\n    command: [a]\nenvironments:\n  s:\n    target: { type: docker }\n';
    const { problems: ps } = checkConfigText(text, 'f.yml');
    expect(ps.map((p) => [p.path, p.line, p.col])).toEqual([
      ['version', 1, 10],
      ['environments.s.target.type', 7, 21],
    ]);
    expect(ps[0]!.hint).toContain('1');
    expect(ps[1]!.hint).toContain('"process"');
  });

  it('accepts a valid file and applies defaults', () => {
    const { config: c, problems: ps } = checkConfigText(VALID, 'f.yml');
    expect(ps).toEqual([]);
    expect(c!.services.api!.port).toBe(8001);
    expect(c!.services.api!.cwd).toBe('.');
    expect(c!.environments.staging!.health).toEqual({ timeout: 45_000, interval: 250, requestTimeout: 2_000 });
    expect(c!.environments.production!.target).toEqual({ type: 'process' });
    expect(c!.stateDir).toBe('.shipgate');
  });

  it('an environment override changes only the fields it names (base cwd, env and passEnv survive)', () => {
    const text = `version: 1
services:
  api:
    command: [node, main.mjs]
    cwd: services/api
    port: 8001
    health: http://127.0.0.1:{port}/health
    env: { A: base, B: base }
    passEnv: [API_KEY]
environments:
  staging:
    env: { A: env, C: env }
    services:
      api: { port: 18001, env: { B: override } }
  production: {}
`;
    const { config: c, problems: ps } = checkConfigText(text, 'f.yml');
    expect(ps).toEqual([]);
    const [staging] = resolveServices(c!, 'staging');
    expect(staging).toEqual({
      name: 'api',
      command: ['node', 'main.mjs'],
      cwd: 'services/api',
      port: 18001,
      healthUrl: 'http://127.0.0.1:18001/health',
      metricsUrl: undefined,
      env: { A: 'base', B: 'override', C: 'env' },
      passEnv: ['API_KEY'],
    });
    const [production] = resolveServices(c!, 'production');
    expect(production).toMatchObject({ cwd: 'services/api', port: 8001, healthUrl: 'http://127.0.0.1:8001/health' });
  });

  it('accepts the starter file as written', () => {
    expect(checkConfigText(starterConfig(), 'shipgate.yml').problems).toEqual([]);
  });

  describe('malformed YAML gives a position and the (yaml) path', () => {
    const cases: [string, string, string, { line: number; col: number }][] = [
      ['bad indentation', 'version: 1\nservices:\n  api:\n    command: [a]\n   port: 1\n', 'port: 1', { line: 5, col: 4 }],
      ['a tab as indentation', 'version: 1\nservices:\n\tapi: {}\n', '\tapi', { line: 3, col: 1 }],
      ['an unclosed quote', 'version: 1\nproject: "trading\nservices: {}\n', '"trading', { line: 2, col: 10 }],
      ['a duplicate key', 'version: 1\nservices:\n  api:\n    command: [a]\n    command: [b]\n', 'command: [b]', { line: 5, col: 5 }],
    ];
    for (const [name, text, needle, expected] of cases) {
      it(name, () => {
        expect(posOf(text, needle)).toEqual(expected);
        const { config: c, problems: ps } = checkConfigText(text, 'shipgate.yml');
        expect(c).toBeUndefined();
        expect(ps.length).toBeGreaterThanOrEqual(1);
        expect(ps[0]).toMatchObject({ path: '(yaml)', file: 'shipgate.yml', ...expected });
        expect(ps[0]!.hint).toMatch(/YAML/);
        // The position is ours, not repeated from the library's message.
        expect(ps[0]!.message).not.toMatch(/at line \d+/);
      });
    }
  });
});

describe('YAML aliases', () => {
  it('an alias to a missing anchor is a (yaml) problem at the alias, not a crash', () => {
    const text = 'version: 1\nservices:\n  api:\n    command: *nope\nenvironments:\n  s: {}\n';
    const { problems } = checkConfigText(text, 'f.yml');
    expect(problems).toEqual([expect.objectContaining({ path: '(yaml)', line: 4, col: 14 })]);
    expect(problems[0]!.message).toContain('nope');
  });

  it('an alias bomb is a (yaml) problem, not a hang or a crash', () => {
    const rows = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c']] as const) rows.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    const { config, problems } = checkConfigText(`${rows.join('\n')}\n`, 'f.yml');
    expect(config).toBeUndefined();
    expect(problems).toEqual([expect.objectContaining({ path: '(yaml)' })]);
  });

  it('anchors and << merge keys work', () => {
    const text = 'version: 1\nservices:\n  api: &svc\n    command: [node, api.js]\n    env: { LOG: info }\n  worker:\n    <<: *svc\n    command: [node, worker.js]\nenvironments:\n  s: {}\n';
    const { config, problems } = checkConfigText(text, 'f.yml');
    expect(problems).toEqual([]);
    expect(config!.services.worker).toMatchObject({ command: ['node', 'worker.js'], env: { LOG: 'info' } });
  });
});

describe('loadConfig', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-load-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('throws bad input naming file:line:col of the first problem, with every problem attached', () => {
    const file = path.join(dir, 'shipgate.yml');
    writeFileSync(file, BROKEN);
    let error: unknown;
    try {
      loadConfig(undefined, dir);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ShipgateError);
    const e = error as ShipgateError;
    expect(e.exitCode).toBe(2);
    expect(e.where).toBe(`${file}:2:1`);
    expect(e.message).toContain('servics');
    expect(e.message).toContain('and 5 more problems');
    expect((e.data?.problems as unknown[]).length).toBe(6);
  });
});

describe('shipgate config check (CLI)', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function workspace(name: string, files: Record<string, string>): string {
    const d = path.join(dir, name);
    mkdirSync(d, { recursive: true });
    for (const [f, text] of Object.entries(files)) writeFileSync(path.join(d, f), text);
    return d;
  }

  it('lists every problem as shipgate.yml:L:C with field and hint, and exits 2', async () => {
    const cwd = workspace('broken', { 'shipgate.yml': BROKEN });
    const r = await shipgate(['config', 'check'], { cwd });
    expect(r.code).toBe(2);
    for (const [where, field] of [
      ['2:1', 'servics'],
      ['7:11', 'services.api.port'],
      ['8:5', 'services.api.helth'],
      ['10:5', 'services.worker.command'],
      ['14:7', 'environments.staging.services.ghost'],
      ['16:16', 'environments.staging.health.timeout'],
    ] as const) {
      expect(r.stdout).toContain(`shipgate.yml:${where}: error ${field}:`);
    }
    expect(r.stdout).toContain('Did you mean "health"?');
    expect(r.stdout).toContain('6 problems in');
    noStackTrace(r.stdout + r.stderr);
  });

  it('--json gives {ok:false, problems} with positions', async () => {
    const cwd = workspace('broken-json', { 'shipgate.yml': BROKEN });
    const r = await shipgate(['config', 'check', '--json'], { cwd });
    expect(r.code).toBe(2);
    const out = r.json<{ ok: boolean; file: string; problems: ConfigProblem[] }>();
    expect(out.ok).toBe(false);
    expect(out.file).toBe(path.join(cwd, 'shipgate.yml'));
    expect(out.problems.map((p) => `${p.line}:${p.col} ${p.path}`)).toEqual([
      '2:1 servics',
      '7:11 services.api.port',
      '8:5 services.api.helth',
      '10:5 services.worker.command',
      '14:7 environments.staging.services.ghost',
      '16:16 environments.staging.health.timeout',
    ]);
    expect(out.problems.every((p) => p.hint.length > 0)).toBe(true);
  });

  it('reports malformed YAML with its position', async () => {
    const cwd = workspace('yaml', { 'shipgate.yml': 'version: 1\nservices:\n\tapi: {}\n' });
    const r = await shipgate(['config', 'check'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('shipgate.yml:3:1: error (yaml):');
  });

  it('exits 0 on a valid file', async () => {
    const cwd = workspace('valid', { 'shipgate.yml': VALID });
    const r = await shipgate(['config', 'check'], { cwd });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shipgate\.yml is valid/);
    const j = await shipgate(['config', 'check', '--json'], { cwd });
    expect(j.code).toBe(0);
    expect(j.json()).toMatchObject({ ok: true, problems: [] });
  });

  it('-c names another file, before or after the command', async () => {
    const cwd = workspace('other', { 'shipgate.yml': VALID, 'other.yml': BROKEN, 'good.yml': VALID });
    const before = await shipgate(['-c', 'other.yml', 'config', 'check'], { cwd });
    expect(before.code).toBe(2);
    expect(before.stdout).toContain('other.yml:7:11');
    const after = await shipgate(['config', 'check', '-c', 'other.yml', '--json'], { cwd });
    expect(after.code).toBe(2);
    expect(after.json().file).toBe(path.join(cwd, 'other.yml'));
    // An explicit file wins over the broken shipgate.yml of the current directory.
    const good = await shipgate(['config', 'check', '--config', path.join(cwd, 'good.yml')], { cwd: workspace('other-broken', { 'shipgate.yml': BROKEN }) });
    expect(good.code).toBe(0);
  });

  it('a missing -c file exits 2 with a hint', async () => {
    const cwd = workspace('missing-c', { 'shipgate.yml': VALID });
    const r = await shipgate(['config', 'check', '-c', 'nope.yml'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('config file nope.yml does not exist');
    expect(r.stderr).toMatch(/Check the path|shipgate init/);
    noStackTrace(r.stderr);
    const j = await shipgate(['config', 'check', '-c', 'nope.yml', '--json'], { cwd });
    expect(j.code).toBe(2);
    expect(j.json()).toMatchObject({ ok: false, error: { exitCode: 2, where: '-c/--config' } });
  });

  it('-c naming a directory exits 2 without a stack trace', async () => {
    const cwd = workspace('dir-c', { 'shipgate.yml': VALID });
    const r = await shipgate(['config', 'check', '-c', '.'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('is a directory');
    noStackTrace(r.stderr);
  });

  it('with no shipgate.yml here or above, exits 2 and says to run shipgate init', async () => {
    // findConfigFile walks up to /: the test means nothing if a stray shipgate.yml sits above the temp dir.
    expect(findConfigFile(os.tmpdir()), 'a shipgate.yml above the temp dir breaks this test').toBeUndefined();
    const cwd = workspace('empty', {});
    const r = await shipgate(['config', 'check'], { cwd });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('no shipgate.yml found');
    expect(r.stderr).toContain('shipgate init');
    expect(r.stderr.trim().split('\n').length).toBeLessThanOrEqual(3);
    noStackTrace(r.stderr);
  });

  it('finds the config from a subdirectory by walking up', async () => {
    const cwd = workspace('walk', { 'shipgate.yml': BROKEN });
    const sub = path.join(cwd, 'a', 'b', 'c');
    mkdirSync(sub, { recursive: true });
    const r = await shipgate(['config', 'check', '--json'], { cwd: sub });
    expect(r.code).toBe(2);
    expect(r.json().file).toBe(path.join(cwd, 'shipgate.yml'));
    writeFileSync(path.join(cwd, 'shipgate.yml'), VALID);
    const ok = await shipgate(['config', 'check'], { cwd: sub });
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(path.join(cwd, 'shipgate.yml'));
  });
});

describe('shipgate config schema', () => {
  it('prints the JSON Schema of shipgate.yml', async () => {
    const r = await shipgate(['config', 'schema'], { cwd: os.tmpdir() });
    expect(r.code).toBe(0);
    const schema = r.json<{ $schema: string; type: string; required: string[]; properties: Record<string, any>; additionalProperties: unknown }>();
    expect(schema.$schema).toMatch(/json-schema\.org/);
    expect(schema.type).toBe('object');
    expect(schema.properties.services).toBeDefined();
    expect(schema.properties.environments).toBeDefined();
    expect(schema.required).toEqual(expect.arrayContaining(['version', 'services', 'environments']));
    expect(schema.additionalProperties).toBe(false);
    // A service's fields are described, so editors can complete and explain them.
    const service = schema.properties.services.additionalProperties;
    expect(Object.keys(service.properties)).toEqual(expect.arrayContaining(['command', 'port', 'health', 'metrics', 'env', 'passEnv']));
    // `command` is required only where an environment runs processes (compose runs its own): config check says so.
    expect(service.required ?? []).toEqual([]);
    expect(service.properties.command.description).toContain('process target');
    expect(service.properties.port.maximum).toBe(65535);
  });
});
