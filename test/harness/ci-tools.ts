// Runs real CI tools on small broken projects and captures what they print, so the triage tests read
// real output, never hand-typed text. Python tools come from Debian (scripts/ensure-system-deps.sh);
// tsc and vitest from the project's node_modules; eslint, prettier and jest (not project dependencies)
// are installed once, pinned, into a private cache directory outside the repository; so is ruff (not
// in Debian), by pip from the package index the machine is configured with.
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './cli.js';

export interface Capture {
  /** stdout and stderr interleaved as a terminal shows them. */
  output: string;
  exitCode: number;
}

export const NPM_TOOLS = { eslint: '9.39.5', prettier: '3.10.1', jest: '29.7.0' } as const;
const TOOLS_DIR = path.join(os.tmpdir(), 'shipgate-ci-tools-v1');

/** eslint, prettier and jest at pinned versions, installed on first use into a cache dir (never into the repo). */
export function npmToolBin(name: keyof typeof NPM_TOOLS): string {
  const bin = path.join(TOOLS_DIR, 'node_modules', '.bin', name);
  if (!Object.keys(NPM_TOOLS).every((t) => existsSync(path.join(TOOLS_DIR, 'node_modules', '.bin', t)))) {
    mkdirSync(TOOLS_DIR, { recursive: true });
    execFileSync('npm', ['install', '--prefix', TOOLS_DIR, '--no-audit', '--no-fund', '--no-save', ...Object.entries(NPM_TOOLS).map(([n, v]) => `${n}@${v}`)], { stdio: 'ignore', timeout: 300_000 });
  }
  return bin;
}

export const PIP_TOOLS = { ruff: '0.16.9' } as const;

/** ruff at a pinned version, installed on first use by pip (--target: no virtualenv, nothing system-wide) into the cache dir. */
export function pipToolBin(name: keyof typeof PIP_TOOLS): string {
  const dir = path.join(TOOLS_DIR, 'pip');
  const bin = path.join(dir, 'bin', name);
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    execFileSync(debianTool('python3'), ['-m', 'pip', 'install', '--no-deps', '--disable-pip-version-check', '--target', dir, `${name}==${PIP_TOOLS[name]}`], { stdio: 'ignore', timeout: 300_000, env: { ...process.env, PIP_BREAK_SYSTEM_PACKAGES: '1' } });
  }
  return bin;
}

/** A package tarball made by the real `npm pack` from a package.json, in `into`; returns its path. */
export function npmPack(into: string, pkg: { name: string; version: string } & Record<string, unknown>): string {
  const src = path.join(into, `${pkg.name}-src`);
  mkdirSync(src, { recursive: true });
  writeFileSync(path.join(src, 'package.json'), JSON.stringify(pkg));
  const file = execFileSync('npm', ['pack', '--silent', '--pack-destination', into], { cwd: src, encoding: 'utf8' }).trim();
  return path.join(into, file);
}

export function debianTool(name: string): string {
  const p = `/usr/bin/${name}`;
  if (!existsSync(p)) throw new Error(`${p} is missing: run scripts/ensure-system-deps.sh (installs ${name} from Debian)`);
  return p;
}

/** Runs argv in cwd with stdout and stderr into one file, as a CI log has them. */
export function capture(argv: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000): Promise<Capture> {
  const out = path.join(cwd, `.capture-${process.pid}-${Math.random().toString(36).slice(2)}.log`);
  const fd = openSync(out, 'w');
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { ...process.env, CI: 'true', ...env }, stdio: ['ignore', fd, fd] });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      closeSync(fd);
      resolve({ output: readFileSync(out, 'utf8'), exitCode: code ?? (signal === 'SIGKILL' ? 137 : 1) });
    });
  });
}

export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
}

export function linkProjectModules(dir: string): void {
  if (!existsSync(path.join(dir, 'node_modules'))) symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
}

// ---- the three log shapes ---------------------------------------------------------------------

function stamp(i: number): string {
  return new Date(Date.UTC(2024, 4, 1, 10, 0, 0) + i * 7).toISOString().replace('Z', '0000Z');
}

/**
 * A raw GitHub job log around one tool's output: set-up, a checkout step that passed, the failing
 * `run:` step as the runner echoes it, the output, and the runner's exit-code line.
 */
export function asGithubLog(script: string, output: string, exitCode: number, runnerLines: string[] = []): string {
  const lines: string[] = [
    "Current runner version: '2.321.0'",
    '##[group]Operating System',
    'Ubuntu',
    '22.04.5',
    '##[endgroup]',
    '##[group]Run actions/checkout@v4',
    'with:',
    '  repository: acme/shop',
    '##[endgroup]',
    'Syncing repository: acme/shop',
    `##[group]Run ${script.split('\n')[0]}`,
    ...script.split('\n').map((l) => `\u001b[36;1m${l}\u001b[0m`),
    'shell: /usr/bin/bash -e {0}',
    'env:',
    '  CI: true',
    '##[endgroup]',
    ...output.replace(/\n$/, '').split('\n'),
    ...runnerLines,
    ...(exitCode !== 0 ? [`##[error]Process completed with exit code ${exitCode}.`] : []),
    'Post job cleanup.',
    'Cleaning up orphan processes',
  ];
  return '\uFEFF' + lines.map((l, i) => `${stamp(i)} ${l}`).join('\n') + '\n';
}

/** `gh run view --log-failed`: the failed step's lines, each prefixed with job and step. */
export function asGhLogFailed(job: string, raw: string): string {
  const lines = raw.replace(/^\uFEFF/, '').split('\n').filter((l) => l !== '');
  const start = lines.findIndex((l, i) => / ##\[group\]Run /.test(l) && i > 6);
  const step = / ##\[group\](Run .*)$/.exec(lines[start]!)![1]!;
  return lines.slice(start).filter((l) => !/Post job cleanup|Cleaning up orphan/.test(l)).map((l) => `${job}\t${step}\t${l}`).join('\n') + '\n';
}

// ---- local stand-ins for registries (real npm and pip talk to them) -----------------------------------

/** An npm registry or PyPI simple index that knows no package: every request is answered 404. */
export async function emptyRegistry(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    res.writeHead(404, { 'content-type': req.url?.includes('/simple') ? 'text/html' : 'application/json' });
    res.end(req.url?.includes('/simple') ? '<html><body>Not Found</body></html>' : '{"error":"Not found"}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}
