import type { Argv } from '../runner/runner.js';

// Pure builders: tests assert these argv arrays exactly. `--end-of-options` keeps a version
// that starts with "-" from ever being read as an option, on top of the syntax check.
export const gitCommands = {
  resolveCommit: (repo: string, version: string): Argv => ['git', '-C', repo, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${version}^{commit}`],
  worktreeAdd: (repo: string, dir: string, commit: string): Argv => ['git', '-C', repo, 'worktree', 'add', '--force', '--detach', dir, commit],
  worktreeRemove: (repo: string, dir: string): Argv => ['git', '-C', repo, 'worktree', 'remove', '--force', dir],
  worktreePrune: (repo: string): Argv => ['git', '-C', repo, 'worktree', 'prune'],
  headCommit: (dir: string): Argv => ['git', '-C', dir, 'rev-parse', 'HEAD'],
  changedPaths: (repo: string, fromCommit: string, toCommit: string): Argv => ['git', '-C', repo, 'diff', '--name-only', '--no-renames', fromCommit, toCommit, '--'],
  addedPaths: (repo: string, fromCommit: string, toCommit: string): Argv => ['git', '-C', repo, 'diff', '--name-only', '--no-renames', '--diff-filter=A', fromCommit, toCommit, '--'],
  fileExists: (repo: string, commit: string, file: string): Argv => ['git', '-C', repo, 'cat-file', '-e', `${commit}:${file}`],
  logOneline: (repo: string, fromCommit: string | undefined, toCommit: string): Argv => ['git', '-C', repo, 'log', '--oneline', '--no-decorate', fromCommit ? `${fromCommit}..${toCommit}` : toCommit, '--'],
  lastTagBefore: (repo: string, commit: string): Argv => ['git', '-C', repo, 'describe', '--tags', '--abbrev=0', `${commit}^`],
  tagAnnotated: (repo: string, tag: string, commit: string, message: string): Argv => ['git', '-C', repo, 'tag', '--annotate', '--force', '--message', message, tag, commit],
  tagType: (repo: string, tag: string): Argv => ['git', '-C', repo, 'cat-file', '-t', `refs/tags/${tag}`],
  pushTag: (repo: string, remote: string, tag: string): Argv => ['git', '-C', repo, 'push', '--force', remote, `refs/tags/${tag}`],
  remoteUrl: (repo: string, remote: string): Argv => ['git', '-C', repo, 'remote', 'get-url', remote],
  userName: (repo: string): Argv => ['git', '-C', repo, 'config', 'user.name'],
};
