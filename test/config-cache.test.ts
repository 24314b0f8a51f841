// The validated-config cache (issue 15): a command skips the YAML parse and the schema when
// shipgate.yml is byte for byte what was checked before by this build; any change checks it again.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configCacheDir, fileConfigCache, MAX_ENTRIES } from '../src/adapters/host/config-cache.js';
import { loadConfigCached, type ConfigCache } from '../src/config/cached-load.js';
import { loadConfig } from '../src/config/load.js';
import type { ShipgateConfig } from '../src/config/schema.js';
import { ShipgateError } from '../src/core/errors.js';
import { shipgate } from './harness/cli.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-config-cache-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A stack unlike the demo's: one Go service, two environments on processes.
const CONFIG = [
  'version: 1',
  'project: fx_hedger',
  'repository: .',
  'services:',
  '  hedger: {command: [./hedger, --listen, ":{port}"], port: 47411, health: "http://127.0.0.1:{port}/live"}',
  'environments:',
  '  sim: {target: {type: process}}',
  '  prod: {target: {type: process}, services: {hedger: {port: 47412}}, window: {enforce: true, mondayMorningUntil: "10:30"}}',
  '',
].join('\n');

/** A project directory holding `text` as its shipgate.yml. */
function writeProject(name: string, text: string): string {
  const project = path.join(dir, name);
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, 'shipgate.yml'), text);
  return project;
}

/** A cache that remembers what it was asked, over a real file cache. */
function recording(inner: ConfigCache): ConfigCache & { hits: number; puts: number } {
  const c = {
    hits: 0,
    puts: 0,
    get(text: string) {
      const found = inner.get(text);
      if (found) c.hits++;
      return found;
    },
    put(text: string, config: ShipgateConfig) {
      c.puts++;
      inner.put(text, config);
    },
  };
  return c;
}

describe('fileConfigCache', () => {
  it('gives back exactly what was put for the same text and version, and nothing for any other', () => {
    const cacheDir = path.join(dir, 'unit');
    const cache = fileConfigCache(cacheDir, '1.2.3');
    const config = loadConfig(undefined, writeProject('unit-project', CONFIG)).config;
    expect(cache.get(CONFIG)).toBeUndefined();
    cache.put(CONFIG, config);
    expect(cache.get(CONFIG)).toEqual(config);
    expect(cache.get(CONFIG.replace('47412', '47413'))).toBeUndefined();
    expect(cache.get(`${CONFIG} `)).toBeUndefined();
    expect(fileConfigCache(cacheDir, '1.2.4').get(CONFIG)).toBeUndefined();
    // An entry that is not JSON (a torn or foreign file) is a miss, not an error.
    for (const f of readdirSync(cacheDir)) writeFileSync(path.join(cacheDir, f), '{"format":1,');
    expect(cache.get(CONFIG)).toBeUndefined();
  });

  it('keeps nothing that JSON would not give back unchanged, and at most MAX_ENTRIES files', () => {
    const cacheDir = path.join(dir, 'bounded');
    const cache = fileConfigCache(cacheDir, '1.2.3');
    const config = loadConfig(undefined, writeProject('bounded-project', CONFIG)).config;
    cache.put('odd', { ...config, project: undefined } as unknown as ShipgateConfig);
    expect(existsSync(cacheDir)).toBe(false);
    for (let i = 0; i < MAX_ENTRIES + 5; i++) cache.put(`${CONFIG}# ${i}\n`, config);
    expect(readdirSync(cacheDir)).toHaveLength(MAX_ENTRIES);
    expect(cache.get(`${CONFIG}# ${MAX_ENTRIES + 4}\n`)).toEqual(config);
  });

  it('lives in SHIPGATE_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache; an empty SHIPGATE_CACHE_DIR keeps none', () => {
    expect(configCacheDir({ SHIPGATE_CACHE_DIR: '/var/cache/sg', XDG_CACHE_HOME: '/x' })).toBe('/var/cache/sg');
    expect(configCacheDir({ SHIPGATE_CACHE_DIR: '' })).toBeUndefined();
    expect(configCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(path.join('/x', 'shipgate'));
    expect(configCacheDir({})).toBe(path.join(os.homedir(), '.cache', 'shipgate'));
  });
});

describe('loadConfigCached', () => {
  it('checks the file in full once, then returns the kept config while the text is unchanged', async () => {
    const project = writeProject('kept', CONFIG);
    const cache = recording(fileConfigCache(path.join(dir, 'kept-cache'), '0.0.1'));
    const first = await loadConfigCached(undefined, project, cache);
    expect([cache.hits, cache.puts]).toEqual([0, 1]);
    const second = await loadConfigCached(undefined, project, cache);
    expect([cache.hits, cache.puts]).toEqual([1, 1]);
    expect(second).toEqual(first);
    expect(second).toEqual(loadConfig(undefined, project));
  });

  it('a change of one byte misses: the new text is checked, and a mistake is reported as loadConfig reports it', async () => {
    const project = writeProject('edited', CONFIG);
    const cache = recording(fileConfigCache(path.join(dir, 'edited-cache'), '0.0.1'));
    await loadConfigCached(undefined, project, cache);
    writeFileSync(path.join(project, 'shipgate.yml'), CONFIG.replace('47412', '47413'));
    const edited = await loadConfigCached(undefined, project, cache);
    expect(cache.hits).toBe(0);
    expect(edited.config.environments.prod!.services.hedger!.port).toBe(47413);

    const broken = CONFIG.replace('port: 47411', 'port: "abc"');
    writeFileSync(path.join(project, 'shipgate.yml'), broken);
    const err = await loadConfigCached(undefined, project, cache).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShipgateError);
    let expected: unknown;
    try {
      loadConfig(undefined, project);
    } catch (e) {
      expected = e;
    }
    expect((err as ShipgateError).message).toBe((expected as ShipgateError).message);
    expect((err as ShipgateError).message).toMatch(/^invalid configuration: services\.hedger\.port/);
    expect(cache.hits).toBe(0);
  });

  it('keeps a compose config with the text of its compose files: an edit of either is checked in full', async () => {
    const compose = CONFIG.replace('sim: {target: {type: process}}', 'sim: {target: {type: compose, files: [compose.yml]}}');
    const project = writeProject('compose', compose);
    const composeFile = path.join(project, 'compose.yml');
    writeFileSync(composeFile, 'services:\n  hedger: {image: "hedger:${TAG}"}\n');
    const cache = recording(fileConfigCache(path.join(dir, 'compose-cache'), '0.0.1'));
    const first = await loadConfigCached(undefined, project, cache);
    expect([cache.hits, cache.puts]).toEqual([0, 2]);
    expect(await loadConfigCached(undefined, project, cache)).toEqual(first);
    expect([cache.hits, cache.puts]).toEqual([2, 2]);
    // The compose file no longer uses versionVariable: the check fails, as loadConfig's does.
    writeFileSync(composeFile, 'services:\n  hedger: {image: "hedger:latest"}\n');
    const err = await loadConfigCached(undefined, project, cache).catch((e: unknown) => e);
    const expected = (() => {
      try {
        loadConfig(undefined, project);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ShipgateError);
    expect((err as ShipgateError).message).toBe((expected as ShipgateError).message);
    expect((err as ShipgateError).message).toMatch(/versionVariable TAG is never used by compose\.yml/);
    // A compose file that extends another (which the check reads too) is never kept.
    writeFileSync(composeFile, 'services:\n  base: {image: "hedger:${TAG}"}\n  hedger: {extends: base}\n');
    const puts = cache.puts;
    await loadConfigCached(undefined, project, cache);
    await loadConfigCached(undefined, project, cache);
    expect(cache.puts).toBe(puts);
  });
});

describe('the CLI with the cache', () => {
  it('window check follows an edit of shipgate.yml made after the config was cached', async () => {
    const project = writeProject('cli', CONFIG);
    const cacheDir = path.join(dir, 'cli-cache');
    const env = { SHIPGATE_CACHE_DIR: cacheDir };
    // A trading Monday (2026-11-30) at 10:00 New York time: refused before 10:30 by prod's Monday rule.
    const at = ['--at', '2026-11-30T10:00:00-05:00', '--json'];
    const before = await shipgate(['window', 'check', '--env', 'prod', ...at], { cwd: project, env });
    expect(before.code, before.stderr).toBe(3);
    expect(before.json().rule).toBe('monday-morning');
    expect(readdirSync(cacheDir)).toHaveLength(1);
    const again = await shipgate(['window', 'check', '--env', 'prod', ...at], { cwd: project, env });
    expect(again.json()).toEqual(before.json());

    writeFileSync(path.join(project, 'shipgate.yml'), CONFIG.replace('mondayMorningUntil: "10:30"', 'mondayMorningUntil: "09:45"'));
    const after = await shipgate(['window', 'check', '--env', 'prod', ...at], { cwd: project, env });
    expect(after.code, after.stderr).toBe(3);
    expect(after.json().rule).toBe('session');

    writeFileSync(path.join(project, 'shipgate.yml'), CONFIG.replace('mondayMorningUntil: "10:30"', 'mondayMorningUntil: "25:00"'));
    const bad = await shipgate(['window', 'check', '--env', 'prod', ...at], { cwd: project, env });
    expect(bad.code).toBe(2);
    expect(bad.json().error.message).toMatch(/mondayMorningUntil/);
    // One entry per text that passed the check (the schema takes "25:00"; the window check refuses it).
    const kept = readdirSync(cacheDir).map((f) => (JSON.parse(readFileSync(path.join(cacheDir, f), 'utf8')) as { text: string }).text);
    expect(kept.sort()).toEqual([CONFIG, CONFIG.replace('"10:30"', '"09:45"'), CONFIG.replace('"10:30"', '"25:00"')].sort());

    // A file the schema rejects is reported, and not kept.
    writeFileSync(path.join(project, 'shipgate.yml'), CONFIG.replace('port: 47412', 'port: -1'));
    const rejected = await shipgate(['window', 'check', '--env', 'prod', ...at], { cwd: project, env });
    expect(rejected.code).toBe(2);
    expect(rejected.json().error.message).toMatch(/^invalid configuration: environments\.prod\.services\.hedger\.port/);
    expect(readdirSync(cacheDir)).toHaveLength(3);
  });
});
