import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test', GIT_AUTHOR_EMAIL: 'test@shipgate.invalid',
  GIT_COMMITTER_NAME: 'test', GIT_COMMITTER_EMAIL: 'test@shipgate.invalid',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** Commits `files` (path -> content) on top of `base` and tags the result, for one-off broken releases. */
export function addRelease(repoDir: string, base: string, tag: string, files: Record<string, string>): void {
  const git = (...args: string[]) => execFileSync('git', ['-C', repoDir, '-c', 'commit.gpgsign=false', '-c', 'tag.gpgsign=false', ...args], { env: GIT_ENV, encoding: 'utf8' });
  git('checkout', '--quiet', '--detach', base);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(repoDir, file)), { recursive: true });
    writeFileSync(path.join(repoDir, file), content);
  }
  git('add', '-A');
  git('commit', '--quiet', '-m', `${tag}: test release`);
  git('tag', '-a', tag, '-m', tag);
}
