import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, ROOT, shipgate } from './harness/cli.js';

// What `shipgate --help` loads (issue 15): commands register eagerly, their work is imported
// when they run. The trace records every module a real CLI process loads.
const TRACER = path.join(ROOT, 'test', 'fixtures', 'trace-modules.mjs');
const HEAVY = ['kysely', 'pg', 'redis', '@redis', 'zod', 'yaml', 'luxon', 'better-sqlite3'];

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-cli-start-'));
  // Two environments of a stack unlike the demo's; nothing listens on the ports.
  writeFileSync(
    path.join(dir, 'shipgate.yml'),
    [
      'version: 1',
      'project: rates_desk',
      'repository: .',
      'services:',
      '  quoter: {command: [python3, quoter.py], port: 47311, health: "http://127.0.0.1:{port}/ready"}',
      'environments:',
      '  uat: {target: {type: process}}',
      '  live: {target: {type: process}, services: {quoter: {port: 47312}}}',
      '',
    ].join('\n'),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function traced(args: string[], cwd: string): { code: number | null; stdout: string; loaded: string[] } {
  const out = path.join(dir, `trace-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(out, '');
  const r = spawnSync(process.execPath, ['--import', TRACER, BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, TRACE_MODULES_TO: out, NO_COLOR: '1', SHIPGATE_ACTOR: 'tester', SHIPGATE_CACHE_DIR: path.join(dir, 'cache') },
  });
  return { code: r.status, stdout: r.stdout, loaded: readFileSync(out, 'utf8').split('\n').filter(Boolean).flatMap(unbundled) };
}

// bin/shipgate runs the bundle (scripts/bundle.mjs): a loaded chunk stands for the modules in it.
const BUNDLE = path.join(ROOT, 'dist', 'bundle');
const chunks = JSON.parse(readFileSync(path.join(BUNDLE, 'modules.json'), 'utf8')) as Record<string, string[]>;
function unbundled(loaded: string): string[] {
  const chunk = /\/dist\/bundle\/([^/]+\.cjs)$/.exec(loaded)?.[1];
  if (chunk === undefined) return [loaded];
  if (!chunks[chunk]) throw new Error(`${chunk} is not in dist/bundle/modules.json: run npm run build`);
  return [loaded, ...chunks[chunk].map((id) => path.resolve(ROOT, id))];
}

const packagesIn = (loaded: string[]) => new Set(loaded.flatMap((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1] ?? []));
const heavyIn = (loaded: string[]) => [...packagesIn(loaded)].filter((p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`)));
const shipgateModules = (loaded: string[]) => loaded.flatMap((u) => /\/dist\/(.*\.js)$/.exec(u)?.[1] ?? []);

describe('CLI start loads only what the command needs', () => {
  it('`shipgate --version` alone prints the version, as -V and --version-info do; a command keeps --version for its release', async () => {
    const version = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
    for (const flag of ['--version', '-V', '--version-info']) {
      const r = spawnSync(process.execPath, [BIN, flag], { cwd: dir, encoding: 'utf8' });
      expect({ flag, code: r.status, stdout: r.stdout }).toEqual({ flag, code: 0, stdout: `${version}\n` });
    }
    const deploy = spawnSync(process.execPath, [BIN, 'deploy', 'uat', '--version'], { cwd: dir, encoding: 'utf8' });
    expect(deploy.status).toBe(2);
    expect(deploy.stderr).toContain("option '--version <tag>' argument missing");
  });

  it('--help loads no driver, schema or adapter module, and the trace does see what it loads', () => {
    const help = traced(['--help'], dir);
    expect(help.code).toBe(0);
    expect(help.loaded).toContain(path.join(BUNDLE, 'main.cjs'));
    expect(packagesIn(help.loaded)).toContain('commander');
    expect(shipgateModules(help.loaded)).toContain('cli/commands/window.js');
    expect(heavyIn(help.loaded)).toEqual([]);
    // adapters/host/install.js finds package.json (for --version-info) and reads nothing else.
    expect(shipgateModules(help.loaded).filter((m) => (m.startsWith('adapters/') && m !== 'adapters/host/install.js') || m.startsWith('app/') || m.startsWith('demo/'))).toEqual([]);
    expect(shipgateModules(help.loaded)).not.toContain('config/schema.js');
  });

  it('a command loads its own work: status opens the store (kysely), the window check does not, neither loads Redis or pg', () => {
    rmSync(path.join(dir, 'cache'), { recursive: true, force: true });
    const status = traced(['status', '--json'], dir);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).environments.map((e: { env: string }) => e.env)).toEqual(['uat', 'live']);
    expect(heavyIn(status.loaded)).toEqual(expect.arrayContaining(['kysely', 'zod', 'yaml']));
    expect(heavyIn(status.loaded)).not.toEqual(expect.arrayContaining(['pg']));
    expect(heavyIn(status.loaded).filter((p) => p === 'redis' || p.startsWith('@redis/'))).toEqual([]);
    // A process-only project loads the process driver, not the compose or ssh ones.
    expect(shipgateModules(status.loaded)).toContain('adapters/targets/process/driver.js');
    expect(shipgateModules(status.loaded).filter((m) => m.startsWith('adapters/targets/compose/') || m.startsWith('adapters/targets/ssh/'))).toEqual([]);

    // The same shipgate.yml again: its validated config comes from the cache, without YAML parser or schema.
    const again = traced(['status', '--json'], dir);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).environments).toEqual(JSON.parse(status.stdout).environments);
    expect(heavyIn(again.loaded)).toEqual(['kysely', ...(heavyIn(again.loaded).includes('better-sqlite3') ? ['better-sqlite3'] : [])]);
    expect(shipgateModules(again.loaded)).toContain('config/cached-load.js');

    const window = traced(['window', 'check', '--env', 'live', '--at', '2026-11-28T12:00:00-05:00', '--json'], dir);
    expect(window.code).toBe(0);
    expect(JSON.parse(window.stdout).open).toBe(true);
    expect(heavyIn(window.loaded).filter((p) => ['kysely', 'pg', 'redis', 'better-sqlite3'].includes(p) || p.startsWith('@redis/'))).toEqual([]);
  });

  it('ci triage --log outside a project loads no YAML parser, schema, config or GitHub client (issue 12)', () => {
    const outside = mkdtempSync(path.join(os.tmpdir(), 'shipgate-no-project-'));
    try {
      writeFileSync(path.join(outside, 'job.log'), 'src/cart.ts(7,17): error TS2551: Property lenght does not exist\n');
      const triage = traced(['ci', 'triage', '--log', 'job.log', '--json'], outside);
      expect(triage.code).toBe(0);
      expect(JSON.parse(triage.stdout).category).toBe('type-error');
      expect(heavyIn(triage.loaded)).toEqual([]);
      expect(shipgateModules(triage.loaded)).toContain('app/ci/log-triage.js');
      // adapters/host/install.js finds data/ci-causes.json in the installation.
      expect(shipgateModules(triage.loaded).filter((m) => (m.startsWith('adapters/') && m !== 'adapters/host/install.js') || m.startsWith('config/schema') || m === 'app/ci-triage.js')).toEqual([]);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('--help lists every registered command with its description, and each group its subcommands', async () => {
    const { buildProgram } = (await import(path.join(ROOT, 'dist', 'cli', 'main.js'))) as { buildProgram(): Promise<Command> };
    const program = await buildProgram();
    const names = program.commands.map((c) => c.name());
    // The seed workflows' commands, so an empty or truncated program cannot pass.
    expect(names).toEqual(expect.arrayContaining(['init', 'config', 'deploy', 'rollback', 'promote', 'status', 'health', 'window', 'breaker', 'killswitch', 'lock', 'audit', 'ci', 'demo']));
    const help = (await shipgate(['--help'], { cwd: dir })).stdout;
    const flat = help.replace(/\s+/g, ' ');
    for (const c of program.commands) {
      expect(help, c.name()).toMatch(new RegExp(`^  ${c.name()}\\b`, 'm'));
      expect(flat, c.name()).toContain(c.description().split(/\s+/).slice(0, 6).join(' '));
    }
    for (const group of program.commands.filter((c) => c.commands.length > 0)) {
      const sub = await shipgate([group.name(), '--help'], { cwd: dir });
      expect(sub.code, group.name()).toBe(0);
      for (const c of group.commands) expect(sub.stdout, `${group.name()} ${c.name()}`).toMatch(new RegExp(`^  ${c.name()}\\b`, 'm'));
    }
    // An option declared at registration shows without running the command.
    expect((await shipgate(['deploy', '--help'], { cwd: dir })).stdout).toContain('db-schema, strategy');
  });
});

describe('a command line loads only its own command group', () => {
  type Group = { names: readonly string[]; load: () => Promise<(p: Command) => void> };
  const main = () => import(path.join(ROOT, 'dist', 'cli', 'main.js')) as Promise<{ COMMAND_GROUPS: Group[]; commandGroupOf(argv: string[]): Group | undefined; buildProgram(argv?: string[]): Promise<Command> }>;

  it('each group\'s file registers exactly the commands the table names for it, and the groups cover the program', async () => {
    const { COMMAND_GROUPS, buildProgram } = await main();
    const { Command: CommandClass } = (await import('commander')) as { Command: new () => Command };
    for (const group of COMMAND_GROUPS) {
      const alone = new CommandClass();
      (await group.load())(alone);
      expect(alone.commands.map((c) => c.name()), group.names.join(',')).toEqual(group.names);
    }
    expect((await buildProgram()).commands.map((c) => c.name())).toEqual(COMMAND_GROUPS.flatMap((g) => g.names));
  });

  it('finds the command after the global options; help, a typo and no command load every group', async () => {
    const { commandGroupOf, buildProgram } = await main();
    const argv = (...a: string[]) => ['node', 'shipgate', ...a];
    expect(commandGroupOf(argv('-c', 'x.yml', '--json', 'health', 'prod'))?.names).toEqual(['status', 'health', 'logs']);
    expect(commandGroupOf(argv('--config', 'window', 'lock', 'status'))?.names).toEqual(['lock']);
    for (const a of [['--help'], ['wndow', 'check'], [], ['help', 'window']]) expect(commandGroupOf(argv(...a)), a.join(' ')).toBeUndefined();
    expect((await buildProgram(argv('window', 'check'))).commands.map((c) => c.name())).toEqual(['window']);
    // A typo still gets its suggestion, from every command.
    const typo = await shipgate(['wndow', 'check'], { cwd: dir });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('(Did you mean window?)');
  });
});

describe('install without better-sqlite3 (an optional dependency)', () => {
  let app: string;
  beforeAll(() => {
    // shipgate as `npm ci --omit=optional` leaves it: every package but better-sqlite3.
    app = path.join(dir, 'app');
    mkdirSync(path.join(app, 'node_modules'), { recursive: true });
    for (const part of ['bin', 'dist', 'package.json']) cpSync(path.join(ROOT, part), path.join(app, part), { recursive: true });
    const modules = realpathSync(path.join(ROOT, 'node_modules'));
    for (const name of readdirSync(modules).filter((n) => n !== 'better-sqlite3')) symlinkSync(path.join(modules, name), path.join(app, 'node_modules', name));
  });

  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const hasNodeSqlite = major > 22 || (major === 22 && minor >= 13);

  it(hasNodeSqlite ? 'Node >= 22.13 keeps its store in node:sqlite and never needs it' : 'Node < 22.13 says in one line what to install', () => {
    const r = spawnSync(process.execPath, [path.join(app, 'bin', 'shipgate'), 'status'], { cwd: dir, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', SHIPGATE_ACTOR: 'tester', SHIPGATE_SQLITE: '' } });
    if (hasNodeSqlite) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/^uat {2}current/m);
    } else {
      expect(r.status).toBe(1);
      expect(r.stderr).toBe(`error: Node ${major} needs better-sqlite3: run npm install better-sqlite3, or use Node ≥ 22.13.\n`);
      expect(r.stdout).toBe('');
    }
  });
});
