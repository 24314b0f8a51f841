// Builds the demo git repository: base/ committed and tagged v1.0.0, then each
// overlay in releases/<tag>/ applied on top, committed and tagged.
// Usage: node build-repo.mjs <empty-or-absent-dir>
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { devNull } from 'node:os';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const BASE_TAG = 'v1.0.0';

const MESSAGES = {
  'v1.0.0': 'v1.0.0: signal service, paper execution gateway and orchestrator',
  'v1.1.0': 'v1.1.0: add notional limit check to order validation',
  'v1.2.0': 'v1.2.0: fix reference prices; add live-trading sector cap on order notional',
};

// Fixed dates keep commit SHAs identical across builds; one day per release.
const FIRST_COMMIT = Date.parse('2026-01-05T10:00:00Z');

function gitEnv(index) {
  const date = new Date(FIRST_COMMIT + index * 86_400_000).toISOString();
  const env = { ...process.env };
  // Inherited repo pointers (e.g. when run from a git hook) would redirect every command.
  for (const key of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_OBJECT_DIRECTORY', 'GIT_CEILING_DIRECTORIES']) delete env[key];
  return {
    ...env,
    // The user's own git config (signing, hooks, templates) must not leak into the demo.
    GIT_CONFIG_GLOBAL: devNull,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_AUTHOR_NAME: 'shipgate demo',
    GIT_AUTHOR_EMAIL: 'demo@shipgate.invalid',
    GIT_COMMITTER_NAME: 'shipgate demo',
    GIT_COMMITTER_EMAIL: 'demo@shipgate.invalid',
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_DATE: date,
  };
}

function git(dir, index, args) {
  return execFileSync(
    'git',
    ['-c', 'init.defaultBranch=main', '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', '-c', 'core.autocrlf=false', '-C', dir, ...args],
    { env: gitEnv(index), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
}

// Type declarations sit next to the sources for the TypeScript tests; they are not part of the stack.
const copyFilter = (src) => !src.endsWith('.d.mts');

/** Returns { dir, tags, commits: { [tag]: sha } }. */
export async function buildDemoRepo(dir, { releases = ['v1.0.0', 'v1.1.0'] } = {}) {
  if (releases[0] !== BASE_TAG) throw new Error(`releases must start with ${BASE_TAG} (the base tree)`);
  for (const tag of releases.slice(1)) {
    if (!/^v\d+\.\d+\.\d+$/.test(tag)) throw new Error(`bad release tag: ${tag}`);
    if (!existsSync(resolve(HERE, 'releases', tag))) throw new Error(`no overlay for ${tag} in ${resolve(HERE, 'releases')}`);
  }
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty`);
  mkdirSync(target, { recursive: true });

  git(target, 0, ['init', '-q']);
  const commits = {};
  for (const [index, tag] of releases.entries()) {
    const source = index === 0 ? resolve(HERE, 'base') : resolve(HERE, 'releases', tag);
    cpSync(source, target, { recursive: true, filter: copyFilter });
    git(target, index, ['add', '-A']);
    git(target, index, ['commit', '-q', '--no-verify', '-m', MESSAGES[tag] ?? `${tag}: release`]);
    git(target, index, ['tag', '-a', tag, '-m', `shipgate demo release ${tag}`]);
    commits[tag] = git(target, index, ['rev-parse', 'HEAD']);
  }
  return { dir: target, tags: [...releases], commits };
}

function isMain() {
  try {
    return process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url;
  } catch {
    return false;
  }
}

if (isMain()) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node build-repo.mjs <empty-or-absent-dir>');
    process.exit(2);
  }
  try {
    console.log(JSON.stringify(await buildDemoRepo(dir), null, 2));
  } catch (err) {
    console.error(`build-repo: ${err.message}`);
    process.exit(1);
  }
}
