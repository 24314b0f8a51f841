// Checkouts of one repository by deploys of two environments at once (issue 11, robust tests): the
// full suite under a CPU hog failed `deploy qa` with "could not open .git/worktrees/<v>/locked":
// the other deploy's `git worktree prune` removed this one's half-made worktree entry.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localRunner } from '../src/adapters/runner/runner.js';
import { GitRepository } from '../src/adapters/vcs/git.js';

const ROUNDS = 25;

describe('git checkouts of one repository, side by side', () => {
  let dir: string;
  let repo: GitRepository;
  let commit: string;

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'shipgate-git-'));
    const repoDir = path.join(dir, 'repo');
    const git = (...args: string[]) => execFileSync('git', ['-C', repoDir, '-c', 'commit.gpgsign=false', ...args], { encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@shipgate.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@shipgate.invalid', GIT_CONFIG_NOSYSTEM: '1' } });
    execFileSync('git', ['init', '--quiet', repoDir]);
    writeFileSync(path.join(repoDir, 'VERSION'), 'v1\n');
    git('add', 'VERSION');
    git('commit', '--quiet', '-m', 'v1');
    commit = git('rev-parse', 'HEAD').trim();
    repo = new GitRepository(repoDir, localRunner);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(`checks one version out for two environments at once, ${ROUNDS} times, without failing either`, async () => {
    for (let i = 0; i < ROUNDS; i++) {
      // Same version, so the same worktree name (the directory's basename) in both.
      const targets = ['staging', 'qa'].map((env) => path.join(dir, 'releases', env, `2026.${i}.0`));
      const results = await Promise.allSettled(targets.map((t) => repo.checkout(t, commit)));
      expect(results.map((r) => (r.status === 'rejected' ? String((r.reason as Error).message) : 'ok')), `round ${i}`).toEqual(['ok', 'ok']);
      for (const t of targets) expect(readFileSync(path.join(t, 'VERSION'), 'utf8')).toBe('v1\n');
    }
  });
});
